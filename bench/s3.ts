/**
 * The S3 ledger store against a local S3-compatible server (s3rver behind
 * the conditional-write proxy the adapter's tests use, both on loopback),
 * with the FileStore doing the same work in the same run as the baseline:
 *
 * - append throughput: one Ledger with 1 and with 32 concurrent appenders
 *   (every receipt one create-only `PutObject`), and 4 Ledgers racing on
 *   one S3 ledger (lost races are typed conflicts, re-read and retried;
 *   with the ledger's default 32 retries a Ledger can run out under this
 *   much contention, so the bench raises `maxRetries`);
 * - verify throughput: `verify(store)` over the whole ledger (ordered
 *   `GetObject`s, 32 in flight) against `verify` of a FileStore holding
 *   the same receipts.
 *
 * - the server's floor: bare `GetObject`s (32 in flight) and create-only
 *   `PutObject`s (1 in flight) with the SDK, no ledger.
 *
 * What this measures is the adapter plus a filesystem-backed local server
 * on the same cores: a lower bound for the client side, not AWS's
 * latency. Uses the built packages (`pnpm build` first). Scale with
 * BENCH_S3_APPENDS (default 2,000) and BENCH_S3_VERIFY (default 5,000).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import {
  createLedger,
  type EncodedReceipt,
  type LedgerStore,
  leafHash,
  openFileStore,
  verify,
} from '@baton/ledger'
import { openS3LedgerStore } from '../packages/adapters-aws/dist/index.js'
import { startLocalS3 } from '../packages/adapters-aws/test/support/local-s3.ts'
import { fmt, percentile, type Row } from './_harness.ts'
import { DATA_DIR } from './_ledger-file.ts'
import { sampleData } from './primitives.ts'

/** Calls per second of `fn(0…n-1)` with `concurrency` in flight. */
async function rawRate(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await fn(i)
    }),
  )
  return (n * 1000) / (performance.now() - start)
}

interface Rate {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
}

/** `total` appends spread over `ledgers` Ledger instances × `concurrency` appenders each. */
async function appendRun(
  stores: LedgerStore[],
  total: number,
  concurrency: number,
  maxRetries?: number,
): Promise<Rate> {
  const ledgers = stores.map((store) =>
    createLedger(maxRetries === undefined ? { store } : { store, maxRetries }),
  )
  const latency = new Float64Array(total)
  let next = 0
  const worker = async (l: number): Promise<void> => {
    const ledger = ledgers[l]!
    for (let i = next++; i < total; i = next++) {
      const t = performance.now()
      await ledger.append({ type: 'probe.sampled', data: sampleData(i) as never })
      latency[i] = performance.now() - t
    }
  }
  const start = performance.now()
  await Promise.all(ledgers.flatMap((_, l) => Array.from({ length: concurrency }, () => worker(l))))
  const seconds = (performance.now() - start) / 1000
  for (const l of ledgers) await l.close()
  const lat = Array.from(latency)
  return { perSecond: total / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99) }
}

const show = (r: Rate): string =>
  `${fmt(r.perSecond)} receipts/s (ack p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms)`

