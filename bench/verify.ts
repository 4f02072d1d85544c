/**
 * Verification throughput against the hashing floor, and peak memory.
 */
import { execFileSync } from 'node:child_process'
import { hash } from 'node:crypto'
import { createReadStream, statSync } from 'node:fs'
import { verify } from '@baton/ledger'
import { fmt, median, type Row } from './_harness.ts'
import { ledgerDir, ledgerFile } from './_ledger-file.ts'

/** Read + split + SHA-256 of each stored line: the least any verifier must do. */
async function floor(file: string): Promise<number> {
  let count = 0
  let rest = Buffer.alloc(0)
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf: Buffer = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer)
    let pos = 0
    for (let nl = buf.indexOf(10, pos); nl >= 0; nl = buf.indexOf(10, pos)) {
      hash('sha256', buf.subarray(pos, nl), 'hex')
      count++
      pos = nl + 1
    }
    rest = buf.subarray(pos)
  }
  return count
}

export async function benchVerify(n: number, rssN: number): Promise<Row[]> {
  const file = await ledgerFile(n)
  const avg = statSync(file).size / n
  const floors: number[] = []
  const verifies: number[] = []
  const ratios: number[] = []
  for (let round = 0; round < 5; round++) {
    let t = performance.now()
    const c = await floor(file)
    const f = (c * 1000) / (performance.now() - t)
    t = performance.now()
    const report = await verify(createReadStream(file, { highWaterMark: 1 << 20 }))
    const v = (report.checked * 1000) / (performance.now() - t)
    if (report.status !== 'VERIFIED')
      throw new Error(`benchmark ledger failed to verify: ${report.problems[0]?.message}`)
    floors.push(f)
    verifies.push(v)
    ratios.push(v / f)
  }
  const rows: Row[] = [
    {
      group: 'verify',
      name: `verify(), ${fmt(n)} receipts of ~${fmt(avg)} B, one core`,
      value: `${fmt(median(verifies))} receipts/s`,
      baseline: `${fmt(median(floors))} receipts/s (hashing floor)`,
      ratio: median(ratios).toFixed(2),
      target: '≥ 250,000/s and ratio ≥ 0.6',
      ok: median(verifies) >= 250_000 && median(ratios) >= 0.6,
    },
  ]
  const big = await ledgerFile(rssN)
  const bigDir = await ledgerDir(rssN)
  const child = (mode: string) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          new URL('./verify-child.mjs', import.meta.url).pathname,
          mode,
          mode === 'verify' ? bigDir : big,
        ],
        {
          encoding: 'utf8',
        },
      ),
    ) as { count: number; seconds: number; maxRssMB: number; status: string }
  const v = child('verify')
  const f = child('floor')
  if (v.status !== 'VERIFIED') throw new Error('large benchmark ledger failed to verify')
  rows.push({
    group: 'verify',
    name: `peak RSS of baton verify's path (file store, raw segments), ${fmt(rssN)} receipts (${fmt(statSync(big).size / 2 ** 30, 2)} GiB)`,
    value: `${fmt(v.maxRssMB, 1)} MB (${fmt(v.count / v.seconds)} receipts/s)`,
    baseline: `${fmt(f.maxRssMB, 1)} MB (hashing floor process)`,
    target: '< 100 MB',
    ok: v.maxRssMB < 100,
  })
  return rows
}
