/**
 * Append and verify throughput of the Google Cloud ledger stores against
 * the local emulators (Firestore: `@firestore-emulator/server`; Cloud
 * Storage: the firebase-tools emulator behind the test precondition shim),
 * with the FileStore measured in the same run on the same receipts as the
 * baseline. Emulator figures measure the adapters' request pattern over
 * loopback, not Google Cloud's latency.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { openFirestoreStore, openGcsStore } from '@baton/adapters-gcp'
import { createLedger, type LedgerStore, openFileStore, verify } from '@baton/ledger'
import { startFirestoreEmulator } from '../packages/adapters-gcp/test/support/firestore-emulator.ts'
import { startGcsEmulator } from '../packages/adapters-gcp/test/support/gcs-emulator.ts'
import { fmt, type Row } from './_harness.ts'
import { DATA_DIR } from './_ledger-file.ts'
import { sampleData } from './primitives.ts'

interface Figures {
  readonly appendPerSecond: number
  readonly verifyPerSecond: number
}

/** Appends `total` receipts through `concurrency` appenders, then verifies the store. */
async function measure(store: LedgerStore, total: number, concurrency: number): Promise<Figures> {
  const ledger = createLedger({ store })
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < total; i = next++) {
      await ledger.append({ type: 'probe.sampled', data: sampleData(i) as never })
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const appendSeconds = (performance.now() - start) / 1000
  const v = performance.now()
  const report = await verify(store)
  const verifySeconds = (performance.now() - v) / 1000
  if (report.status !== 'VERIFIED' || report.checked !== total) {
    throw new Error(`bench ledger did not verify: ${report.status}, ${report.checked} of ${total}`)
  }
  await ledger.close()
  return { appendPerSecond: total / appendSeconds, verifyPerSecond: total / verifySeconds }
}

async function fileStore(total: number, concurrency: number): Promise<Figures> {
  const dir = join(DATA_DIR, `gcp-baseline-${process.pid}-${total}-${concurrency}`)
  rmSync(dir, { recursive: true, force: true })
  try {
    return await measure(await openFileStore(dir, { create: true }), total, concurrency)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The `gcp` group: Firestore and Cloud Storage stores against their emulators, FileStore as baseline. */
export async function benchGcp(firestoreReceipts: number, gcsReceipts: number): Promise<Row[]> {
  const rows: Row[] = []
  const concurrency = 16
  const row = (store: string, n: number, got: Figures, base: Figures): Row[] => [
    {
      group: 'gcp',
      name: `${store} append, ${concurrency} concurrent appenders (${fmt(n)} receipts)`,
      value: `${fmt(got.appendPerSecond)} receipts/s`,
      baseline: `${fmt(base.appendPerSecond)} receipts/s (FileStore, same receipts)`,
      ratio: (got.appendPerSecond / base.appendPerSecond).toFixed(3),
    },
    {
      group: 'gcp',
      name: `${store} verify (${fmt(n)} receipts)`,
      value: `${fmt(got.verifyPerSecond)} receipts/s`,
      baseline: `${fmt(base.verifyPerSecond)} receipts/s (FileStore)`,
      ratio: (got.verifyPerSecond / base.verifyPerSecond).toFixed(3),
    },
  ]

  const firestore = await startFirestoreEmulator()
  try {
    const store = await openFirestoreStore({
      projectId: 'baton-bench',
      endpoint: firestore.host,
      path: `ledgers/bench-${process.pid}`,
    })
    const got = await measure(store, firestoreReceipts, concurrency)
    rows.push(
      ...row(
        'Firestore (emulator)',
        firestoreReceipts,
        got,
        await fileStore(firestoreReceipts, concurrency),
      ),
    )
  } finally {
    await firestore.stop()
  }

  const gcs = await startGcsEmulator()
  try {
    const store = await openGcsStore({
      bucket: 'baton-bench',
      prefix: `bench-${process.pid}`,
      endpoint: gcs.endpoint,
    })
    const got = await measure(store, gcsReceipts, concurrency)
    rows.push(
      ...row(
        'Cloud Storage (emulator + shim)',
        gcsReceipts,
        got,
        await fileStore(gcsReceipts, concurrency),
      ),
    )
  } finally {
    await gcs.stop()
  }
  return rows
}
