/**
 * `baton demo [--dir D] [--json]`: the main job on the embedded default.
 *
 * Creates a file ledger, records a simulated failover of a receipt-writing
 * service from us-central1 to europe-west1 (the ggen runbook's scenario 1:
 * three failed write+read health checks, then an automatic failover), and
 * verifies the ledger. Regions are simulated; the ledger is real.
 *
 * @module
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  createLedger,
  initFileStore,
  openFileStore,
  type ReceiptInput,
  verify,
} from '@baton/ledger'
import { EXIT_INTEGRITY, EXIT_OK } from '../errors.js'
import { verifySummary } from '../format.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton demo`. */
export interface DemoOptions {
  /** Directory for the new ledger (must not hold one); default a fresh temporary directory. */
  readonly dir?: string
  readonly json: boolean
}

interface Step {
  readonly after: number
  readonly input: ReceiptInput
  readonly say: string
}

const PRIMARY = 'us-central1'
const SECONDARY = 'europe-west1'

/** The simulated incident, in order; `after` is milliseconds since the previous step. */
function story(): Step[] {
  const steps: Step[] = []
  for (let n = 1; n <= 3; n++) {
    steps.push({
      after: n === 1 ? 0 : 13_000,
      input: {
        type: 'health.check.failed',
        data: { region: PRIMARY, check: 'write+read', error: 'DEADLINE_EXCEEDED', failureCount: n },
      },
      say: `${PRIMARY} health check (write + read) failed: DEADLINE_EXCEEDED (${n}/3)`,
    })
  }
  steps.push(
    {
      after: 40,
      input: {
        type: 'failover.decided',
        data: {
          severity: 'P1',
          reason: 'primary_deadline_exceeded',
          from: PRIMARY,
          to: SECONDARY,
          guards: { failuresAtLeast: { required: 3, actual: 3 }, targetHealthy: true },
        },
      },
      say: `decided: P1, fail over ${PRIMARY} → ${SECONDARY} (3 of 3 checks failed)`,
    },
    {
      after: 85,
      input: {
        type: 'step.succeeded',
        data: { step: 'switch-datastore-client', to: SECONDARY, durationMs: 85 },
      },
      say: `switched the datastore client to ${SECONDARY} in 85 ms`,
    },
    {
      after: 190,
      input: {
        type: 'step.succeeded',
        data: { step: 'verify-writes', region: SECONDARY, durationMs: 190 },
      },
      say: `verified a write + read in ${SECONDARY}`,
    },
    {
      after: 20,
      input: {
        type: 'failover.completed',
        data: {
          from: PRIMARY,
          to: SECONDARY,
          failureCount: 3,
          failoverLatencyMs: 85,
          rtoMs: 26_335,
          rtoTargetMs: 300_000,
          rpoMs: 0,
          rpoTargetMs: 0,
          status: 'failed_over',
        },
      },
      say: 'failover completed: RTO 26.3 s (target 5 min), RPO 0 (target 0)',
    },
  )
  return steps
}

/** Runs `baton demo`. */
export async function demoCommand(io: CliIo, options: DemoOptions): Promise<number> {
  const dir =
    options.dir === undefined
      ? await mkdtemp(join(tmpdir(), 'baton-demo-'))
      : resolve(io.cwd, options.dir)
  const store = await initFileStore(dir)
  let t = Date.now()
  const ledger = createLedger({ store, clock: { now: () => t } })
  const steps = story()
  const lines: string[] = []
  try {
    for (const step of steps) {
      t += step.after
      const r = await ledger.append(step.input)
      lines.push(`  #${r.seq}  ${r.ts.slice(11, 23)}  ${r.type.padEnd(20)} ${step.say}`)
    }
  } finally {
    await ledger.close()
  }
  const verifyStore = await openFileStore(dir, { readOnly: true })
  const report = await verify(verifyStore)
  await verifyStore.close()
  if (options.json) {
    println(io.stdout, JSON.stringify({ ledger: dir, receipts: steps.length, report }, null, 2))
  } else {
    println(
      io.stdout,
      `baton demo: a simulated failover ${PRIMARY} → ${SECONDARY}, recorded and verified`,
    )
    println(io.stdout, `Ledger: ${dir}`)
    println(io.stdout)
    for (const line of lines) println(io.stdout, line)
    println(io.stdout)
    for (const line of verifySummary(report, verifyStore.location, 20)) println(io.stdout, line)
    println(io.stdout)
    println(io.stdout, `Look inside:  baton inspect ${dir}`)
    println(io.stdout, `Check again:  baton verify ${dir}`)
  }
  return report.status === 'VERIFIED' ? EXIT_OK : EXIT_INTEGRITY
}
