/**
 * What a drill reports: a plain JSON object (no `undefined`, no functions),
 * identical for the same scenario and seed, so it can be diffed, stored
 * and rendered (`report.ts`).
 *
 * Times are milliseconds since the drill started (`T+`), except
 * {@link DrillResult.startedAt}.
 *
 * @module
 */
import type { StateName } from '../machine.js'
import type { GuardRecord, Measured } from '../receipts.js'
import type { ReplayProblem } from '../replay.js'
import type { Scenario } from './scenario.js'

/** A JSON value. */
export type DrillJson =
  | string
  | number
  | boolean
  | null
  | readonly DrillJson[]
  | { readonly [key: string]: DrillJson }

/** One expectation or invariant and whether it held. */
export interface DrillCheck {
  /** What was checked, e.g. `failovers`, `no split brain`. */
  readonly name: string
  /** The scenario's expectation (for invariants: what must hold). */
  readonly expected: DrillJson
  /** What the drill measured. */
  readonly actual: DrillJson
  readonly passed: boolean
  /** A safety invariant every drill checks (rather than one the scenario asked for). */
  readonly invariant: boolean
}

/** What a timeline entry is about. */
export type DrillTimelineKind =
  | 'fault'
  | 'action'
  | 'health'
  | 'decision'
  | 'blocked'
  | 'state'
  | 'step'
  | 'lease'
  | 'approval'
  | 'override'
  | 'completed'
  | 'world'

/** One thing that happened, for the report's timeline. */
export interface DrillTimelineEntry {
  /** Ms since the drill started. */
  readonly at: number
  /** How long it lasted (faults, steps); absent for instants. */
  readonly durationMs?: number
  readonly kind: DrillTimelineKind
  /** One line saying what. */
  readonly text: string
  /** Whether it went well (steps, actions); absent when not applicable. */
  readonly ok?: boolean
  /** The receipt it comes from. */
  readonly seq?: number
}

/** A completed failover, from its `failover.completed` receipt. */
export interface DrillFailover {
  readonly operation: string
  readonly from: string
  readonly to: string
  /** `automatic` or `manual` (from the decision). */
  readonly mode: string
  /** `P1`, `P2` or `P3` (from the decision). */
  readonly severity: string
  /** First failed check of the region left (T+ ms); `null` for a manual switchover without one. */
  readonly detectedAt: number | null
  readonly decidedAt: number
  readonly completedAt: number
  readonly rto: Measured
  readonly rpo: Measured
}

/** A completed failback, from its `failback.completed` receipt. */
export interface DrillFailback {
  readonly operation: string
  readonly from: string
  readonly to: string
  readonly startedAt: number
  readonly completedAt: number
  readonly durationMs: number
  readonly stages: readonly { readonly percent: number; readonly ok: boolean }[]
}

/** A decision the guards refused, from its `failover.blocked` receipt. */
export interface DrillRefusal {
  readonly at: number
  readonly action: string
  readonly from: string
  readonly to: string | null
  readonly reason: string
  /** The guards that said no, with their values. */
  readonly guards: readonly GuardRecord[]
}

/** An audited override, from its `override.used` receipt. */
export interface DrillOverride {
  readonly at: number
  readonly operation: string
  readonly guard: string
  readonly by: string
  readonly value: string | number | boolean | null
}

/** The result of `drill()`. */
export interface DrillResult {
  /** Format version of this object. */
  readonly v: 1
  /** The scenario's name. */
  readonly scenario: string
  readonly description: string
  /** The seed it ran with. */
  readonly seed: number | string
  /** Every expectation and invariant held. */
  readonly passed: boolean
  /** Expectations first (in the scenario's order), then the invariants. */
  readonly checks: readonly DrillCheck[]
  /** Virtual start time (RFC 3339). */
  readonly startedAt: string
  /** Virtual duration, ms. */
  readonly durationMs: number
  /** Controller instances. */
  readonly instances: number
  /** The targets failovers were measured against. */
  readonly targets: { readonly rtoMs: number; readonly rpoMs: number }
  /** Where the run ended (the ledger's replay), and who held the lease then. */
  readonly final: {
    readonly state: StateName | null
    readonly serving: string | null
    readonly leader: string | null
    readonly epoch: number
  }
  readonly failovers: readonly DrillFailover[]
  readonly failbacks: readonly DrillFailback[]
  /** Rollbacks started (`state.changed` into `rolling-back`). */
  readonly rollbacks: number
  /** Steps that failed after their retries. */
  readonly failedSteps: readonly {
    readonly at: number
    readonly operation: string
    readonly step: string
    readonly error: string
  }[]
  readonly refusals: readonly DrillRefusal[]
  readonly overrides: readonly DrillOverride[]
  /** Instances that took charge after the first. */
  readonly takeovers: number
  /** The drill's own ledger, verified and replayed at the end. */
  readonly ledger: {
    readonly receipts: number
    /** Hash of the last receipt (identical for the same scenario and seed). */
    readonly head: string | null
    readonly verify: { readonly status: string; readonly problems: readonly string[] }
    readonly replay: {
      readonly status: 'REPLAYED' | 'FAILED'
      readonly transitions: number
      readonly problems: readonly ReplayProblem[]
    }
  }
  /** Ground truth from the simulated world. */
  readonly truth: {
    readonly requests: number
    readonly failedRequests: number
    readonly writes: number
    readonly lostWrites: number
    readonly divergedWrites: number
    /** The time span of lost commits, max over promotions (ms). */
    readonly dataLossMs: number
    readonly primary: string
    /** Weights the endpoint routed by at the end. */
    readonly weights: Readonly<Record<string, number>>
    readonly promotions: readonly {
      readonly at: number
      readonly region: string
      readonly from: string
      readonly graceful: boolean
      readonly epoch: number
      readonly lostWrites: number
    }[]
    readonly splitBrain: number
    readonly residency: number
    /** The first few violations, if any. */
    readonly violations: readonly {
      readonly at: number
      readonly kind: string
      readonly region: string
      readonly detail: string
    }[]
    /** Adapter calls refused for a stale fencing epoch. */
    readonly fencedCalls: number
    /** The highest lease epoch granted. */
    readonly leaseEpochs: number
  }
  /** Everything that happened, in time order. */
  readonly timeline: readonly DrillTimelineEntry[]
  /** The scenario as run (resolved). */
  readonly resolved: Scenario
}
