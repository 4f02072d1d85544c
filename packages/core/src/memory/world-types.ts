/**
 * The types of the simulated multi-region world (see
 * {@link createSimulatedWorld}): its options, the ports it serves, fault
 * injection, and the ground truth it keeps for drills' property tests.
 *
 * @module
 */
import type { Clock } from '../clock.js'
import type { RegionId } from '../ports/context.js'
import type { Database } from '../ports/database.js'
import type { Notification, Notifier } from '../ports/notifier.js'
import type { Probe } from '../ports/probe.js'
import type { Capacity, Scaler } from '../ports/scaler.js'
import type { TrafficRouter, Weights } from '../ports/traffic-router.js'
import type { Random } from './random.js'

/** A region of the simulated world. */
export interface SimulatedRegionOptions {
  /** Region id, e.g. `eu-west-1`. */
  readonly id: RegionId
  /** Jurisdiction its data stays in, e.g. `EU`, for residency checks; default none. */
  readonly jurisdiction?: string
  /** Instances desired and ready at the start; default 1. */
  readonly capacity?: number
  /** Latency of a healthy request or probe in this region (ms); default 10. */
  readonly latencyMs?: number
}

/** The replicated database of the world. */
export interface SimulatedDatabaseOptions {
  /** Reported as {@link Database.name}; default `memory:database`. */
  readonly name?: string
  /** Region of the primary at the start. */
  readonly primary: RegionId
  /** Regions holding a replica of it. */
  readonly replicas: readonly RegionId[]
  /**
   * Replication delay of every replica (ms): a write committed at `t` is
   * applied on a replica at `t + initialLagMs` while both regions are up.
   * Lag spikes and stalls change it (see {@link WorldFaults}). Default 0.
   */
  readonly initialLagMs?: number
  /** Time a promotion takes once it can proceed (ms); default 0. */
  readonly promoteMs?: number
  /** A graceful promotion that has not caught up after this long rejects with `TIMEOUT`; default 300 000. */
  readonly switchoverTimeoutMs?: number
  /**
   * A fenced old primary whose region is up becomes a replica of the
   * current primary this long after it was fenced (ms). Default: never (see
   * {@link SimulatedWorld.rebuild}).
   */
  readonly autoRebuildMs?: number
}

/** The global endpoint users reach the service through (weighted by the traffic router). */
export interface SimulatedEndpointOptions {
  /** `ProbeSample.region` of the endpoint probe; default `global`. */
  readonly id?: string
  /**
   * Route around regions that are down (as a DNS health check would) unless
   * every weighted region is down. Default false: traffic follows the
   * weights blindly and requests to a down region fail.
   */
  readonly healthChecked?: boolean
}

/** A group of users of the workload. */
export interface SimulatedUserGroup {
  /** The users' jurisdiction, e.g. `EU`. */
  readonly jurisdiction: string
  /** Relative share of requests; must be positive. */
  readonly share: number
  /** Whether their data must stay in their jurisdiction (residency); default true. */
  readonly pinned?: boolean
}

/** The simulated application traffic: one write request every `intervalMs`. */
export interface SimulatedWorkloadOptions {
  /** Time between requests (ms); default 1 000. */
  readonly intervalMs?: number
  /** Who sends them; default anonymous users with no residency. */
  readonly users?: readonly SimulatedUserGroup[]
}

