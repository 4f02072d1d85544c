/**
 * Health detection: per-region detectors fed probe samples, combined into an
 * assessment (`healthy` | `degraded` | `down`) with hysteresis, reporting
 * transitions the controller turns into the machine's `health.degraded` /
 * `health.recovered` events.
 *
 * Everything here is deterministic: time is the samples' `at`, never the wall
 * clock. Memory per region is constant (bucketed windows) and `observe` is
 * O(1) amortized, allocating only when the status changes.
 *
 * Defaults come from the runbooks:
 * - consecutive failures: 3 (HonuaIO: "3 consecutive failures (90s)"; ggen:
 *   "3+ consecutive health checks") → `down`;
 * - availability below 95 % over 15 min (Aurum's automatic trigger) → `down`;
 * - error rate above 10 % over 5 min (SomaAgent: "5xx errors > 10% for 5
 *   minutes") → `degraded`;
 * - replication lag above 1 h (Aurum's automatic trigger) → `degraded`;
 * - recovery after 3 consecutive successes (Route 53, which HonuaIO's
 *   automated failover relies on, uses one threshold both ways).
 *
 * @module
 */
import { BucketWindow, num, object, tripStatus, windowed } from './_detectors.js'
import { ConfigError } from './errors.js'
import type { MachineEvent } from './machine.js'
import type { RegionId } from './ports/context.js'
import type { ProbeSample } from './ports/probe.js'

/** A region's health, worst last. */
export type HealthStatus = 'healthy' | 'degraded' | 'down'

/** The status a detector reports when it trips. */
export type TripStatus = 'degraded' | 'down'

/** The detectors. */
export type DetectorName = 'consecutiveFailures' | 'errorRate' | 'availability' | 'replicationLag'

/** Every detector, in evaluation order. */
export const DETECTOR_NAMES: readonly DetectorName[] = [
  'consecutiveFailures',
  'errorRate',
  'availability',
  'replicationLag',
]

/**
 * Why a region has its status: a tripped detector with its value and
 * threshold, or `recovery` (the region is held at its status until
 * `threshold` consecutive successes; `value` is how many it has).
 */
export interface HealthReason {
  readonly detector: DetectorName | 'recovery'
  readonly value: number
  readonly threshold: number
}

/** What a region monitor knows about its region. All values are JSON-safe (no `undefined`, no NaN). */
export interface RegionAssessment {
  readonly region: RegionId
  /** `healthy`, `degraded` or `down`, after hysteresis. */
  readonly status: HealthStatus
  /** When the current status began (epoch ms of the sample that set it); `null` before any sample. */
  readonly since: number | null
  /** Why: the tripped detectors, plus `recovery` while hysteresis holds the status. Empty when healthy. */
  readonly reasons: readonly HealthReason[]
  /** Successful samples / samples over the availability window; `null` below its `minSamples`. */
  readonly availability: number | null
  /** Error rate over the error-rate window (requests, else failed samples); `null` below its minimums. */
  readonly errorRate: number | null
  /** Failed samples in a row, up to now. */
  readonly consecutiveFailures: number
  /** Successful samples in a row, up to now. */
  readonly consecutiveSuccesses: number
  /** The newest replication lag reported (ms); `null` if no sample carried one. */
  readonly lagMs: number | null
  /** Samples in the availability window. */
  readonly samples: number
  /** Time of the newest sample; `null` before any. */
  readonly lastSampleAt: number | null
}

/** A change of a region's status, reported by `observe`. */
export interface HealthChange {
  readonly region: RegionId
  /** The status before the sample. */
  readonly from: HealthStatus
  /** The status after it. */
  readonly to: HealthStatus
  /** The sample time at which it changed. */
  readonly at: number
  /** The reasons for the new status (see {@link RegionAssessment.reasons}). */
  readonly reasons: readonly HealthReason[]
  /** The assessment right after the change. */
  readonly assessment: RegionAssessment
}

/** Consecutive failed samples. Trips when the count reaches `threshold`. */
export interface ConsecutiveFailuresConfig {
  /** Failed samples in a row that trip it. Default 3. */
  readonly threshold?: number
  /** Status when tripped. Default `down`. */
  readonly status?: TripStatus
}

/** Options every windowed detector shares. */
export interface WindowConfig {
  /** Window length, ms. */
  readonly window?: number
  /**
   * Bucket width, ms: the window is `ceil(window / resolution)` buckets and
   * moves a bucket at a time. Default `round(window / 60)` (60 buckets);
   * at most 10,000 buckets.
   */
  readonly resolution?: number
  /** Samples needed in the window before the detector may trip (and before its value is reported). */
  readonly minSamples?: number
  /** Status when tripped. */
  readonly status?: TripStatus
}