export async function benchS3(appends: number, verifyN: number): Promise<Row[]> {
  const s3 = await startLocalS3()
  const rows: Row[] = []
  let n = 0
  let oneAppender = 0
  const fileDir = (): string => {
    const dir = join(DATA_DIR, `s3-baseline-${process.pid}-${n++}`)
    rmSync(dir, { recursive: true, force: true })
    return dir
  }
  try {
    await s3.createBucket('bench')
    const s3Store = (prefix: string, create = false) =>
      openS3LedgerStore({ ...s3.clientConfig, bucket: 'bench', prefix, create })

    for (const [label, ledgers, concurrency] of [
      ['1 Ledger, 1 appender awaiting each receipt', 1, 1],
      ['1 Ledger, 32 concurrent appenders', 1, 32],
      ['4 Ledgers racing on one ledger, 2 appenders each, maxRetries 1,000', 4, 2],
    ] as const) {
      const prefix = `append-${ledgers}-${concurrency}`
      const first = await s3Store(prefix, true)
      const stores = [
        first,
        ...(await Promise.all(Array.from({ length: ledgers - 1 }, () => s3Store(prefix)))),
      ]
      const remote = await appendRun(stores, appends, concurrency, ledgers > 1 ? 1_000 : undefined)
      if (ledgers === 1 && concurrency === 1) oneAppender = remote.perSecond
      const dir = fileDir()
      const fileFirst = await openFileStore(dir, { create: true })
      // The FileStore takes one writer per directory: the racing case runs as one Ledger there.
      const local = await appendRun([fileFirst], appends, ledgers * concurrency)
      rmSync(dir, { recursive: true, force: true })
      const reader = await s3Store(prefix)
      const check = await verify(reader)
      await reader.close()
      if (check.status !== 'VERIFIED' || check.checked !== appends) {
        throw new Error(`S3 append bench left ${check.checked} receipts, ${check.status}`)
      }
      rows.push({
        group: 's3',
        name: `S3 append, ${label} (${fmt(appends)} receipts, local server)`,
        value: show(remote),
        baseline: `${show(local)} FileStore`,
        ratio: (remote.perSecond / local.perSecond).toFixed(3),
      })
    }

    // Verify: the same receipts in S3 and in a FileStore.
    const dir = fileDir()
    const file = await openFileStore(dir, { create: true })
    const fileLedger = createLedger({ store: file })
    const batch = 500
    for (let i = 0; i < verifyN; i += batch) {
      await fileLedger.appendBatch(
        Array.from({ length: Math.min(batch, verifyN - i) }, (_, k) => ({
          type: 'probe.sampled',
          data: sampleData(i + k) as never,
        })),
      )
    }
    await fileLedger.close()
    const source = await openFileStore(dir, { readOnly: true })
    const target = await s3Store('verify', true)
    const lines: EncodedReceipt[] = []
    for await (const line of source.read(0)) lines.push({ ...line, hash: leafHash(line.bytes) })
    for (let i = 0; i < lines.length; i += batch) await target.append(lines.slice(i, i + batch))
    await target.close()
    await source.close()
    let t = performance.now()
    const remoteStore = await s3Store('verify')
    const remote = await verify(remoteStore)
    const remoteRate = (remote.checked * 1000) / (performance.now() - t)
    await remoteStore.close()
    t = performance.now()
    const localStore = await openFileStore(dir, { readOnly: true })
    const local = await verify(localStore)
    const localRate = (local.checked * 1000) / (performance.now() - t)
    await localStore.close()
    rmSync(dir, { recursive: true, force: true })
    if (remote.status !== 'VERIFIED' || remote.checked !== verifyN) {
      throw new Error(`S3 verify bench: ${remote.checked} receipts, ${remote.status}`)
    }
    rows.push({
      group: 's3',
      name: `S3 verify, 32 reads in flight (${fmt(verifyN)} receipts, local server)`,
      value: `${fmt(remoteRate)} receipts/s`,
      baseline: `${fmt(localRate)} receipts/s FileStore`,
      ratio: (remoteRate / localRate).toFixed(3),
    })
    // The server's own floor: bare SDK calls, no ledger, same server, same run.
    const raw = await s3Store('verify')
    const gets = await rawRate(verifyN, 32, async (i) => {
      const out = await raw.client.send(
        new GetObjectCommand({ Bucket: 'bench', Key: raw.keyOf(i) }),
      )
      await out.Body?.transformToByteArray()
    })
    const puts = await rawRate(Math.min(appends, 1_000), 1, async (i) => {
      await raw.client.send(
        new PutObjectCommand({
          Bucket: 'bench',
          Key: `raw/${i}.json`,
          Body: lines[i % lines.length]!.bytes,
          IfNoneMatch: '*',
        }),
      )
    })
    await raw.close()
    rows.push({
      group: 's3',
      name: 'Local server floor: bare GetObject, 32 in flight / bare create-only PutObject, 1 in flight',
      value: `${fmt(gets)} GETs/s, ${fmt(puts)} PUTs/s`,
      baseline: `S3 verify ${fmt(remoteRate)} receipts/s, S3 append (1 appender) ${fmt(oneAppender)} receipts/s`,
      ratio: `${(remoteRate / gets).toFixed(2)} / ${(oneAppender / puts).toFixed(2)}`,
    })
  } finally {
    await s3.close()
  }
  return rows
}