/** Options for {@link createSimulatedWorld}. */
export interface SimulatedWorldOptions {
  /** The world's clock (a virtual clock in drills and tests). */
  readonly clock: Clock
  /** The regions; ids must be unique. */
  readonly regions: readonly SimulatedRegionOptions[]
  /** The region serving at the start (all traffic weight). */
  readonly home: RegionId
  /** Seed of the world's random source; default 0. Ignored when {@link random} is given. */
  readonly seed?: number | string
  /** The world's random source; default `createRandom(seed)`. */
  readonly random?: Random
  /** The database; default a primary in `home` and a replica in every other region, lag 0. */
  readonly database?: SimulatedDatabaseOptions
  /** The global endpoint; see {@link SimulatedEndpointOptions}. */
  readonly endpoint?: SimulatedEndpointOptions
  /** Application traffic; `false` for none (no writes, no RPO, no residency records). */
  readonly workload?: SimulatedWorkloadOptions | false
  /** The traffic router. */
  readonly traffic?: {
    /** Reported as {@link TrafficRouter.name}; default `memory:traffic`. */
    readonly name?: string
    /** Time until a submitted change is in sync (ms); default 0. */
    readonly syncDelayMs?: number
  }
  /** The scaler. */
  readonly scaler?: {
    /** Reported as {@link Scaler.name}; default `memory:scaler`. */
    readonly name?: string
    /** Time from `scale` until new instances are ready (ms); default 0. */
    readonly readyDelayMs?: number
    /** Poll interval of `waitReady` (ms); default 1 000. */
    readonly pollMs?: number
    /** `waitReady` rejects with `TIMEOUT` after this long (ms); default 600 000. */
    readonly waitTimeoutMs?: number
  }
  /** The notifier: reported as {@link Notifier.name}; default `memory:notifications`. */
  readonly notifierName?: string
  /**
   * How long a call to an unreachable region that times out (a
   * `DEADLINE_EXCEEDED` outage) waits before failing, and the default probe
   * timeout (ms); default 5 000.
   */
  readonly timeoutMs?: number
  /**
   * Whether reads (`getWeights`, `primaryRegion`, `replicationLag`,
   * `capacity`) are fenced too. Default true: every call to the router,
   * database and scaler with an epoch older than the highest that resource
   * has seen is refused with a `FencedError`.
   */
  readonly fenceReads?: boolean
}

/** Options of a simulated probe. */
export interface SimulatedProbeOptions {
  /** Reported as {@link Probe.name}; default `memory:probe:<region>`. */
  readonly name?: string
  /** A check slower than this fails with `DEADLINE_EXCEEDED` (ms); default the world's `timeoutMs`. */
  readonly timeoutMs?: number
}

/** The ports as one controller instance sees them (its partitions apply). */
export interface WorldPorts {
  /** The instance these ports belong to. */
  readonly instance: string
  /** A write + read health check of `region`'s own stack. */
  probe(region: RegionId, options?: SimulatedProbeOptions): Probe
  /** A check through the global endpoint; samples carry `servedBy`. */
  endpointProbe(options?: SimulatedProbeOptions): Probe
  /** The traffic router of the global endpoint. */
  readonly router: TrafficRouter
  /** The replicated database. */
  readonly database: Database
  /** The fleets of every region. */
  readonly scaler: Scaler
  /** Records notifications (see {@link WorldTruth.notifications}). */
  readonly notifier: Notifier
}

/** When a fault is active: from `at` (clock ms; default now, earlier means now) for `durationMs` (default until cleared). */
export interface FaultWindow {
  /** Start (absolute clock ms); default now. */
  readonly at?: number
  /** Duration (ms); default until cleared. */
  readonly durationMs?: number
}

/** A handle on an injected fault. */
export interface FaultHandle {
  /** Unique id, in injection order. */
  readonly id: number
  /** What kind of fault, e.g. `outage`, `call`. */
  readonly kind: string
  /** How many calls or requests it has affected so far (calls and cuts only; 0 for others). */
  readonly hits: number
  /** Ends the fault now (recovery); no-op if it already ended. */
  clear(): void
}

/** Which adapter calls a call fault matches and what it does to them. */
export interface CallFaultSpec extends FaultWindow {
  /** Port whose calls fail; default any. */
  readonly port?: 'probe' | 'traffic' | 'database' | 'scaler' | 'notifier'
  /** Method name, e.g. `promote`, `setWeights`, `check`; default any. */
  readonly method?: string
  /** Only calls about this region; default any. */
  readonly region?: RegionId
  /** Only calls from this controller instance; default any. */
  readonly instance?: string
  /**
   * `fail` (default): the call fails (a probe returns `ok: false`) with
   * {@link error}, after {@link delayMs}. `hang`: the call never answers
   * until its signal aborts (rejects `ABORTED`) or the fault ends (rejects
   * with `CONNECTION_RESET`). `slow`: the call takes {@link delayMs} longer,
   * then proceeds normally.
   */
  readonly mode?: 'fail' | 'hang' | 'slow'
  /** The simulated error of `fail`; default `INTERNAL`. */
  readonly error?: string
  /** Delay before failing (`fail`) or added latency (`slow`), in ms; default 0. */
  readonly delayMs?: number
  /** Affect at most this many calls; default unlimited. */
  readonly times?: number
  /** Let this many matching calls through first; default 0. */
  readonly skip?: number
  /** Affect each matching call with this probability (the world's seeded random); default 1. */
  readonly probability?: number
}

