/**
 * Drill scenarios: a typed, JSON-serialisable description of a world
 * (regions, database, users), the controllers that run in it, a schedule
 * of faults and operator actions, and what the drill must show.
 *
 * Scenario files are what people write: durations may be numbers (ms) or
 * strings (`"90s"`, `"15m"`, `"1h30m"`), and some values may be ranges
 * `[min, max]` the drill draws from with its seed (outage starts jittered,
 * flapping periods, failure probabilities). {@link defineScenario} checks a
 * file and returns the resolved {@link Scenario} (every duration in ms),
 * or throws a {@link ConfigError} naming the bad field
 * (`faults[2].region: unknown region "eu-west-9"`).
 *
 * @module
 */
import type { GuardName, GuardOptions } from '../guards.js'
import type { HealthConfig } from '../health.js'
import type { Severity, StateName } from '../machine.js'
import type { FallbackMode, ManualKind } from '../policy.js'
import type { RegionId } from '../ports/context.js'
import { resolveScenario } from './_scenario-resolve.js'
import type { Span } from './_validate.js'

export type { Span } from './_validate.js'

/** A duration as written in a scenario file: milliseconds, or a string like `"90s"`, `"15m"`, `"1h30m"`. */
export type DurationInput = number | string

/** A duration, or an inclusive range `[min, max]` drawn with the drill's seed. */
export type DurationSpanInput = DurationInput | readonly [DurationInput, DurationInput]

/** A number, or an inclusive range `[min, max]` drawn with the drill's seed. */
export type NumberSpanInput = number | readonly [number, number]

/** Which controller instance a fault or action concerns: an id (`i1`, `i2`…) or the lease holder at that moment. */
export type InstanceRef = 'leader' | string

/** A region of a scenario. */
export interface ScenarioRegion {
  /** Region id, e.g. `eu-west-1`. */
  readonly id: RegionId
  /** Jurisdiction, e.g. `EU`: residency rules and user groups use it. */
  readonly jurisdiction?: string
  /** Users of this region are pinned to its jurisdiction (never routed out of it). Needs `jurisdiction`. */
  readonly pinned?: boolean
  /** What pinned users get when no region of their jurisdiction can take over. Default `read-only`. */
  readonly fallback?: FallbackMode
  /** Preference as a failover target, lower first. Default 0. */
  readonly priority?: number
  /** Instances desired and ready at the start. Default 1. */
  readonly capacity?: number
  /** Latency of a healthy call in this region (ms). Default 0 (drills are about time on the clock, not latency). */
  readonly latencyMs?: number
}

/** A group of simulated users: requests come from them in proportion to `share`. */
export interface ScenarioUsers {
  /** Their jurisdiction, e.g. `EU`. */
  readonly jurisdiction: string
  /** Relative share of requests (positive). */
  readonly share: number
  /** Their data must stay in their jurisdiction. Default true. */
  readonly pinned?: boolean
}

/** What the drill must show. Every field is optional; safety invariants are always checked. */
export interface ScenarioExpectations {
  /** Completed failovers: exactly `n`, or within `{min, max}`. */
  readonly failovers?: CountExpectation
  /** Completed failbacks. */
  readonly failbacks?: CountExpectation
  /** Rollbacks started (a failed failover or failback). */
  readonly rollbacks?: CountExpectation
  /** Steps that failed after their retries (`step.failed` receipts). */
  readonly failedSteps?: CountExpectation
  /** Lease takeovers: instances that took charge after the first (`controller.started` receipts − 1). */
  readonly takeovers?: CountExpectation
  /** Writes lost or diverged (the world's ground truth). */
  readonly lostWrites?: CountExpectation
  /** Every completed failover was decided with this severity (P1 region down, P2 degraded). */
  readonly severity?: Severity
  /** The state the ledger's run ends in. */
  readonly finalState?: StateName
  /** The region serving at the end (as the ledger's run says). */
  readonly serving?: RegionId
  /** The region of the database primary at the end (ground truth). */
  readonly primary?: RegionId
  /** Every completed failover met its RTO target (false when none completed). */
  readonly rtoMet?: boolean
  /** Every completed failover met its RPO target (false when none completed). */
  readonly rpoMet?: boolean
  /** Guards that must have refused a decision at least once (`failover.blocked`). */
  readonly blockedBy?: readonly GuardName[]
  /** Guards that must have been overridden at least once (`override.used`). */
  readonly overrides?: readonly GuardName[]
}

