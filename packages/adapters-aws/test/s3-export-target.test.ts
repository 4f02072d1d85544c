import { isBatonError } from '@baton/ledger'
import { describeExportTarget } from '@baton/ledger/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createS3ExportTarget, type S3ExportTarget } from '../src/index.js'
import { type LocalS3, startLocalS3 } from './support/local-s3.js'

const BUCKET = 'exports'
let s3: LocalS3
let n = 0
beforeAll(async () => {
  s3 = await startLocalS3()
  await s3.createBucket(BUCKET)
})
afterAll(async () => {
  await s3?.close()
})

describeExportTarget('S3 (s3rver behind the conditional-write proxy, 5 MiB parts)', {
  create: async () =>
    createS3ExportTarget({
      ...s3.clientConfig,
      bucket: BUCKET,
      prefix: `suite/${n++}`,
      partBytes: 5 * 1024 * 1024,
    }),
  dispose: async (target) => (target as S3ExportTarget).close(),
  largeMiB: 24,
})

describe('S3 export target', () => {
  it('puts bundles under Object Lock retention, create-only; manifest objects unlocked', async () => {
    const client = s3.client()
    const sent: { method: string; path: string; headers: Record<string, string> }[] = []
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as {
          method: string
          path: string
          headers: Record<string, string>
        }
        sent.push({ method: request.method, path: request.path, headers: { ...request.headers } })
        return next(args)
      },
      { step: 'finalizeRequest', name: 'recordRequests' },
    )
    const now = Date.parse('2026-01-01T00:00:00Z')
    const target = createS3ExportTarget({
      client,
      bucket: BUCKET,
      prefix: 'locked',
      objectLock: { mode: 'COMPLIANCE', days: 30 },
      now: () => now,
    })
    await target.put('bundles/2026-01-01.jsonl', new TextEncoder().encode('{"a":1}\n'))
    await target.put('manifest/0000.json', new TextEncoder().encode('{}'))
    const bundle = sent.find(
      (r) => r.method === 'PUT' && r.path.endsWith('/locked/bundles/2026-01-01.jsonl'),
    )!
    expect(bundle.headers['x-amz-object-lock-mode']).toBe('COMPLIANCE')
    expect(bundle.headers['x-amz-object-lock-retain-until-date']).toBe('2026-01-31T00:00:00Z')
    expect(bundle.headers['if-none-match']).toBe('*')
    const manifest = sent.find(
      (r) => r.method === 'PUT' && r.path.endsWith('/locked/manifest/0000.json'),
    )!
    expect(manifest.headers['if-none-match']).toBe('*')
    expect(manifest.headers['x-amz-object-lock-mode']).toBeUndefined()
    // Create-only: the same bundle again is a typed conflict, never an overwrite.
    const again = await target
      .put('bundles/2026-01-01.jsonl', new TextEncoder().encode('{"b":2}\n'))
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isBatonError(again, 'CONFLICT')).toBe(true)
    await target.close()
  })

  it('refuses a bad Object Lock configuration naming the field', () => {
    for (const [objectLock, path] of [
      [{ mode: 'FOREVER', days: 1 }, 'objectLock.mode'],
      [{ mode: 'GOVERNANCE', days: 0 }, 'objectLock.days'],
    ] as const) {
      let thrown: unknown
      try {
        createS3ExportTarget({
          ...s3.clientConfig,
          bucket: BUCKET,
          objectLock: objectLock as never,
        })
      } catch (e) {
        thrown = e
      }
      expect(thrown, path).toMatchObject({ path })
    }
  })
})
