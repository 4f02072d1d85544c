import { describeLease } from '@baton/core/testing'
import { afterAll, beforeAll } from 'vitest'
import { createS3Lease, type S3Lease } from '../src/index.js'
import { type LocalS3, startLocalS3 } from './support/local-s3.js'

const BUCKET = 'leases'
let s3: LocalS3
let n = 0
beforeAll(async () => {
  s3 = await startLocalS3()
  await s3.createBucket(BUCKET)
})
afterAll(async () => {
  await s3?.close()
})

describeLease<{ lease: S3Lease; key: string; others: S3Lease[] }>(
  'S3 (conditional overwrite, two clients)',
  {
    create: async () => {
      const key = `leases/${n++}.json`
      return { lease: createS3Lease({ ...s3.clientConfig, bucket: BUCKET, key }), key, others: [] }
    },
    connect: async (f) => {
      // A second, independent SDK client: races go over two connections.
      const other = createS3Lease({ ...s3.clientConfig, bucket: BUCKET, key: f.key })
      f.others.push(other)
      return other
    },
    dispose: async (f) => {
      f.lease.close()
      for (const o of f.others) o.close()
    },
    ttlMs: 1_000,
    expiryMarginMs: 200,
  },
)
