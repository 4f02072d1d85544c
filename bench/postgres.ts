/**
 * The PostgreSQL ledger store against the file store, in the same run:
 * append throughput (concurrent appenders, and one appender awaiting each
 * receipt) and verify throughput. The PostgreSQL server is a local one on
 * loopback with `fsync = on` (commits are durable, as the file store's
 * fdatasync-before-ack appends are).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { openPostgresStore } from '@baton/adapters-postgres'
import {
  createClusterRoot,
  createLocalPrimary,
  hasPostgres,
} from '@baton/adapters-postgres/testing'
import { createLedger, type LedgerStore, openFileStore, verify } from '@baton/ledger'
import { fmt, percentile, type Row } from './_harness.ts'
import { DATA_DIR } from './_ledger-file.ts'
import { sampleData } from './primitives.ts'

async function appends(store: LedgerStore, total: number, concurrency: number) {
  const ledger = createLedger({ store })
  const latency = new Float64Array(total)
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < total; i = next++) {
      const t = performance.now()
      await ledger.append({ type: 'probe.sampled', data: sampleData(i) as never })
      latency[i] = performance.now() - t
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - start) / 1000
  const lat = Array.from(latency)
  return { perSecond: total / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99) }
}

async function verifyRate(store: LedgerStore): Promise<number> {
  const { size } = await store.head()
  const start = performance.now()
  const result = await verify(store)
  if (result.status !== 'VERIFIED') throw new Error(`verify: ${result.status}`)
  return (size * 1000) / (performance.now() - start)
}

export async function benchPostgres(total: number): Promise<Row[]> {
  if (!hasPostgres())
    throw new Error(
      'the postgres bench needs the PostgreSQL server binaries (apt-get install postgresql-15)',
    )
  const root = await createClusterRoot('baton-bench-pg-')
  const server = await createLocalPrimary({ name: 'bench', root, fsync: true })
  const fileDir = (name: string): string => join(DATA_DIR, `pg-bench-file-${process.pid}-${name}`)
  try {
    const one = Math.min(total, 2_000)
    const pgMany = await openPostgresStore({
      connectionString: server.url(),
      ledger: 'many',
      create: true,
      maxConnections: 8,
    })
    const pgOne = await openPostgresStore({
      connectionString: server.url(),
      ledger: 'one',
      create: true,
    })
    const fileMany = await openFileStore(fileDir('many'), { create: true })
    const fileOne = await openFileStore(fileDir('one'), { create: true })
    const pm = await appends(pgMany, total, 100)
    const fm = await appends(fileMany, total, 100)
    const po = await appends(pgOne, one, 1)
    const fo = await appends(fileOne, one, 1)
    const pv = await verifyRate(pgMany)
    const fv = await verifyRate(fileMany)
    for (const s of [pgMany, pgOne, fileMany, fileOne]) await s.close()
    return [
      {
        group: 'postgres',
        name: `PostgresStore, 100 concurrent appenders (${fmt(total)} receipts, local server, fsync on)`,
        value: `${fmt(pm.perSecond)} receipts/s (ack p50 ${fmt(pm.p50, 2)} ms, p99 ${fmt(pm.p99, 2)} ms)`,
        baseline: `${fmt(fm.perSecond)} receipts/s (FileStore, same load)`,
        ratio: (pm.perSecond / fm.perSecond).toFixed(2),
      },
      {
        group: 'postgres',
        name: 'PostgresStore, 1 appender awaiting each receipt',
        value: `${fmt(po.perSecond)} receipts/s (ack p50 ${fmt(po.p50, 2)} ms, p99 ${fmt(po.p99, 2)} ms)`,
        baseline: `${fmt(fo.perSecond)} receipts/s (FileStore)`,
        ratio: (po.perSecond / fo.perSecond).toFixed(2),
      },
      {
        group: 'postgres',
        name: `verify a PostgresStore ledger (${fmt(total)} receipts, read in batches of 1,000)`,
        value: `${fmt(pv)} receipts/s`,
        baseline: `${fmt(fv)} receipts/s (FileStore)`,
        ratio: (pv / fv).toFixed(2),
      },
    ]
  } finally {
    await server.stop('immediate').catch(() => undefined)
    rmSync(root, { recursive: true, force: true })
    for (const n of ['many', 'one']) rmSync(fileDir(n), { recursive: true, force: true })
  }
}
