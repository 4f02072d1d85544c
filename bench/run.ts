/**
 * `pnpm bench`: every benchmark, each with a baseline measured in the same
 * run, printed as Markdown for BENCHMARKS.md and saved to
 * `.bench-data/results.json`.
 *
 * Scale with BENCH_RECEIPTS (verify throughput, default 1,000,000),
 * BENCH_RSS_RECEIPTS (peak-memory run, default 5,000,000) and
 * BENCH_APPENDS (append run, default 300,000), BENCH_CHECKPOINT_RECEIPTS
 * (checkpoint and proof run, default 1,000,000), BENCH_CHECKPOINT_MORE
 * (receipts appended before the incremental checkpoint, default 1,000) and
 * BENCH_PROOFS (proofs timed, default 1,000), BENCH_EXPORT_RECEIPTS (export
 * and verify-export, default 1,000,000), BENCH_TRANSITIONS, BENCH_DECISIONS
 * and BENCH_DRILLS (engine: see `engine.ts`), BENCH_EXAMPLE_DRILLS (examples), BENCH_S3_APPENDS and
 * BENCH_S3_VERIFY (S3 against a local server: see `s3.ts`), BENCH_FIRESTORE_RECEIPTS and
 * BENCH_GCS_RECEIPTS (gcp: the Google Cloud stores against their emulators), BENCH_PG_APPENDS
 * (PostgreSQL store against the file store, default 20,000). Select groups by name:
 * `pnpm bench verify append checkpoint`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { machine, type Row } from './_harness.ts'
import { DATA_DIR } from './_ledger-file.ts'
import { benchAppend } from './append.ts'
import { benchCheckpoint } from './checkpoint.ts'
import { benchEngine } from './engine.ts'
import { benchExamples } from './examples.ts'
import { benchExport } from './export.ts'
import { benchGcp } from './gcp.ts'
import { benchPostgres } from './postgres.ts'
import { benchPrimitives } from './primitives.ts'
import { benchS3 } from './s3.ts'
import { benchVerify } from './verify.ts'

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback)
const wanted = new Set(process.argv.slice(2))
const want = (group: string): boolean => wanted.size === 0 || wanted.has(group)

const rows: Row[] = []
const started = new Date()
if (want('primitives')) rows.push(...benchPrimitives())
if (want('verify'))
  rows.push(
    ...(await benchVerify(env('BENCH_RECEIPTS', 1_000_000), env('BENCH_RSS_RECEIPTS', 5_000_000))),
  )
if (want('append')) rows.push(...(await benchAppend(env('BENCH_APPENDS', 300_000))))
if (want('export')) rows.push(...(await benchExport(env('BENCH_EXPORT_RECEIPTS', 1_000_000))))
if (want('checkpoint'))
  rows.push(
    ...(await benchCheckpoint(
      env('BENCH_CHECKPOINT_RECEIPTS', 1_000_000),
      env('BENCH_CHECKPOINT_MORE', 1_000),
      env('BENCH_PROOFS', 1_000),
    )),
  )

if (want('engine'))
  rows.push(
    ...(await benchEngine(
      env('BENCH_TRANSITIONS', 5_000_000),
      env('BENCH_DECISIONS', 2_000),
      env('BENCH_DRILLS', 1_000),
    )),
  )
if (want('examples')) rows.push(...(await benchExamples(env('BENCH_EXAMPLE_DRILLS', 200))))

if (want('s3'))
  rows.push(...(await benchS3(env('BENCH_S3_APPENDS', 2_000), env('BENCH_S3_VERIFY', 5_000))))

if (want('gcp'))
  rows.push(
    ...(await benchGcp(env('BENCH_FIRESTORE_RECEIPTS', 5_000), env('BENCH_GCS_RECEIPTS', 2_000))),
  )

if (want('postgres')) rows.push(...(await benchPostgres(env('BENCH_PG_APPENDS', 20_000))))

const lines = [
  `Run ${started.toISOString()} on ${machine()}.`,
  '',
  '| group | benchmark | result | baseline (same run) | ratio | target |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.group} | ${r.name} | ${r.value} | ${r.baseline ?? ''} | ${r.ratio ?? ''} | ${r.target === undefined ? '' : `${r.target} ${r.ok ? '✅' : '❌'}`} |`,
  ),
]
process.stdout.write(`${lines.join('\n')}\n`)
mkdirSync(DATA_DIR, { recursive: true })
writeFileSync(
  join(DATA_DIR, 'results.json'),
  JSON.stringify({ started, machine: machine(), rows }, null, 2),
)
if (rows.some((r) => r.ok === false)) process.exitCode = 1