/** How a partitioned instance's calls fail. */
export interface CutOptions extends FaultWindow {
  /** `fail` (default): at once with `UNAVAILABLE`; `timeout`: after {@link timeoutMs} with `DEADLINE_EXCEEDED`. */
  readonly mode?: 'fail' | 'timeout'
  /** For `timeout` (ms); default the world's `timeoutMs`. */
  readonly timeoutMs?: number
}

/**
 * Fault injection. Faults are windows on the clock: they can be scheduled
 * ahead (`at`) and end by themselves (`durationMs`) or when cleared. Every
 * random choice comes from the world's seeded random source.
 */
export interface WorldFaults {
  /**
   * The region is down: probes fail with `error` (default `UNAVAILABLE`;
   * `DEADLINE_EXCEEDED` fails after the timeout), its database node and
   * fleet are unreachable, its requests and writes fail, replication to and
   * from it stops.
   */
  outage(region: RegionId, options?: FaultWindow & { readonly error?: string }): FaultHandle
  /** Partial degradation: requests and probes fail with probability `errorRate` and take `extraLatencyMs` longer. */
  degrade(
    region: RegionId,
    options: FaultWindow & {
      /** Probability in `[0, 1]` that a request or probe fails; default 0. */
      readonly errorRate?: number
      /** Added latency (ms); default 0. */
      readonly extraLatencyMs?: number
      /** The error of failed requests; default `INTERNAL`. */
      readonly error?: string
    },
  ): FaultHandle
  /** Flapping health: down for the first `downMs` (default half) of every `periodMs` from `at`. */
  flap(
    region: RegionId,
    options: FaultWindow & {
      /** Length of one down + up cycle (ms). */
      readonly periodMs: number
      /** Down part of each cycle (ms); default `periodMs / 2`. */
      readonly downMs?: number
      /** Error while down; default `UNAVAILABLE`. */
      readonly error?: string
    },
  ): FaultHandle
  /** Ends every outage, degradation and flapping of `region` now. */
  recover(region: RegionId): void
  /** The replication delay of `region`'s replica (default every replica) becomes `lagMs` during the window. */
  lagSpike(
    options: FaultWindow & {
      /** The replica's region; default every replica. */
      readonly region?: RegionId
      /** Replication delay during the spike (ms). */
      readonly lagMs: number
    },
  ): FaultHandle
  /** Replication to `region` (default every replica) stops: lag grows while the primary takes writes. */
  stallReplication(options?: FaultWindow & { readonly region?: RegionId }): FaultHandle
  /** Routing changes submitted during the window take `delayMs` to be in sync. */
  slowTrafficSync(options: FaultWindow & { readonly delayMs: number }): FaultHandle
  /** Failing, hanging or slow adapter calls (see {@link CallFaultSpec}). */
  failCalls(spec: CallFaultSpec): FaultHandle
  /**
   * Partitions controller `instance` from `targets`: regions (its probes,
   * database and scaler calls about them), `traffic` (the router's API) or
   * `endpoint` (the global endpoint probe). Lease partitions are on the
   * lease ({@link MemoryLease.partition}).
   */
  cut(
    instance: string,
    targets: readonly (RegionId | 'traffic' | 'endpoint')[],
    options?: CutOptions,
  ): FaultHandle
  /** Ends every fault now. */
  clearAll(): void
}

/** Health of a region at one time, as the world knows it. */
export interface RegionHealth {
  /** Whether the region is up. */
  readonly up: boolean
  /** The error requests see while it is down. */
  readonly error?: string
  /** Probability that a request fails while up (degradation). */
  readonly errorRate: number
  /** Added latency (ms). */
  readonly extraLatencyMs: number
}

/** One application request of the workload. */
export interface RequestRecord {
  /** Position in {@link WorldTruth.requests}. */
  readonly seq: number
  /** When it was sent (clock ms). */
  readonly at: number
  /** The user's jurisdiction, when the workload has user groups. */
  readonly jurisdiction?: string
  /** Whether the user's data must stay in their jurisdiction. */
  readonly pinned: boolean
  /** The region the global endpoint sent it to; absent when no region had weight. */
  readonly routedTo?: RegionId
  /** Whether it succeeded (its write was accepted). */
  readonly ok: boolean
  /** Why it failed, e.g. `UNAVAILABLE`, `READ_ONLY`, `NO_ROUTE`. */
  readonly error?: string
  /** The write it made, by {@link WriteRecord.seq}. */
  readonly write?: number
}