/**
 * Error rate over a sliding window: `errors / total` of the samples'
 * `requests` once they add up to at least `minRequests` (the runbooks' 5xx
 * rate). With `probeFailures`, the share of failed probe samples stands in
 * when there are no request counts. Trips above `threshold`, once the
 * detector has watched a whole window.
 */
export interface ErrorRateConfig extends WindowConfig {
  /** Error rate (0..1) above which it trips. Default 0.10. Window default 5 min, `minSamples` 5, status `degraded`. */
  readonly threshold?: number
  /** Requests needed in the window to use request counts. Default 20. */
  readonly minRequests?: number
  /**
   * Without request counts, use the share of failed probe samples. Default
   * false: probe failures are the consecutive-failures and availability
   * detectors' signal, and counting them here too would call an outage
   * "degraded" (P2) before it is seen to be "down" (P1).
   */
  readonly probeFailures?: boolean
}

/** Availability (successful samples / samples) over a sliding window. Trips below `threshold`. */
export interface AvailabilityConfig extends WindowConfig {
  /** Availability (0..1) below which it trips. Default 0.95. Window default 15 min, `minSamples` 10, status `down`. */
  readonly threshold?: number
}

/** Replication lag from the newest sample carrying `lagMs`. Trips above `threshold`. */
export interface ReplicationLagConfig {
  /** Lag in ms above which it trips. Default 3,600,000 (1 h). */
  readonly threshold?: number
  /** Status when tripped. Default `degraded`. */
  readonly status?: TripStatus
}

/** Configuration of a region's detectors. Every field is optional; `false` disables a detector. */
export interface HealthConfig {
  /** Settings per detector (each merged over its defaults); `false` turns one off. */
  readonly detectors?: {
    readonly consecutiveFailures?: ConsecutiveFailuresConfig | false
    readonly errorRate?: ErrorRateConfig | false
    readonly availability?: AvailabilityConfig | false
    readonly replicationLag?: ReplicationLagConfig | false
  }
  /** Consecutive successes before a degraded or down region is let back down a level. Default 3. */
  readonly recoverAfter?: number
}

/** A {@link HealthConfig} with every default filled in (`null`: disabled). */
export interface ResolvedHealthConfig {
  /** Every detector's settings; `null` when disabled. */
  readonly detectors: {
    readonly consecutiveFailures: Required<ConsecutiveFailuresConfig> | null
    readonly errorRate: Required<ErrorRateConfig> | null
    readonly availability: Required<AvailabilityConfig> | null
    readonly replicationLag: Required<ReplicationLagConfig> | null
  }
  /** Consecutive successes needed to improve the status. */
  readonly recoverAfter: number
}

const MINUTE = 60_000

/** The defaults (see the module documentation for where each comes from). */
export const DEFAULT_HEALTH_CONFIG: ResolvedHealthConfig = {
  detectors: {
    consecutiveFailures: { threshold: 3, status: 'down' },
    errorRate: {
      window: 5 * MINUTE,
      resolution: 5_000,
      threshold: 0.1,
      minRequests: 20,
      minSamples: 5,
      probeFailures: false,
      status: 'degraded',
    },
    availability: {
      window: 15 * MINUTE,
      resolution: 15_000,
      threshold: 0.95,
      minSamples: 10,
      status: 'down',
    },
    replicationLag: { threshold: 60 * MINUTE, status: 'degraded' },
  },
  recoverAfter: 3,
}

function bool(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigError(path, 'must be a boolean')
  return value
}

/**
 * Validates `config` and fills in the defaults.
 *
 * @throws ConfigError naming the bad field, e.g. `detectors.availability.window: must be positive`.
 */
