/**
 * The export target conformance suite: the behaviour every
 * {@link ExportTarget} must show (create-only puts under concurrency,
 * streamed bodies, listing order and prefixes, deletes, missing keys), as
 * vitest tests.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { isBatonError } from '../errors.js'
import type { ExportTarget } from '../export-target.js'

/** Options for {@link describeExportTarget}. */
export interface ExportTargetSuiteOptions {
  /** Returns a fresh, empty target. */
  create(): Promise<ExportTarget>
  /** Called once per target after its test, e.g. to delete its files. */
  dispose?(target: ExportTarget): Promise<void>
  /** Size of the large streamed body test in MiB; default 64. */
  readonly largeMiB?: number
}

async function bytesOf(target: ExportTarget, key: string): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of target.get(key)) {
    expect(chunk).toBeInstanceOf(Uint8Array)
    parts.push(Buffer.from(chunk))
  }
  return Buffer.concat(parts)
}

async function keysOf(target: ExportTarget, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const key of target.list(prefix)) out.push(key)
  return out
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<unknown> {
  const error = await errorOf(promise)
  expect(isBatonError(error, code), `expected a ${code} error, got ${String(error)}`).toBe(true)
  return error
}

/** Deterministic pseudo-random bytes (xorshift), so large bodies need no memory to check. */
function* pattern(totalBytes: number, chunkBytes: number, seed: number): Generator<Uint8Array> {
  let x = seed | 1
  for (let done = 0; done < totalBytes; done += chunkBytes) {
    const chunk = new Uint8Array(Math.min(chunkBytes, totalBytes - done))
    for (let i = 0; i < chunk.length; i += 4) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      chunk[i] = x & 0xff
      if (i + 1 < chunk.length) chunk[i + 1] = (x >>> 8) & 0xff
      if (i + 2 < chunk.length) chunk[i + 2] = (x >>> 16) & 0xff
      if (i + 3 < chunk.length) chunk[i + 3] = (x >>> 24) & 0xff
    }
    yield chunk
  }
}

/**
 * Registers the conformance tests for an {@link ExportTarget} implementation.
 *
 * @example
 * ```ts
 * describeExportTarget('memory', { create: async () => createMemoryTarget() })
 * ```
 */
