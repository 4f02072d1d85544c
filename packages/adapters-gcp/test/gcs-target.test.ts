import { isBatonError, readExportObject } from '@baton/ledger'
import { describeExportTarget } from '@baton/ledger/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGcsTarget, type GcsTarget } from '../src/gcs-target.js'
import { freshPrefix, type GcsEmulator, startGcsEmulator } from './support/gcs-emulator.js'

let emulator: GcsEmulator
beforeAll(async () => {
  emulator = await startGcsEmulator()
})
afterAll(async () => {
  await emulator?.stop()
})

const target = (extra: object = {}): GcsTarget =>
  createGcsTarget({
    bucket: 'baton-exports',
    prefix: freshPrefix(),
    endpoint: emulator.endpoint,
    ...extra,
  })

describeExportTarget('gcs (emulator + precondition proxy)', {
  create: async () => target(),
  dispose: async (t) => (t as GcsTarget).close(),
  largeMiB: 16,
})

describe('gcs export target', () => {
  it('sends ifGenerationMatch=0 on every put, and maps the 412 to CONFLICT', async () => {
    const t = target()
    const before = emulator.requests.length
    await t.put('manifest/00000000000000000000.json', Buffer.from('{}'))
    const error = await t
      .put('manifest/00000000000000000000.json', Buffer.from('x'))
      .catch((e: unknown) => e)
    expect(isBatonError(error, 'CONFLICT')).toBe(true)
    const uploads = emulator.requests.slice(before).filter((r) => r.url.startsWith('/upload/'))
    expect(uploads).toHaveLength(2)
    for (const u of uploads)
      expect(new URL(u.url, 'http://x').searchParams.get('ifGenerationMatch')).toBe('0')
    expect((await readExportObject(t, 'manifest/00000000000000000000.json')).toString()).toBe('{}')
  })

  it('creates objects under the configured hold', async () => {
    const t = target({ hold: 'event-based' })
    const before = emulator.requests.length
    await t.put('bundles/a.jsonl', Buffer.from('a'))
    const upload = emulator.requests.slice(before).find((r) => r.url.startsWith('/upload/'))
    expect(upload?.bodyHead).toContain('"eventBasedHold":true')
    const plain = target()
    const before2 = emulator.requests.length
    await plain.put('bundles/b.jsonl', Buffer.from('b'))
    const upload2 = emulator.requests.slice(before2).find((r) => r.url.startsWith('/upload/'))
    expect(upload2?.bodyHead).not.toContain('Hold')
  })

  it('cannot delete a held object until the hold is released', async () => {
    for (const hold of ['temporary', 'event-based'] as const) {
      const t = target({ hold })
      await t.put('bundles/held.jsonl', Buffer.from('held'))
      const refused = await t.delete('bundles/held.jsonl').catch((e: unknown) => e)
      expect(isBatonError(refused, 'IO'), String(refused)).toBe(true)
      expect(String(refused)).toContain('hold')
      expect(await t.head('bundles/held.jsonl')).toEqual({ size: 4 })
      await t.releaseHold('bundles/held.jsonl')
      await t.delete('bundles/held.jsonl')
      expect(await t.head('bundles/held.jsonl')).toBeUndefined()
    }
    const missing = await target()
      .releaseHold('nothing.json')
      .catch((e: unknown) => e)
    expect(isBatonError(missing, 'NOT_FOUND'), String(missing)).toBe(true)
  })

  it("sets the bucket's retention policy, which then refuses deletes of young objects", async () => {
    const t = createGcsTarget({
      bucket: 'baton-retained',
      prefix: freshPrefix(),
      endpoint: emulator.endpoint,
    })
    await t.setRetentionPolicy(3600)
    const patch = emulator.requests.filter(
      (r) => r.method === 'PATCH' && r.url.startsWith('/storage/v1/b/baton-retained?'),
    )
    expect(patch).toHaveLength(1)
    await t.put('manifest/00000000000000000000.json', Buffer.from('{}'))
    const refused = await t.delete('manifest/00000000000000000000.json').catch((e: unknown) => e)
    expect(isBatonError(refused, 'IO'), String(refused)).toBe(true)
    expect(String(refused)).toContain('retention policy')
    const bad = await t.setRetentionPolicy(0).catch((e: unknown) => e)
    expect((bad as { path: string }).path).toBe('seconds')
  })

  it('keeps the prefix out of keys and apart from other prefixes', async () => {
    const a = target()
    const b = createGcsTarget({
      bucket: 'baton-exports',
      prefix: `${a.prefix}-other`,
      endpoint: emulator.endpoint,
    })
    await a.put('k', Buffer.from('a'))
    await b.put('k', Buffer.from('b'))
    const keys: string[] = []
    for await (const k of a.list('')) keys.push(k)
    expect(keys).toEqual(['k'])
    expect(a.location).toBe(`gs://baton-exports/${a.prefix}`)
  })

  it('maps server failures to IO with the cause', async () => {
    const t = createGcsTarget({
      bucket: 'baton-exports',
      prefix: freshPrefix(),
      endpoint: emulator.endpoint,
    })
    emulator.fail(10, 403, (m, u) => m === 'DELETE' && u.includes(encodeURIComponent(t.prefix)))
    const error = await t.delete('held.json').catch((e: unknown) => e)
    expect(isBatonError(error, 'IO')).toBe(true)
    expect(String(error)).toContain('hold')
  })

  it('refuses bad options with INVALID_CONFIG naming the field', () => {
    for (const [options, field] of [
      [{ bucket: 'UPPER' }, 'bucket'],
      [{ bucket: 'ok-bucket', prefix: '/abs' }, 'prefix'],
      [{ bucket: 'ok-bucket', prefix: 'a//b' }, 'prefix'],
      [{ bucket: 'ok-bucket', hold: 'forever' }, 'hold'],
      [{ bucket: 'ok-bucket', endpoint: 'ftp://x' }, 'endpoint'],
    ] as const) {
      let error: unknown
      try {
        createGcsTarget(options as never)
      } catch (e) {
        error = e
      }
      expect(isBatonError(error, 'INVALID_CONFIG'), String(error)).toBe(true)
      expect((error as { path: string }).path).toBe(field)
    }
  })
})