export function resolveHealthConfig(config: HealthConfig = {}): ResolvedHealthConfig {
  const raw = object('', config, ['detectors', 'recoverAfter'])
  const dets = raw.detectors === undefined ? {} : object('detectors', raw.detectors, DETECTOR_NAMES)
  const D = DEFAULT_HEALTH_CONFIG.detectors
  const pick = (name: DetectorName, keys: readonly string[]): Record<string, unknown> | null => {
    const value = dets[name]
    if (value === false) return null
    return value === undefined ? {} : object(`detectors.${name}`, value, keys)
  }
  const windowKeys = ['window', 'resolution', 'minSamples', 'status']
  const cf = pick('consecutiveFailures', ['threshold', 'status'])
  const er = pick('errorRate', [...windowKeys, 'threshold', 'minRequests', 'probeFailures'])
  const av = pick('availability', [...windowKeys, 'threshold'])
  const rl = pick('replicationLag', ['threshold', 'status'])
  const p = 'detectors.'
  return {
    detectors: {
      consecutiveFailures:
        cf &&
        ({
          threshold: num(`${p}consecutiveFailures.threshold`, cf.threshold, 3, 'count'),
          status: tripStatus(`${p}consecutiveFailures.status`, cf.status, 'down'),
        } as const),
      errorRate: er && {
        ...windowed(`${p}errorRate`, er, D.errorRate!),
        threshold: num(`${p}errorRate.threshold`, er.threshold, D.errorRate!.threshold, 'ratio'),
        minRequests: num(
          `${p}errorRate.minRequests`,
          er.minRequests,
          D.errorRate!.minRequests,
          'count',
        ),
        probeFailures: bool(
          `${p}errorRate.probeFailures`,
          er.probeFailures,
          D.errorRate!.probeFailures,
        ),
      },
      availability: av && {
        ...windowed(`${p}availability`, av, D.availability!),
        threshold: num(
          `${p}availability.threshold`,
          av.threshold,
          D.availability!.threshold,
          'ratio',
        ),
      },
      replicationLag: rl && {
        threshold: num(
          `${p}replicationLag.threshold`,
          rl.threshold,
          D.replicationLag!.threshold,
          'nonnegative',
        ),
        status: tripStatus(`${p}replicationLag.status`, rl.status, 'degraded'),
      },
    },
    recoverAfter: num(
      'recoverAfter',
      raw.recoverAfter,
      DEFAULT_HEALTH_CONFIG.recoverAfter,
      'count',
    ),
  }
}

const RANK: Readonly<Record<HealthStatus, number>> = { healthy: 0, degraded: 1, down: 2 }
const BY_RANK: readonly HealthStatus[] = ['healthy', 'degraded', 'down']

/** True if `a` is worse than `b` (`down` > `degraded` > `healthy`). */
export function worseThan(a: HealthStatus, b: HealthStatus): boolean {
  return RANK[a] > RANK[b]
}

/** The health of one region, from its samples. */
export interface RegionMonitor {
  readonly region: RegionId
  /** The current status (cheap: no assessment is built). */
  readonly status: HealthStatus
  /** The resolved configuration. */
  readonly config: ResolvedHealthConfig
  /**
   * Feeds one sample (in time order: an older `at` counts as the newest
   * seen). Returns the change of status it caused, if any. O(1) amortized;
   * allocates only on a change.
   *
   * @throws ConfigError if the sample is for another region or has a
   *   non-finite `at`, a negative `lagMs` or inconsistent `requests`.
   */
  observe(sample: ProbeSample): HealthChange | undefined
  /** The current assessment. */
  assessment(): RegionAssessment
  /** Forgets every sample: back to `healthy` with no history. */
  reset(): void
}

function invalid(path: string, reason: string): never {
  throw new ConfigError(path, reason)
}

/**
 * Creates the monitor of one region.
 *
 * Each sample updates the detectors; the worst tripped detector gives the
 * region's *raw* status. A worse raw status is adopted at once; a better one
 * only after `recoverAfter` consecutive samples that succeeded while the raw
 * status stayed better (so flapping health holds the worse status, and a
 * recovered region does not flap back).
 *
 * @param region - the region whose samples this monitor takes.
 * @param config - detector settings; defaults in {@link DEFAULT_HEALTH_CONFIG}.
 * @throws ConfigError for invalid configuration, naming the field.
 *
 * @example
 * ```ts
 * const eu = createRegionMonitor('eu-west-1', { detectors: { replicationLag: false } })
 * const change = eu.observe({ region: 'eu-west-1', ok: false, at: now, latencyMs: 30_000 })
 * if (change) bus.emit(toMachineEvent(change))
 * ```
 */
