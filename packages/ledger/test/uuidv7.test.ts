import { describe, expect, it } from 'vitest'
import { createUuidv7, isReceiptId } from '../src/index.js'

/** A deterministic byte source (xorshift32) counting how many bytes it gave. */
function seeded(seed: number) {
  let x = seed >>> 0 || 1
  const source = {
    drawn: 0,
    fill(bytes: Uint8Array) {
      for (let i = 0; i < bytes.length; i++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        bytes[i] = x & 0xff
      }
      source.drawn += bytes.length
    },
  }
  return source
}

describe('createUuidv7', () => {
  it('mints version 7, RFC 9562 variant ids carrying the millisecond', () => {
    const ids = createUuidv7()
    const ms = Date.UTC(2026, 10, 23, 12, 0, 0, 123)
    const id = ids(ms)
    expect(isReceiptId(id)).toBe(true)
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ms)
    expect(id[14]).toBe('7')
    expect('89ab').toContain(id[19])
  })

  it('is deterministic for the same byte source and differs for another', () => {
    const a = createUuidv7(seeded(7).fill)
    const b = createUuidv7(seeded(7).fill)
    const c = createUuidv7(seeded(8).fill)
    const times = [5, 5, 6, 1_000, 1_000, 2_000]
    const idsA = times.map((t) => a(t))
    expect(times.map((t) => b(t))).toEqual(idsA)
    expect(times.map((t) => c(t))).not.toEqual(idsA)
  })

  it('only grows: same millisecond, a clock going back, and 4,096 ids in one millisecond', () => {
    const ids = createUuidv7(seeded(1).fill)
    const out: string[] = []
    for (let i = 0; i < 5_000; i++) out.push(ids(1_000))
    out.push(ids(10)) // the clock went back
    out.push(ids(999))
    const sorted = [...out].sort()
    expect(out).toEqual(sorted)
    expect(new Set(out).size).toBe(out.length)
    // The 4,097th id of millisecond 1000 borrowed millisecond 1001.
    const msOf = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
    expect(msOf(out[4_095]!)).toBe(1_000)
    expect(msOf(out[4_096]!)).toBe(1_001)
    expect(msOf(out.at(-1)!)).toBe(1_001)
  })

  it('draws random bytes 512 ids at a time', () => {
    const source = seeded(3)
    const ids = createUuidv7(source.fill)
    ids(1)
    expect(source.drawn).toBe(4_096)
    for (let i = 0; i < 511; i++) ids(1 + i)
    expect(source.drawn).toBe(4_096)
    ids(600)
    expect(source.drawn).toBe(8_192)
  })
})
