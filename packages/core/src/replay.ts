/**
 * Replays a ledger's `state.changed` receipts through the pure machine: the
 * recorded run must be one the machine allows, in order, with fencing
 * epochs that never go back.
 *
 * @module
 */
import type { Receipt } from '@baton/ledger'
import {
  EVENT_TYPES,
  initialState,
  type MachineEvent,
  type MachineState,
  transition,
} from './machine.js'
import type { RegionId } from './ports/context.js'

/** What can be wrong with a recorded run. */
export type ReplayProblemKind =
  /** The receipt's `from` is not the state the run had reached. */
  | 'state-mismatch'
  /** The machine, given the recorded event, does not reach the recorded `to`. */
  | 'illegal-transition'
  /** A receipt's epoch is older than one already seen: written by an instance that had lost the lease. */
  | 'stale-epoch'
  /** The receipt's data is not a state change the machine can read. */
  | 'bad-receipt'
  /** No `controller.started` receipt (or `home` option) says where home is. */
  | 'no-start'

/** One problem found by {@link replay}. */
export interface ReplayProblem {
  readonly kind: ReplayProblemKind
  /** The receipt concerned. */
  readonly seq: number
  readonly message: string
}

/** The result of {@link replay}. */
export interface ReplayReport {
  /** `REPLAYED` when every recorded transition is legal. */
  readonly status: 'REPLAYED' | 'FAILED'
  /** State changes replayed. */
  readonly transitions: number
  /** The state the run ends in (as the machine computes it). */
  readonly final: MachineState | undefined
  readonly problems: readonly ReplayProblem[]
}

/** Options for {@link replay}. */
export interface ReplayOptions {
  /** Home region, when the ledger has no `controller.started` receipt. */
  readonly home?: RegionId
}

const KNOWN = new Set<string>(EVENT_TYPES)

function asEvent(value: unknown): MachineEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const e = value as { type?: unknown; at?: unknown }
  if (typeof e.type !== 'string' || !KNOWN.has(e.type) || typeof e.at !== 'number') return undefined
  return value as MachineEvent
}

/**
 * Replays the receipts (in `seq` order) of a ledger: `ledger.read()`, an
 * array, any iterable of receipts. Receipts of other types are skipped.
 *
 * @example
 * ```ts
 * const report = await replay(ledger.read())
 * if (report.status !== 'REPLAYED') console.table(report.problems)
 * ```
 */
export async function replay(
  receipts: AsyncIterable<Receipt> | Iterable<Receipt>,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const problems: ReplayProblem[] = []
  let state: MachineState | undefined =
    options.home === undefined ? undefined : initialState(options.home)
  let epoch = Number.NEGATIVE_INFINITY
  let transitions = 0

  for await (const r of receipts as AsyncIterable<Receipt>) {
    const data = r.data as Record<string, unknown>
    const e = data.epoch
    if (typeof e === 'number') {
      if (e < epoch) {
        problems.push({
          kind: 'stale-epoch',
          seq: r.seq,
          message: `receipt ${r.seq} (${r.type}) has epoch ${e}, older than ${epoch} seen before`,
        })
      } else epoch = e
    }
    if (r.type === 'controller.started') {
      if (state === undefined && typeof data.home === 'string') state = initialState(data.home)
      continue
    }
    if (r.type !== 'state.changed') continue
    if (state === undefined) {
      problems.push({
        kind: 'no-start',
        seq: r.seq,
        message: 'a state change before any controller.started receipt',
      })
      continue
    }
    const event = asEvent(data.event)
    if (event === undefined || typeof data.from !== 'string' || typeof data.to !== 'string') {
      problems.push({
        kind: 'bad-receipt',
        seq: r.seq,
        message: `receipt ${r.seq} is not a readable state change`,
      })
      continue
    }
    transitions++
    if (data.from !== state.name) {
      problems.push({
        kind: 'state-mismatch',
        seq: r.seq,
        message: `receipt ${r.seq} changes from ${data.from}, but the run is in ${state.name}`,
      })
    }
    const [next] = transition(state, event)
    if (next.name !== data.to || next === state) {
      problems.push({
        kind: 'illegal-transition',
        seq: r.seq,
        message: `receipt ${r.seq}: ${event.type} in ${state.name} leads to ${next === state ? 'no change' : next.name}, not ${data.to}`,
      })
      continue
    }
    state = next
  }
  return {
    status: problems.length === 0 ? 'REPLAYED' : 'FAILED',
    transitions,
    final: state,
    problems,
  }
}