/** A count: exactly `n`, or within `{min, max}` (inclusive; either may be left out). */
export type CountExpectation = number | { readonly min?: number; readonly max?: number }

/** Fields every fault and action has. */
export interface FaultTiming {
  /** When, after the drill starts. */
  readonly at: DurationInput
  /** Start up to this much later, drawn with the seed (outage start jittered by the seed). Default 0. */
  readonly jitterMs?: DurationInput
  /** A note for the report. */
  readonly note?: string
}

/** How long a fault lasts; default until the drill ends (or a `recover`). */
export interface FaultLength {
  readonly durationMs?: DurationSpanInput
}

/** Selects adapter calls for `fail-calls` and `hang-calls` (see the world's `CallFaultSpec`). */
export interface CallSelector {
  /** Port whose calls are affected; default any. */
  readonly port?: 'probe' | 'traffic' | 'database' | 'scaler' | 'notifier'
  /** Method, e.g. `promote`, `setWeights`, `check`; default any. */
  readonly method?: string
  /** Only calls about this region. */
  readonly region?: RegionId
  /** Only calls from this instance (`leader`: the lease holder when the fault starts). */
  readonly instance?: InstanceRef
  /** Affect at most this many calls. */
  readonly times?: number
  /** Let this many matching calls through first. */
  readonly skip?: number
  /** Affect each matching call with this probability (a range is drawn once, with the seed). Default 1. */
  readonly probability?: NumberSpanInput
}

/** One entry of a scenario's schedule: a fault, a recovery or an operator action. */
export type FaultInput = FaultTiming &
  (
    | ({
        readonly kind: 'outage'
        readonly region: RegionId
        readonly error?: string
      } & FaultLength)
    | ({
        readonly kind: 'degrade'
        readonly region: RegionId
        /** Share of requests and probes failing, 0..1. */
        readonly errorRate: NumberSpanInput
        readonly extraLatencyMs?: DurationSpanInput
      } & FaultLength)
    | ({
        readonly kind: 'flap'
        readonly region: RegionId
        /** One down + up cycle. */
        readonly periodMs: DurationSpanInput
        /** The down part of each cycle; default half the period. */
        readonly downMs?: DurationSpanInput
      } & FaultLength)
    | { readonly kind: 'recover'; readonly region: RegionId }
    | ({
        readonly kind: 'lag-spike'
        /** The replica's region; default every replica. */
        readonly region?: RegionId
        readonly lagMs: DurationSpanInput
      } & FaultLength)
    | ({ readonly kind: 'stall-replication'; readonly region?: RegionId } & FaultLength)
    | ({ readonly kind: 'slow-sync'; readonly delayMs: DurationSpanInput } & FaultLength)
    | ({
        readonly kind: 'fail-calls'
        readonly error?: string
        readonly delayMs?: DurationSpanInput
      } & CallSelector &
        FaultLength)
    | ({ readonly kind: 'hang-calls' } & CallSelector & FaultLength)
    | ({
        readonly kind: 'partition'
        readonly instance: InstanceRef
        /** What it is cut off from: `lease` (the other instances), regions, `traffic` (the router), `endpoint`. */
        readonly from: readonly string[]
        /** `fail` at once (default) or `timeout` after the world's timeout. */
        readonly mode?: 'fail' | 'timeout'
      } & FaultLength)
    | ({
        readonly kind: 'lose-lease'
        /** Default `leader`. */
        readonly instance?: InstanceRef
        /**
         * Also make the lease store forget the grant now (a broken store, clock
         * skew): another instance may take over before the holder notices, and
         * its late receipts show up in the replay as `stale-epoch`. Default
         * false: the holder is cut off from the store and its grant runs out.
         */
        readonly revoke?: boolean
      } & FaultLength)
    | {
        readonly kind: 'manual-failover'
        /** Why (Aurum's manual triggers). Default `planned-maintenance`. */
        readonly trigger?: ManualKind
        readonly target?: RegionId
        readonly allowDataLoss?: boolean
        /** Who asks. Default `operator`. */
        readonly by?: string
        readonly reason?: string
        /** Which instance is asked; default `leader`. */
        readonly instance?: InstanceRef
      }
    | {
        readonly kind: 'approve'
        /** Who approves. Default `approver`. */
        readonly by?: string
      }
    | {
        readonly kind: 'failback'
        /** Who asks. Default `operator`. */
        readonly by?: string
        /**
         * First re-seed the home region's old database primary as a replica of
         * the current one (what the runbooks have operators do before a
         * failback). Default true.
         */
        readonly rebuild?: boolean
        readonly instance?: InstanceRef
      }
  )