export function createRegionMonitor(region: RegionId, config: HealthConfig = {}): RegionMonitor {
  const resolved = resolveHealthConfig(config)
  const { consecutiveFailures: cf, errorRate: er, availability: av } = resolved.detectors
  const rl = resolved.detectors.replicationLag
  const M = resolved.recoverAfter
  const erWin = er && new BucketWindow(er.window, er.resolution)
  const avWin = av && new BucketWindow(av.window, av.resolution)
  const cfRank = cf ? RANK[cf.status] : 0
  const erRank = er ? RANK[er.status] : 0
  const avRank = av ? RANK[av.status] : 0
  const rlRank = rl ? RANK[rl.status] : 0

  let status = 0
  let since: number | null = null
  let lastAt = Number.NEGATIVE_INFINITY
  let failures = 0
  let successes = 0
  let calm = 0
  let lag = -1
  /** Time of the first sample (since creation or reset). */
  let firstAt = Number.NaN

  /**
   * A windowed detector judges only a window it has watched whole ("below
   * 95 % for 15 minutes", "5xx > 10 % for 5 minutes"): until then one
   * failure among a handful of samples would read as a disaster.
   */
  const covered = (window: number, resolution: number): boolean =>
    lastAt - firstAt >= window - resolution

  const errorRate = (): number | null => {
    if (!er || !erWin || !covered(er.window, er.resolution)) return null
    if (erWin.requests >= er.minRequests) return erWin.errors / erWin.requests
    if (er.probeFailures && erWin.samples >= er.minSamples) return erWin.failures / erWin.samples
    return null
  }
  const availability = (): number | null =>
    av && avWin && avWin.samples >= av.minSamples && covered(av.window, av.resolution)
      ? (avWin.samples - avWin.failures) / avWin.samples
      : null

  /** The tripped detectors (pure read of the counters). */
  const tripped = (): HealthReason[] => {
    const out: HealthReason[] = []
    if (cf && failures >= cf.threshold)
      out.push({ detector: 'consecutiveFailures', value: failures, threshold: cf.threshold })
    const e = errorRate()
    if (er && e !== null && e > er.threshold)
      out.push({ detector: 'errorRate', value: e, threshold: er.threshold })
    const a = availability()
    if (av && a !== null && a < av.threshold)
      out.push({ detector: 'availability', value: a, threshold: av.threshold })
    if (rl && lag > rl.threshold)
      out.push({ detector: 'replicationLag', value: lag, threshold: rl.threshold })
    return out
  }

  const rawRank = (): number => {
    let r = 0
    if (cf && failures >= cf.threshold) r = cfRank
    if (er && erRank > r) {
      const e = errorRate()
      if (e !== null && e > er.threshold) r = erRank
    }
    if (av && avRank > r) {
      const a = availability()
      if (a !== null && a < av.threshold) r = avRank
    }
    if (rl && rlRank > r && lag > rl.threshold) r = rlRank
    return r
  }

  const rankOf = (d: DetectorName | 'recovery'): number => {
    const c = d === 'recovery' ? undefined : resolved.detectors[d]
    return c ? RANK[c.status] : 0
  }

  const assessment = (): RegionAssessment => {
    const reasons = tripped()
    if (status > 0 && reasons.every((r) => rankOf(r.detector) < status))
      reasons.push({ detector: 'recovery', value: calm, threshold: M })
    return {
      region,
      status: BY_RANK[status]!,
      since,
      reasons,
      availability: availability(),
      errorRate: errorRate(),
      consecutiveFailures: failures,
      consecutiveSuccesses: successes,
      lagMs: lag < 0 ? null : lag,
      samples: avWin ? avWin.samples : 0,
      lastSampleAt: lastAt === Number.NEGATIVE_INFINITY ? null : lastAt,
    }
  }

  return {
    region,
    config: resolved,
    get status() {
      return BY_RANK[status]!
    },
    observe(sample) {
      if (sample.region !== region)
        invalid('sample.region', `expected "${region}", got "${sample.region}"`)
      let at = sample.at
      if (!Number.isFinite(at)) invalid('sample.at', 'must be a finite number')
      if (at < lastAt) at = lastAt
      let total = 0
      let errors = 0
      const req = sample.requests
      if (req !== undefined) {
        total = req.total
        errors = req.errors
        if (!(Number.isSafeInteger(total) && Number.isSafeInteger(errors)) || errors < 0)
          invalid('sample.requests', 'must be non-negative integers')
        if (errors > total) invalid('sample.requests.errors', 'must not exceed total')
      }
      if (sample.lagMs !== undefined) {
        if (!(sample.lagMs >= 0) || !Number.isFinite(sample.lagMs))
          invalid('sample.lagMs', 'must be a finite, non-negative number')
        lag = sample.lagMs
      }
      const ok = sample.ok
      if (ok) {
        successes++
        failures = 0
      } else {
        failures++
        successes = 0
      }
      erWin?.add(at, ok, total, errors)
      avWin?.add(at, ok, total, errors)
      if (since === null) since = at
      if (Number.isNaN(firstAt)) firstAt = at
      lastAt = at

      const raw = rawRank()
      const from = status
      if (raw > status) {
        status = raw
        calm = 0
      } else if (raw < status) {
        calm = ok ? calm + 1 : 0
        if (calm >= M) {
          status = raw
          calm = 0
        }
      } else {
        calm = 0
      }
      if (status === from) return undefined
      since = at
      const a = assessment()
      return { region, from: BY_RANK[from]!, to: a.status, at, reasons: a.reasons, assessment: a }
    },
    assessment,
    reset() {
      status = 0
      since = null
      lastAt = Number.NEGATIVE_INFINITY
      failures = 0
      successes = 0
      calm = 0
      lag = -1
      firstAt = Number.NaN
      erWin?.clear()
      avWin?.clear()
    },
  }
}