/** One write accepted by a database node. */
export interface WriteRecord {
  /** Position in {@link WorldTruth.writes}. */
  readonly seq: number
  /** When it was accepted (clock ms). */
  readonly at: number
  /** The region whose database node accepted it. */
  readonly region: RegionId
  /** The region the request entered through. */
  readonly routedTo: RegionId
  /** The fencing epoch of the node that accepted it (the epoch of its promotion; 0 for the initial primary). */
  readonly epoch: number
  /** The user's jurisdiction, if any. */
  readonly jurisdiction?: string
  /**
   * `committed`: in the history of the current primary. `lost`: committed
   * on an old primary but never replicated to the replica that was promoted
   * ungracefully (RPO). `diverged`: accepted by an old primary that still
   * took writes after another region had been promoted (split brain).
   */
  readonly status: 'committed' | 'lost' | 'diverged'
}

/** The database node of one region. */
export interface DatabaseNodeTruth {
  /** Its region. */
  readonly region: RegionId
  /** `primary` (accepts writes), `replica`, or `fenced` (read-only old primary). */
  readonly role: 'primary' | 'replica' | 'fenced'
  /** Whether it is the current primary (the one `primaryRegion` reports). */
  readonly current: boolean
  /** The epoch of its last promotion (0 for the initial primary and replicas never promoted). */
  readonly epoch: number
  /** For a replica: it has applied every write committed up to this time (clock ms). */
  readonly appliedThrough: number
  /** For a replica: replication lag now (ms). */
  readonly lagMs: number
  /** Whether it refuses writes during a graceful switchover. */
  readonly switching: boolean
}

/** One promotion. */
export interface PromotionRecord {
  /** When it completed. */
  readonly at: number
  /** The region promoted. */
  readonly region: RegionId
  /** The primary it replaced. */
  readonly from: RegionId
  /** Graceful (switchover) or not. */
  readonly graceful: boolean
  /** The fencing epoch of the call. */
  readonly epoch: number
  /** The controller instance that asked. */
  readonly instance: string
  /** Writes lost by it. */
  readonly lostWrites: number
  /** Time span of the lost commits (ms): last lost commit − what the promoted replica had applied; 0 if none. */
  readonly lostMs: number
}

/** One routing change. */
export interface RoutingRecord {
  /** The change id. */
  readonly id: string
  /** The weights it set (every region). */
  readonly weights: Weights
  /** When it was submitted. */
  readonly submittedAt: number
  /** When it is (or was) in sync: the endpoint routes by it from then on. */
  readonly effectiveAt: number
  /** The fencing epoch of the call (-1 for the initial weights). */
  readonly epoch: number
  /** The controller instance that submitted it (`world` for the initial weights). */
  readonly instance: string
}

/** One adapter call, as the world saw it. */
export interface CallRecord {
  /** When it started. */
  readonly startedAt: number
  /** When it ended. */
  readonly at: number
  /** The controller instance. */
  readonly instance: string
  /** The port. */
  readonly port: 'probe' | 'traffic' | 'database' | 'scaler' | 'notifier'
  /** The method, e.g. `promote`. */
  readonly method: string
  /** The epoch it carried. */
  readonly epoch: number
  /** The region it was about, if any. */
  readonly region?: RegionId
  /** `ok`, `failed` (threw), `fenced` (refused for a stale epoch), `aborted`. */
  readonly outcome: 'ok' | 'failed' | 'fenced' | 'aborted'
  /** The error message when it did not succeed. */
  readonly error?: string
}

/** A notification the world's notifier received. */
export interface NotificationRecord {
  /** When. */
  readonly at: number
  /** The instance that sent it. */
  readonly instance: string
  /** The epoch of the call. */
  readonly epoch: number
  /** The message. */
  readonly notification: Notification
}

/** Something that happened in the world, for timelines. */
export interface WorldEvent {
  /** When (clock ms). */
  readonly at: number
  /** Dotted type, e.g. `fault.injected`, `database.promoted`, `traffic.submitted`. */
  readonly type: string
  /** One line saying what. */
  readonly message: string
  /** The region concerned, if one. */
  readonly region?: RegionId
}

