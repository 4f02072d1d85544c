import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createRandom } from '../src/memory/random.js'

const draws = (seed: number | string, n = 20) => {
  const r = createRandom(seed)
  return Array.from({ length: n }, () => r.next())
}

describe('createRandom', () => {
  it('is deterministic by seed, and different seeds differ', () => {
    expect(draws(1)).toEqual(draws(1))
    expect(draws('drill-7')).toEqual(draws('drill-7'))
    expect(draws(1)).not.toEqual(draws(2))
    expect(draws(0)).not.toEqual(draws(2 ** 32))
    expect(draws('a')).not.toEqual(draws('b'))
    expect(createRandom().seed).toBe(createRandom(0).seed)
  })

  it('draws in [0, 1) with a roughly uniform spread', () => {
    const r = createRandom(99)
    const buckets = new Array<number>(10).fill(0)
    for (let i = 0; i < 20_000; i++) {
      const x = r.next()
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
      buckets[Math.floor(x * 10)]!++
    }
    for (const b of buckets) {
      expect(b).toBeGreaterThan(1_700)
      expect(b).toBeLessThan(2_300)
    }
  })

  it('int, chance, pick and weighted stay in range', () => {
    const r = createRandom(5)
    for (let i = 0; i < 1_000; i++) {
      const n = r.int(7)
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true)
      expect(['x', 'y']).toContain(r.pick(['x', 'y']))
    }
    expect(r.chance(0)).toBe(false)
    expect(r.chance(-1)).toBe(false)
    expect(r.chance(1)).toBe(true)
    expect(r.chance(Number.NaN)).toBe(false)
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 }
    for (let i = 0; i < 10_000; i++) counts[r.weighted({ c: 0, b: 3, a: 1 })!]!++
    expect(counts.c).toBe(0)
    expect(counts.b! / counts.a!).toBeGreaterThan(2.5)
    expect(counts.b! / counts.a!).toBeLessThan(3.5)
    expect(r.weighted({ a: 0, b: -1, c: Number.NaN })).toBeUndefined()
    expect(r.weighted({})).toBeUndefined()
  })

  it('weighted ignores key order', () => {
    const a = createRandom(3)
    const b = createRandom(3)
    for (let i = 0; i < 100; i++) {
      expect(a.weighted({ x: 1, y: 2, z: 3 })).toBe(b.weighted({ z: 3, x: 1, y: 2 }))
    }
  })

  it('forks are deterministic and independent of later parent draws', () => {
    const p1 = createRandom(11)
    const p2 = createRandom(11)
    const f1 = p1.fork('probes')
    const f2 = p2.fork('probes')
    p1.next()
    expect([f1.next(), f1.next()]).toEqual([f2.next(), f2.next()])
    expect(createRandom(11).fork('a').next()).not.toBe(createRandom(11).fork('b').next())
  })

  it('refuses bad arguments with errors naming them', () => {
    for (const [f, path] of [
      [() => createRandom(1.5), 'seed'],
      [() => createRandom(Number.NaN), 'seed'],
      [() => createRandom(0).int(0), 'maxExclusive'],
      [() => createRandom(0).pick([]), 'items'],
    ] as const) {
      let error: unknown
      try {
        f()
      } catch (e) {
        error = e
      }
      expect(isBatonError(error, 'INVALID_CONFIG')).toBe(true)
      expect((error as { path: string }).path).toBe(path)
    }
  })
})