export function describeExportTarget(name: string, options: ExportTargetSuiteOptions): void {
  describe(`ExportTarget conformance: ${name}`, () => {
    const created: ExportTarget[] = []
    const fresh = async (): Promise<ExportTarget> => {
      const target = await options.create()
      created.push(target)
      return target
    }
    afterEach(async () => {
      for (const t of created.splice(0)) await options.dispose?.(t)
    })

    it('starts empty and reports missing keys', async () => {
      const t = await fresh()
      expect(typeof t.location).toBe('string')
      expect(await keysOf(t, '')).toEqual([])
      expect(await t.head('nope/x.json')).toBeUndefined()
      const error = await expectCode(bytesOf(t, 'nope/x.json'), 'NOT_FOUND')
      expect((error as { key?: string }).key).toBe('nope/x.json')
      await t.delete('nope/x.json') // deleting a missing key is not an error
    })

    it('stores bytes, iterables and async iterables exactly, including empty bodies', async () => {
      const t = await fresh()
      await t.put('a/bytes.bin', new Uint8Array([1, 2, 3]))
      await t.put('a/iter.bin', [Buffer.from('he'), Buffer.from('llo')])
      await t.put(
        'a/async.bin',
        (async function* () {
          yield Buffer.from('wor')
          yield new Uint8Array(0)
          yield Buffer.from('ld')
        })(),
      )
      await t.put('a/empty.bin', new Uint8Array(0))
      expect([...(await bytesOf(t, 'a/bytes.bin'))]).toEqual([1, 2, 3])
      expect((await bytesOf(t, 'a/iter.bin')).toString()).toBe('hello')
      expect((await bytesOf(t, 'a/async.bin')).toString()).toBe('world')
      expect((await bytesOf(t, 'a/empty.bin')).length).toBe(0)
      expect(await t.head('a/iter.bin')).toEqual({ size: 5 })
      expect(await t.head('a/empty.bin')).toEqual({ size: 0 })
    })

    it('copies what it keeps: a body may refill one buffer for every chunk', async () => {
      const t = await fresh()
      const shared = Buffer.alloc(4096)
      await t.put(
        'reused.bin',
        (async function* () {
          for (let i = 0; i < 300; i++) {
            shared.fill(i % 251)
            yield shared
          }
        })(),
      )
      const got = await bytesOf(t, 'reused.bin')
      expect(got.length).toBe(300 * 4096)
      for (let i = 0; i < 300; i++) expect(got[i * 4096 + 17], `chunk ${i}`).toBe(i % 251)
    })

    it('is create-only: a second put conflicts and changes nothing', async () => {
      const t = await fresh()
      await t.put('k.json', Buffer.from('first'))
      const error = await expectCode(t.put('k.json', Buffer.from('second, longer')), 'CONFLICT')
      expect((error as { key?: string }).key).toBe('k.json')
      expect((await bytesOf(t, 'k.json')).toString()).toBe('first')
      expect(await t.head('k.json')).toEqual({ size: 5 })
      expect(await keysOf(t, '')).toEqual(['k.json'])
    })

    it('lets exactly one of many concurrent puts of a key win', async () => {
      const t = await fresh()
      const bodies = Array.from({ length: 12 }, (_, i) => Buffer.from(`writer ${i} `.repeat(i + 1)))
      const results = await Promise.allSettled(bodies.map((b) => t.put('race/one.bin', b)))
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
      expect(won).toHaveLength(1)
      for (const r of results) {
        if (r.status === 'rejected') expect(isBatonError(r.reason, 'CONFLICT')).toBe(true)
      }
      expect((await bytesOf(t, 'race/one.bin')).equals(bodies[won[0]!]!)).toBe(true)
      expect(await keysOf(t, 'race/')).toEqual(['race/one.bin'])
    })

    it('stores nothing when the body fails part way', async () => {
      const t = await fresh()
      const boom = new Error('source failed')
      const error = await errorOf(
        t.put(
          'partial.bin',
          (async function* () {
            yield Buffer.alloc(100_000, 1)
            throw boom
          })(),
        ),
      )
      expect(error).toBe(boom)
      expect(await t.head('partial.bin')).toBeUndefined()
      expect(await keysOf(t, '')).toEqual([])
      await t.put('partial.bin', Buffer.from('ok'))
      expect((await bytesOf(t, 'partial.bin')).toString()).toBe('ok')
    })

    it('streams a large body in and out', async () => {
      const t = await fresh()
      const mib = options.largeMiB ?? 64
      const total = mib * 1024 * 1024
      const want = createHash('sha256')
      for (const chunk of pattern(total, 1 << 20, 7)) want.update(chunk)
      await t.put(
        'big/blob.bin',
        (async function* () {
          yield* pattern(total, 1 << 20, 7)
        })(),
      )
      expect(await t.head('big/blob.bin')).toEqual({ size: total })
      const got = createHash('sha256')
      let size = 0
      for await (const chunk of t.get('big/blob.bin')) {
        got.update(chunk)
        size += chunk.length
      }
      expect(size).toBe(total)
      expect(got.digest('hex')).toBe(want.digest('hex'))
    }, 120_000)

    it('lists keys in byte order, by plain string prefix', async () => {
      const t = await fresh()
      const keys = [
        'manifest/00000000000000000002.json',
        'manifest/00000000000000000000.json',
        'manifest/00000000000000000010.json',
        'manifest/00000000000000000001.json',
        'bundles/00000000000000000000-2026-01-25-aa.jsonl',
        'bundles/00000000000000000100-2026-01-26-bb.jsonl.gz',
        'a-b',
        'a/x',
        'a/y/z',
        'ab',
        'B',
        'é.txt',
      ]
      for (const k of keys) await t.put(k, Buffer.from(k))
      const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      expect(await keysOf(t, '')).toEqual(sorted)
      expect(await keysOf(t, 'manifest/')).toEqual([
        'manifest/00000000000000000000.json',
        'manifest/00000000000000000001.json',
        'manifest/00000000000000000002.json',
        'manifest/00000000000000000010.json',
      ])
      expect(await keysOf(t, 'manifest/0000000000000000000')).toHaveLength(3)
      expect(await keysOf(t, 'a')).toEqual(['a-b', 'a/x', 'a/y/z', 'ab'])
      expect(await keysOf(t, 'a/')).toEqual(['a/x', 'a/y/z'])
      expect(await keysOf(t, 'a/y/z')).toEqual(['a/y/z'])
      expect(await keysOf(t, 'bundles/00000000000000000100-')).toEqual([
        'bundles/00000000000000000100-2026-01-26-bb.jsonl.gz',
      ])
      expect(await keysOf(t, 'zzz/')).toEqual([])
      expect(await keysOf(t, 'manifest/nothing')).toEqual([])
    })

    it('deletes objects; the key can then be created again', async () => {
      const t = await fresh()
      await t.put('d/one', Buffer.from('1'))
      await t.put('d/two', Buffer.from('2'))
      await t.delete('d/one')
      expect(await t.head('d/one')).toBeUndefined()
      await expectCode(bytesOf(t, 'd/one'), 'NOT_FOUND')
      expect(await keysOf(t, 'd/')).toEqual(['d/two'])
      await t.delete('d/one')
      await t.put('d/one', Buffer.from('again'))
      expect((await bytesOf(t, 'd/one')).toString()).toBe('again')
    })

    it('refuses malformed keys with an error naming key, storing nothing', async () => {
      const t = await fresh()
      for (const key of ['', '/abs', 'a//b', 'a/../b', '..', './a', 'a/', 'a\\b', 'a\0b']) {
        const error = await expectCode(t.put(key, Buffer.from('x')), 'INVALID_INPUT')
        expect((error as { path?: string }).path, JSON.stringify(key)).toBe('key')
        await expectCode(t.head(key), 'INVALID_INPUT')
        await expectCode(t.delete(key), 'INVALID_INPUT')
        await expectCode(bytesOf(t, key), 'INVALID_INPUT')
      }
      expect(await keysOf(t, '')).toEqual([])
    })
  })
}