/** A safety property the world saw broken. */
export type Violation =
  | {
      /** Two regions accepted writes: an old primary took a write after another was promoted. */
      readonly kind: 'split-brain'
      /** When. */
      readonly at: number
      /** The region of the old primary that accepted it. */
      readonly region: RegionId
      /** The current primary then. */
      readonly primary: RegionId
      /** The write, by {@link WriteRecord.seq}. */
      readonly write: number
    }
  | {
      /** A pinned user was routed to a region outside their jurisdiction. */
      readonly kind: 'residency'
      /** When. */
      readonly at: number
      /** The region. */
      readonly region: RegionId
      /** The user's jurisdiction. */
      readonly jurisdiction: string
      /** The region's jurisdiction, if it has one. */
      readonly regionJurisdiction?: string
      /** The request, by {@link RequestRecord.seq}. */
      readonly request: number
    }

/** Data lost so far (RPO ground truth). */
export interface DataLossTruth {
  /** Writes committed on an old primary and lost by ungraceful promotions. */
  readonly lost: number
  /** Writes accepted by old primaries after another region was promoted (split brain). */
  readonly diverged: number
  /** Time span of lost commits per promotion, max over promotions (ms): the measured RPO. */
  readonly rpoMs: number
}

/**
 * What really happened, for property tests: every read brings the world up
 * to the clock's `now` first and returns copies.
 */
export interface WorldTruth {
  /** Every workload request. */
  requests(): readonly RequestRecord[]
  /** Every accepted write, with its current status. */
  writes(): readonly WriteRecord[]
  /** Lost and diverged writes, and the measured RPO. */
  dataLoss(): DataLossTruth
  /** The current primary region. */
  primary(): RegionId
  /** Every region's database node. */
  nodes(): readonly DatabaseNodeTruth[]
  /** Every promotion. */
  promotions(): readonly PromotionRecord[]
  /** Every snapshot taken. */
  snapshots(): readonly { readonly id: string; readonly region: RegionId; readonly at: number }[]
  /** Weights submitted last, and the ones the endpoint routes by now. */
  weights(): { readonly submitted: Weights; readonly effective: Weights }
  /** Every routing change, the initial weights first. */
  routingChanges(): readonly RoutingRecord[]
  /** Health of `region` now, or at time `at`. */
  regionHealth(region: RegionId, at?: number): RegionHealth
  /** Capacity of `region` now (even while it is down). */
  capacity(region: RegionId): Capacity
  /** The highest epoch each fenced resource has seen. */
  highestEpochs(): { readonly traffic: number; readonly database: number; readonly scaler: number }
  /** Every adapter call. */
  calls(): readonly CallRecord[]
  /** Calls refused for a stale epoch. */
  fencedCalls(): readonly CallRecord[]
  /** Every notification received. */
  notifications(): readonly NotificationRecord[]
  /** Split-brain writes and residency violations, in time order. */
  violations(): readonly Violation[]
  /** What happened, in order. */
  events(): readonly WorldEvent[]
}

/** A simulated multi-region world: ports for controllers, fault injection, ground truth. */
export interface SimulatedWorld {
  /** The world's clock. */
  readonly clock: Clock
  /** The world's random source. */
  readonly random: Random
  /** Region ids, in the order given. */
  readonly regions: readonly RegionId[]
  /** The home region. */
  readonly home: RegionId
  /** The ports as controller instance `instance` sees them (the same object per instance). */
  connect(instance: string): WorldPorts
  /** `connect('default').probe(region, options)`. */
  probe(region: RegionId, options?: SimulatedProbeOptions): Probe
  /** `connect('default').endpointProbe(options)`. */
  endpointProbe(options?: SimulatedProbeOptions): Probe
  /** `connect('default').router`. */
  readonly router: TrafficRouter
  /** `connect('default').database`. */
  readonly database: Database
  /** `connect('default').scaler`. */
  readonly scaler: Scaler
  /** `connect('default').notifier`. */
  readonly notifier: Notifier
  /** Fault injection. */
  readonly faults: WorldFaults
  /** Ground truth. */
  readonly truth: WorldTruth
  /**
   * Rebuilds `region`'s database node as an up-to-date replica of the
   * current primary (an operator re-seeding an old primary before a
   * failback). Throws `INVALID_STATE` for the current primary's region.
   */
  rebuild(region: RegionId): void
  /** Brings the simulation (workload, replication) up to the clock's now. Every port call does this itself. */
  sync(): void
}
