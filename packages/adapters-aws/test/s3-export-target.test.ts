import { describeExportTarget } from '@baton/ledger/testing'
import { afterAll, beforeAll } from 'vitest'
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
