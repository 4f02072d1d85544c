/**
 * Daily export, verify-export and restore of a large ledger: throughput and peak RSS,
 * each in a fresh child process (plain JavaScript, like the built CLI), with
 * same-run baselines: the least an export must do (read the ledger's bytes,
 * SHA-256 each receipt, write them, fsync) for export, and `verify()` of the
 * same ledger for verify-export, which does that and more: the bundle's
 * SHA-256, the Merkle tree's interior nodes and the manifest checks.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@baton/ledger'
import { fmt, median, type Row } from './_harness.ts'
import { ledgerDir } from './_ledger-file.ts'

interface ChildResult {
  readonly mode: string
  readonly count: number
  readonly bytes: number
  readonly status: string
  readonly seconds: number
  readonly maxRssMB: number
}

const CHILD = new URL('./export-child.mjs', import.meta.url).pathname

function child(...args: string[]): ChildResult {
  return JSON.parse(
    execFileSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }),
  ) as ChildResult
}

export async function benchExport(n: number, rounds = 3): Promise<Row[]> {
  const dir = await ledgerDir(n)
  const { signerKey, verifierKey } = generateKeyPair('bench.example/baton', {
    seed: new Uint8Array(32).fill(42),
  })
  const work = mkdtempSync(join(tmpdir(), 'baton-bench-export-'))
  const runs: Record<string, ChildResult[]> = {}
  const add = (name: string, r: ChildResult): ChildResult => {
    const list = runs[name] ?? []
    list.push(r)
    runs[name] = list
    return r
  }
  try {
    for (let round = 0; round < rounds; round++) {
      const plain = join(work, `plain-${round}`)
      const gz = join(work, `gzip-${round}`)
      add('floor', child('floor', dir, join(work, `floor-${round}.jsonl`)))
      const e = add('export', child('export', dir, plain, signerKey, '0'))
      if (e.status !== 'exported' || e.count !== n) throw new Error(`export: ${JSON.stringify(e)}`)
      add('verify', child('verify', dir))
      const v = add('verify-export', child('verify-export', plain, verifierKey))
      if (v.status !== 'VERIFIED' || v.count !== n)
        throw new Error(`verify-export: ${JSON.stringify(v)}`)
      const into = join(work, `restored-${round}`)
      const r = add('restore', child('restore', plain, verifierKey, into))
      if (r.status !== 'restored' || r.count !== n) throw new Error(`restore: ${JSON.stringify(r)}`)
      rmSync(into, { recursive: true, force: true })
      add('export-gzip', child('export', dir, gz, signerKey, '1'))
      const vg = add('verify-export-gzip', child('verify-export', gz, verifierKey))
      if (vg.status !== 'VERIFIED') throw new Error(`verify-export gzip: ${JSON.stringify(vg)}`)
      rmSync(plain, { recursive: true, force: true })
      rmSync(gz, { recursive: true, force: true })
      rmSync(join(work, `floor-${round}.jsonl`), { force: true })
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  const rate = (name: string): number => median(runs[name]!.map((r) => n / r.seconds))
  const rss = (name: string): number => Math.max(...runs[name]!.map((r) => r.maxRssMB))
  const mb = (name: string): number => runs[name]![0]!.bytes / 2 ** 20
  const ledgerMB = runs.floor![0]!.bytes / 2 ** 20
  const rows: Row[] = [
    {
      group: 'export',
      name: `exportLedger(), ${fmt(n)} receipts (${fmt(ledgerMB)} MiB) to a directory target, one bundle`,
      value: `${fmt(rate('export'))} receipts/s, peak RSS ${fmt(rss('export'), 1)} MB`,
      baseline: `${fmt(rate('floor'))} receipts/s (read + SHA-256 per receipt + write + fsync), ${fmt(rss('floor'), 1)} MB`,
      ratio: (rate('export') / rate('floor')).toFixed(2),
      target: 'ratio ≥ 0.4 and < 100 MB',
      ok: rate('export') / rate('floor') >= 0.4 && rss('export') < 100,
    },
    {
      group: 'export',
      name: `exportLedger({ gzip: true }), same ledger (bundle ${fmt(mb('export-gzip'))} MiB)`,
      value: `${fmt(rate('export-gzip'))} receipts/s, peak RSS ${fmt(rss('export-gzip'), 1)} MB`,
      baseline: `${fmt(rate('export'))} receipts/s (no gzip)`,
      ratio: (rate('export-gzip') / rate('export')).toFixed(2),
      target: '< 100 MB',
      ok: rss('export-gzip') < 100,
    },
    {
      group: 'export',
      name: `verifyExport(), ${fmt(n)} receipts in one plain bundle`,
      value: `${fmt(rate('verify-export'))} receipts/s, peak RSS ${fmt(rss('verify-export'), 1)} MB`,
      baseline: `${fmt(rate('verify'))} receipts/s (verify() of the ledger), ${fmt(rss('verify'), 1)} MB`,
      ratio: (rate('verify-export') / rate('verify')).toFixed(2),
      target: 'ratio ≥ 0.45 and < 100 MB',
      ok: rate('verify-export') / rate('verify') >= 0.45 && rss('verify-export') < 100,
    },
    {
      group: 'export',
      name: 'restore() of the plain bundle into a new file ledger (checked, spooled, appended with fdatasync)',
      value: `${fmt(rate('restore'))} receipts/s, peak RSS ${fmt(rss('restore'), 1)} MB`,
      baseline: `${fmt(rate('verify-export'))} receipts/s (verifyExport of the same bundle)`,
      ratio: (rate('restore') / rate('verify-export')).toFixed(2),
      target: '< 128 MB',
      ok: rss('restore') < 128,
    },
    {
      group: 'export',
      name: 'verifyExport(), the gzip bundle',
      value: `${fmt(rate('verify-export-gzip'))} receipts/s, peak RSS ${fmt(rss('verify-export-gzip'), 1)} MB`,
      baseline: `${fmt(rate('verify-export'))} receipts/s (plain bundle)`,
      ratio: (rate('verify-export-gzip') / rate('verify-export')).toFixed(2),
      target: '< 100 MB',
      ok: rss('verify-export-gzip') < 100,
    },
  ]
  return rows
}