/** Every fault and action kind. */
export const FAULT_KINDS = [
  'outage',
  'degrade',
  'flap',
  'recover',
  'lag-spike',
  'stall-replication',
  'slow-sync',
  'fail-calls',
  'hang-calls',
  'partition',
  'lose-lease',
  'manual-failover',
  'approve',
  'failback',
] as const

/** A fault or action kind. */
export type FaultKind = (typeof FAULT_KINDS)[number]

/** A scenario as written (a JSON file, or an object in code). */
export interface ScenarioInput {
  /** Short name, e.g. `region-outage`. */
  readonly name: string
  /** One paragraph for the report. */
  readonly description?: string
  /** The regions (at least two). */
  readonly regions: readonly ScenarioRegion[]
  /** The normal serving region. */
  readonly home: RegionId
  /**
   * The replicated database: its primary's region and replication settings;
   * `false` for none (the application layer only). Default: primary in
   * `home`, a replica in every other region.
   */
  readonly database?:
    | {
        readonly primary?: RegionId
        readonly replicas?: readonly RegionId[]
        /** Replication delay of every replica. Default 0. */
        readonly initialLagMs?: DurationInput
        /** Time a promotion takes. Default 0. */
        readonly promoteMs?: DurationInput
      }
    | false
  /** Controller instances sharing the lease. Default 1. */
  readonly instances?: number
  /** How long the drill runs on the virtual clock. */
  readonly durationMs: DurationInput
  /** Virtual start time: RFC 3339 UTC, or epoch ms. Default `2026-01-01T00:00:00Z`. */
  readonly start?: string | number
  /** Time between probe rounds. Default 30 s. */
  readonly probeIntervalMs?: DurationInput
  /** Lease time-to-live and renewal interval. Defaults 30 s and 10 s. */
  readonly lease?: { readonly ttlMs?: DurationInput; readonly renewEveryMs?: DurationInput }
  /** Recovery objectives. Defaults: the controller's (RTO 15 min, RPO 5 min). */
  readonly targets?: { readonly rtoMs?: DurationInput; readonly rpoMs?: DurationInput }
  /** Guard options (cooldown, RPO limit…), as for the controller. */
  readonly guards?: GuardOptions
  /** Detection thresholds, as for the controller. */
  readonly health?: HealthConfig
  /** Failover plan tuning. */
  readonly failover?: {
    readonly maxLagMs?: DurationInput
    readonly minReady?: number
    readonly scaleTo?: number
    readonly concurrency?: number
    readonly verifyEndpoint?: {
      readonly times?: number
      readonly intervalMs?: DurationInput
      readonly maxChecks?: number
    }
  }
  /** Failback: automatic or not, stages, health gate. */
  readonly failback?: {
    readonly automatic?: boolean
    readonly stages?: readonly number[]
    readonly gate?: {
      readonly windowMs?: DurationInput
      readonly intervalMs?: DurationInput
      readonly maxErrorRate?: number
      readonly maxLatencyMs?: DurationInput
    }
  }
  /**
   * Simulated traffic: one write request every `intervalMs` from the user
   * groups; `false` for none (then no data loss, split brain or residency
   * can be observed). Default every 5 s, one user group per jurisdiction of
   * the regions (pinned where a region of it is pinned).
   */
  readonly workload?:
    | { readonly intervalMs?: DurationInput; readonly users?: readonly ScenarioUsers[] }
    | false
  /** The simulated world's tuning. */
  readonly world?: {
    /** Timeout of calls to a region that does not answer (and of probes). Default 5 s. */
    readonly timeoutMs?: DurationInput
    /** Time until a routing change is in sync. Default 0. */
    readonly trafficSyncMs?: DurationInput
    /** Time until scaled-up instances are ready. Default 0. */
    readonly scalerReadyMs?: DurationInput
    /** How long the scaler's `waitReady` waits before it fails with `TIMEOUT`. Default 10 min. */
    readonly scalerWaitMs?: DurationInput
    /** The endpoint routes around down regions (as DNS health checks do). Default false. */
    readonly healthChecked?: boolean
  }
  /** The schedule: faults, recoveries and operator actions. */
  readonly faults?: readonly FaultInput[]
  /** What the drill must show. */
  readonly expect?: ScenarioExpectations
}