/** Options of {@link createHealthMonitor}. */
export interface HealthMonitorConfig extends HealthConfig {
  /**
   * Regions to monitor from the start (so their assessments exist before
   * any sample). Samples for other regions create their monitor on first use.
   */
  readonly regions?: readonly RegionId[]
  /**
   * Per-region settings, merged over the shared ones detector by detector
   * (a detector given here replaces the shared settings of that detector).
   */
  readonly overrides?: Readonly<Record<RegionId, HealthConfig>>
}

/** The health of every region: one {@link RegionMonitor} each, routed by `sample.region`. */
export interface HealthMonitor {
  /** Feeds one sample to its region's monitor; returns the change of status it caused, if any. */
  observe(sample: ProbeSample): HealthChange | undefined
  /** The assessment of `region` (a fresh, healthy one if it has never been sampled). */
  assessment(region: RegionId): RegionAssessment
  /** Every monitored region's assessment, by region. */
  assessments(): Readonly<Record<RegionId, RegionAssessment>>
  /** The monitor of `region` (created if needed). */
  region(region: RegionId): RegionMonitor
  /** The regions monitored so far, in creation order. */
  readonly regions: readonly RegionId[]
}

/**
 * Creates a health monitor for many regions. Configuration is validated
 * once, up front.
 *
 * @param config - detector settings shared by every region, the regions to
 *   start with, and per-region overrides. Defaults: {@link DEFAULT_HEALTH_CONFIG}.
 * @throws ConfigError naming the bad field (`overrides.eu-west-1.recoverAfter: …`).
 *
 * @example
 * ```ts
 * const health = createHealthMonitor({ regions: ['us-east-1', 'us-west-2'] })
 * const change = health.observe(await probe.check({ epoch }))
 * if (change?.region === state.serving) [state, effects] = transition(state, toMachineEvent(change))
 * ```
 */
export function createHealthMonitor(config: HealthMonitorConfig = {}): HealthMonitor {
  const { regions = [], overrides = {}, ...shared } = config
  resolveHealthConfig(shared)
  const configs = new Map<RegionId, HealthConfig>()
  for (const [id, o] of Object.entries(overrides)) {
    try {
      resolveHealthConfig(o)
      const merged = { ...shared, ...o, detectors: { ...shared.detectors, ...o.detectors } }
      resolveHealthConfig(merged)
      configs.set(id, merged)
    } catch (error) {
      if (error instanceof ConfigError) {
        const path = error.path === '' ? `overrides.${id}` : `overrides.${id}.${error.path}`
        throw new ConfigError(path, error.reason)
      }
      throw error
    }
  }
  const monitors = new Map<RegionId, RegionMonitor>()
  const order: RegionId[] = []
  const get = (id: RegionId): RegionMonitor => {
    let m = monitors.get(id)
    if (m === undefined) {
      m = createRegionMonitor(id, configs.get(id) ?? shared)
      monitors.set(id, m)
      order.push(id)
    }
    return m
  }
  for (const id of regions) get(id)
  return {
    observe: (sample) => get(sample.region).observe(sample),
    assessment: (id) => get(id).assessment(),
    assessments() {
      const out: Record<RegionId, RegionAssessment> = {}
      for (const id of order) out[id] = monitors.get(id)!.assessment()
      return out
    },
    region: get,
    regions: order,
  }
}

/**
 * The machine event for a health change: `health.recovered` when the region
 * became healthy, else `health.degraded` with the new status (a move from
 * `down` to `degraded` is reported as `health.degraded` with status
 * `degraded`, so the machine decides again on the better news).
 */
export function toMachineEvent(change: HealthChange): MachineEvent {
  return change.to === 'healthy'
    ? { type: 'health.recovered', at: change.at, region: change.region }
    : { type: 'health.degraded', at: change.at, region: change.region, status: change.to }
}
