import { fileURLToPath } from 'node:url'
import { describeLedgerStore } from '@baton/ledger/testing'
import { afterAll, beforeAll } from 'vitest'
import { openS3LedgerStore, type S3LedgerStore } from '../src/index.js'
import { type LocalS3, startLocalS3 } from './support/local-s3.js'

const BUCKET = 'ledgers'
let s3: LocalS3
let n = 0
beforeAll(async () => {
  s3 = await startLocalS3()
  await s3.createBucket(BUCKET)
})
afterAll(async () => {
  await s3?.close()
})

const distModule = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const connection = () => ({ ...s3.clientConfig, bucket: BUCKET })

describeLedgerStore('S3 (s3rver behind the conditional-write proxy)', {
  create: () =>
    openS3LedgerStore({ ...connection(), prefix: `suite/${process.pid}-${n++}`, create: true }),
  reopen: (store) =>
    openS3LedgerStore({ ...connection(), prefix: (store as S3LedgerStore).prefix }),
  processes: {
    module: distModule,
    exportName: 'openS3LedgerStore',
    args: (store) => [{ ...connection(), prefix: (store as S3LedgerStore).prefix }],
    workers: 3,
    receiptsPerWorker: 60,
    timeoutMs: 90_000,
  },
})
