import { isBatonError } from '@baton/ledger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLedger, openTarget, s3Location } from '../src/cli.js'
import { LOCAL_CREDENTIALS, type LocalS3, startLocalS3 } from './support/local-s3.js'

const BUCKET = 'cli-entry'
let s3: LocalS3
beforeAll(async () => {
  s3 = await startLocalS3()
  await s3.createBucket(BUCKET)
})
afterAll(async () => {
  await s3?.close()
})

const env = {
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
}

describe('the ./cli entry', () => {
  it('reads bucket, prefix, region and credentials from the URL and the environment', () => {
    expect(
      s3Location(new URL('s3://audit/baton/orders%20eu/'), {
        name: '<dir>',
        env: { ...env, AWS_SESSION_TOKEN: 't', AWS_DEFAULT_REGION: 'eu-west-1' },
      }),
    ).toEqual({
      bucket: 'audit',
      prefix: 'baton/orders eu',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', sessionToken: 't' },
    })
    // An S3-compatible endpoint without a region gets us-east-1; no variables, no credentials (the chain decides).
    expect(
      s3Location(new URL('s3://b1/p'), { name: '--to', endpoint: 'http://127.0.0.1:9', env: {} }),
    ).toEqual({
      bucket: 'b1',
      prefix: 'p',
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
    })
    expect(
      s3Location(new URL('s3://b1'), { name: '<dir>', env: { AWS_REGION: 'us-west-2' } }),
    ).toEqual({
      bucket: 'b1',
      prefix: '',
      region: 'us-west-2',
    })
  })

  it('refuses URLs it cannot honour, naming the argument', () => {
    for (const [url, reason] of [
      ['s3://user:pw@bucket/p', /no user, password or port/],
      ['s3://bucket:9000/p', /no user, password or port/],
      ['s3://bucket/p?versionId=3', /no query or fragment/],
      ['s3://bucket/p#x', /no query or fragment/],
      ['gs://bucket/p', /not an s3:\/\/ URL/],
    ] as const) {
      let thrown: unknown
      try {
        s3Location(new URL(url), { name: '--to', env: {} })
      } catch (e) {
        thrown = e
      }
      expect(isBatonError(thrown, 'INVALID_INPUT'), url).toBe(true)
      expect(thrown, url).toMatchObject({ path: '--to', message: expect.stringMatching(reason) })
    }
  })

  it('opens read-only without creating, creates otherwise; targets write under the prefix', async () => {
    const options = { name: '<dir>', endpoint: s3.endpoint, env }
    const url = new URL(`s3://${BUCKET}/ledgers/new`)
    const missing = await openLedger(url, { ...options, readOnly: true }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isBatonError(missing, 'NOT_FOUND')).toBe(true)
    const created = await openLedger(url, options)
    expect(created.location).toBe(`s3://${BUCKET}/ledgers/new`)
    await created.close()
    const reader = await openLedger(url, { ...options, readOnly: true })
    expect(await reader.head()).toMatchObject({ size: 0 })
    const refused = await reader
      .append([{ seq: 0, bytes: new Uint8Array([123, 125]), hash: '0'.repeat(64) }])
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isBatonError(refused, 'IO')).toBe(true)
    await reader.close()
    const target = await openTarget(new URL(`s3://${BUCKET}/exports/x`), options)
    await target.put('manifest/0.json', new TextEncoder().encode('{}'))
    expect(await target.head('manifest/0.json')).toMatchObject({ size: 2 })
    expect(s3.requests.some((r) => r.startsWith(`PUT /${BUCKET}/exports/x/manifest/0.json`))).toBe(
      true,
    )
  })
})