/** A resolved fault: durations in ms, ranges still to be drawn, `at` and `jitterMs` in ms. */
export type ScenarioFault = {
  readonly kind: FaultKind
  readonly at: number
  readonly jitterMs: number
  readonly note?: string
  readonly durationMs?: Span
  readonly [field: string]: unknown
}

/** A validated scenario with every default filled in and every duration in ms. */
export interface Scenario {
  readonly name: string
  readonly description: string
  readonly regions: readonly ScenarioRegion[]
  readonly home: RegionId
  readonly database:
    | {
        readonly primary: RegionId
        readonly replicas: readonly RegionId[]
        readonly initialLagMs: number
        readonly promoteMs: number
      }
    | false
  readonly instances: number
  readonly durationMs: number
  /** Virtual start time, epoch ms. */
  readonly start: number
  readonly probeIntervalMs: number
  readonly lease: { readonly ttlMs: number; readonly renewEveryMs: number }
  readonly targets: { readonly rtoMs: number; readonly rpoMs: number }
  readonly guards: GuardOptions
  readonly health: HealthConfig
  readonly failover: {
    readonly maxLagMs?: number
    readonly minReady?: number
    readonly scaleTo?: number
    readonly concurrency?: number
    readonly verifyEndpoint?: {
      readonly times?: number
      readonly intervalMs?: number
      readonly maxChecks?: number
    }
  }
  readonly failback: {
    readonly automatic: boolean
    readonly stages?: readonly number[]
    readonly gate?: {
      readonly windowMs?: number
      readonly intervalMs?: number
      readonly maxErrorRate?: number
      readonly maxLatencyMs?: number
    }
  }
  readonly workload:
    | { readonly intervalMs: number; readonly users: readonly ScenarioUsers[] }
    | false
  readonly world: {
    readonly timeoutMs: number
    readonly trafficSyncMs: number
    readonly scalerReadyMs: number
    readonly scalerWaitMs: number
    readonly healthChecked: boolean
  }
  /** In schedule order (as written). */
  readonly faults: readonly ScenarioFault[]
  readonly expect: ScenarioExpectations
}

/**
 * Checks a scenario (parsed JSON or an object) and resolves it: defaults
 * filled in, durations in ms, region references checked.
 *
 * @throws ConfigError naming the bad field, e.g. `faults[1].at: must be a duration…`.
 *
 * @example
 * ```ts
 * const scenario = defineScenario(JSON.parse(await readFile('outage.json', 'utf8')))
 * const result = await drill(scenario, { seed: 7 })
 * ```
 */
export function defineScenario(input: ScenarioInput | unknown): Scenario {
  return resolveScenario(input)
}
