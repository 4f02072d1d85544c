/**
 * Durable append throughput of the file store with many concurrent
 * appenders (group commit), against a naive write + fdatasync per receipt.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { canonicalize, createLedger, openFileStore } from '@baton/ledger'
import { fmt, percentile, type Row } from './_harness.ts'
import { DATA_DIR } from './_ledger-file.ts'
import { sampleData } from './primitives.ts'

async function concurrentAppends(total: number, concurrency: number) {
  const dir = join(DATA_DIR, `append-${process.pid}-${concurrency}`)
  rmSync(dir, { recursive: true, force: true })
  const store = await openFileStore(dir, { create: true })
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
  await ledger.close()
  rmSync(dir, { recursive: true, force: true })
  const lat = Array.from(latency)
  return { perSecond: total / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99) }
}

/** One write and one fdatasync per receipt, sequentially: what a naive logger does. */
function naive(seconds: number): number {
  mkdirSync(DATA_DIR, { recursive: true })
  const file = join(DATA_DIR, `naive-${process.pid}.jsonl`)
  const fd = openSync(file, 'w')
  const line = `${canonicalize(sampleData(1))}\n`
  let n = 0
  const start = performance.now()
  while (performance.now() - start < seconds * 1000) {
    writeSync(fd, line)
    fdatasyncSync(fd)
    n++
  }
  const rate = (n * 1000) / (performance.now() - start)
  closeSync(fd)
  rmSync(file, { force: true })
  return rate
}

export async function benchAppend(total: number): Promise<Row[]> {
  const base = naive(3)
  const many = await concurrentAppends(total, 1000)
  const one = await concurrentAppends(Math.min(total, 3000), 1)
  return [
    {
      group: 'append',
      name: `FileStore, 1,000 concurrent appenders, fdatasync before ack (${fmt(total)} receipts)`,
      value: `${fmt(many.perSecond)} receipts/s (ack p50 ${fmt(many.p50, 2)} ms, p99 ${fmt(many.p99, 2)} ms)`,
      baseline: `${fmt(base)} receipts/s (naive write + fdatasync per receipt)`,
      ratio: (many.perSecond / base).toFixed(1),
      target: '≥ 100,000/s',
      ok: many.perSecond >= 100_000,
    },
    {
      group: 'append',
      name: 'FileStore, 1 appender awaiting each receipt',
      value: `${fmt(one.perSecond)} receipts/s (ack p50 ${fmt(one.p50, 2)} ms, p99 ${fmt(one.p99, 2)} ms)`,
      baseline: `${fmt(base)} receipts/s (naive)`,
      ratio: (one.perSecond / base).toFixed(2),
    },
  ]
}
