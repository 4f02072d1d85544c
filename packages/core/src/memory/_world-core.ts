/**
 * Internal: the state of the simulated world and the machinery every port
 * shares — replaying time (workload, replication, rebuilds), routing,
 * reachability, and the call wrapper (faults, fencing, audit).
 *
 * @module
 */
import type { Clock } from '../clock.js'
import { ConfigError } from '../errors.js'
import type { CallContext, RegionId } from '../ports/context.js'
import type { Weights } from '../ports/traffic-router.js'
import {
  CallGate,
  checkContext,
  outcomeOf,
  type PortName,
  type Resource,
  throwIfAborted,
  type Unreachable,
} from './_world-calls.js'
import { DbState } from './_world-database.js'
import { Timeline } from './_world-timeline.js'
import { createRandom, type Random } from './random.js'
import { SimulatedFaultError } from './simulated-error.js'
import type {
  NotificationRecord,
  RequestRecord,
  RoutingRecord,
  SimulatedUserGroup,
  SimulatedWorldOptions,
  Violation,
  WorldEvent,
} from './world-types.js'

/** A region's static facts. */
export interface RegionInfo {
  readonly id: RegionId
  readonly jurisdiction: string | undefined
  readonly latencyMs: number
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

function nonNegative(value: unknown, path: string, fallback: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError(path, `must be a non-negative number, got ${String(v)}`)
  }
  return v
}

function positive(value: unknown, path: string, fallback: number): number {
  const v = nonNegative(value, path, fallback)
  if (v <= 0) throw new ConfigError(path, `must be positive, got ${v}`)
  return v
}

/** The world's state and shared machinery. */
export class WorldCore {
  readonly clock: Clock
  readonly random: Random
  readonly workloadRandom: Random
  readonly probeRandom: Random
  readonly regions = new Map<RegionId, RegionInfo>()
  readonly regionIds: RegionId[] = []
  readonly home: RegionId
  readonly endpointId: string
  readonly healthChecked: boolean
  readonly timeoutMs: number
  readonly fenceReads: boolean
  readonly timeline = new Timeline()
  readonly db: DbState
  readonly gate: CallGate
  readonly dbName: string
  readonly trafficName: string
  readonly syncDelayMs: number
  readonly routing: Mutable<RoutingRecord>[] = []
  readonly scalerName: string
  readonly readyDelayMs: number
  readonly pollMs: number
  readonly waitTimeoutMs: number
  /** Ready times of each region's instances (desired = length). */
  readonly fleets = new Map<RegionId, number[]>()
  readonly notifierName: string
  readonly notifications: NotificationRecord[] = []
  readonly requests: RequestRecord[] = []
  /** Cumulative requests and errors routed to each region. */
  readonly counters = new Map<RegionId, { total: number; errors: number }>()
  readonly violations: Violation[] = []
  readonly events: WorldEvent[] = []
  readonly workload:
    | { readonly intervalMs: number; readonly users?: SimulatedUserGroup[] }
    | undefined
  private lastSync: number
  private nextTick: number
  private changes = 0
  snapshots = 0

  constructor(options: SimulatedWorldOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigError('options', 'must be an object')
    }
    const clock = options.clock
    if (typeof clock?.now !== 'function' || typeof clock.sleep !== 'function') {
      throw new ConfigError('clock', 'must be a Clock (now, sleep)')
    }
    this.clock = clock
    this.random = options.random ?? createRandom(options.seed ?? 0)
    this.workloadRandom = this.random.fork('workload')
    this.probeRandom = this.random.fork('probes')
    const start = clock.now()
    if (!Array.isArray(options.regions) || options.regions.length === 0) {
      throw new ConfigError('regions', 'must be a non-empty array')
    }
    options.regions.forEach((r, i) => {
      const path = `regions[${i}]`
      if (typeof r?.id !== 'string' || r.id === '') {
        throw new ConfigError(`${path}.id`, 'must be a non-empty string')
      }
      if (this.regions.has(r.id)) throw new ConfigError(`${path}.id`, `duplicate region ${r.id}`)
      if (
        r.jurisdiction !== undefined &&
        (typeof r.jurisdiction !== 'string' || r.jurisdiction === '')
      ) {
        throw new ConfigError(`${path}.jurisdiction`, 'must be a non-empty string')
      }
      const capacity = nonNegative(r.capacity, `${path}.capacity`, 1)
      if (!Number.isSafeInteger(capacity)) {
        throw new ConfigError(`${path}.capacity`, `must be an integer, got ${capacity}`)
      }
      this.regions.set(r.id, {
        id: r.id,
        jurisdiction: r.jurisdiction,
        latencyMs: nonNegative(r.latencyMs, `${path}.latencyMs`, 10),
      })
      this.regionIds.push(r.id)
      this.fleets.set(
        r.id,
        Array.from({ length: capacity }, () => start),
      )
      this.counters.set(r.id, { total: 0, errors: 0 })
    })
    if (!this.regions.has(options.home)) {
      throw new ConfigError('home', `unknown region ${JSON.stringify(options.home)}`)
    }
    this.home = options.home
    const endpoint = options.endpoint ?? {}
    this.endpointId = endpoint.id ?? 'global'
    if (typeof this.endpointId !== 'string' || this.endpointId === '') {
      throw new ConfigError('endpoint.id', 'must be a non-empty string')
    }
    this.healthChecked = endpoint.healthChecked ?? false
    this.timeoutMs = positive(options.timeoutMs, 'timeoutMs', 5_000)
    this.fenceReads = options.fenceReads ?? true
    const known = new Set(this.regionIds)
    this.db = new DbState(
      options.database ?? {
        primary: this.home,
        replicas: this.regionIds.filter((r) => r !== this.home),
      },
      known,
      start,
      'database',
    )
    this.dbName = options.database?.name ?? 'memory:database'
    this.trafficName = options.traffic?.name ?? 'memory:traffic'
    this.syncDelayMs = nonNegative(options.traffic?.syncDelayMs, 'traffic.syncDelayMs', 0)
    this.scalerName = options.scaler?.name ?? 'memory:scaler'
    this.readyDelayMs = nonNegative(options.scaler?.readyDelayMs, 'scaler.readyDelayMs', 0)
    this.pollMs = positive(options.scaler?.pollMs, 'scaler.pollMs', 1_000)
    this.waitTimeoutMs = positive(options.scaler?.waitTimeoutMs, 'scaler.waitTimeoutMs', 600_000)
    this.notifierName = options.notifierName ?? 'memory:notifications'
    for (const [path, name] of [
      ['database.name', this.dbName],
      ['traffic.name', this.trafficName],
      ['scaler.name', this.scalerName],
      ['notifierName', this.notifierName],
    ] as const) {
      if (typeof name !== 'string' || name === '') {
        throw new ConfigError(path, 'must be a non-empty string')
      }
    }
    this.gate = new CallGate(clock, this.random.fork('faults'))
    this.routing.push({
      id: 'initial',
      weights: Object.fromEntries(this.regionIds.map((r) => [r, r === this.home ? 100 : 0])),
      submittedAt: start,
      effectiveAt: start,
      epoch: -1,
      instance: 'world',
    })
    if (options.workload === false) {
      this.workload = undefined
    } else {
      const w = options.workload ?? {}
      const intervalMs = positive(w.intervalMs, 'workload.intervalMs', 1_000)
      if (w.users !== undefined && (!Array.isArray(w.users) || w.users.length === 0)) {
        throw new ConfigError('workload.users', 'must be a non-empty array when given')
      }
      w.users?.forEach((u, i) => {
        if (typeof u?.jurisdiction !== 'string' || u.jurisdiction === '') {
          throw new ConfigError(`workload.users[${i}].jurisdiction`, 'must be a non-empty string')
        }
        positive(u.share, `workload.users[${i}].share`, Number.NaN)
      })
      this.workload = w.users === undefined ? { intervalMs } : { intervalMs, users: [...w.users] }
    }
    this.lastSync = start
    this.nextTick = start + (this.workload?.intervalMs ?? Number.POSITIVE_INFINITY)
  }

  /** Now, on the world's clock. */
  now(): number {
    return this.clock.now()
  }

  /** Records a world event. */
  event(type: string, message: string, region?: RegionId): void {
    this.events.push(
      region === undefined
        ? { at: this.now(), type, message }
        : { at: this.now(), type, message, region },
    )
  }

  /** Throws `INVALID_CONFIG` naming `path` unless `region` is a region of the world. */
  region(region: unknown, path = 'region'): RegionInfo {
    const info = typeof region === 'string' ? this.regions.get(region) : undefined
    if (info === undefined) {
      throw new ConfigError(path, `unknown region ${JSON.stringify(region)}`)
    }
    return info
  }

  /**
   * Replays time from the last sync to now: replication over each span
   * between fault boundaries, one workload request per tick, automatic
   * rebuilds. Exact because state changes only at those points and at
   * calls (which sync first).
   */
  sync(): void {
    const now = this.now()
    if (!(now > this.lastSync)) return
    const points: number[] = []
    this.timeline.boundaries(this.lastSync, now, points)
    this.db.rebuildTimes(this.lastSync, now, points)
    const interval = this.workload?.intervalMs
    if (interval !== undefined) {
      for (let t = this.nextTick; t <= now; t += interval) points.push(t)
    }
    points.push(now)
    points.sort((a, b) => a - b)
    let prev = this.lastSync
    for (const t of points) {
      if (t <= prev) continue
      this.db.replicate(this.timeline, prev, t)
      for (const node of this.db.dueRebuilds(this.timeline, t)) {
        this.db.rebuild(node.region, t)
        this.events.push({
          at: t,
          type: 'database.rebuilt',
          message: `${node.region} rebuilt as a replica`,
          region: node.region,
        })
      }
      if (interval !== undefined) {
        while (this.nextTick <= t) {
          if (this.nextTick === t) this.request(t)
          this.nextTick += interval
        }
      }
      prev = t
    }
    this.lastSync = now
  }

  /** The weights the endpoint routes by at `t`. */
  effectiveWeights(t: number): Weights {
    for (let i = this.routing.length - 1; i >= 0; i--) {
      const change = this.routing[i]!
      if (change.effectiveAt <= t) return change.weights
    }
    return this.routing[0]!.weights
  }

  /** Where the endpoint sends a request at `t`, drawing from `random`. */
  route(t: number, random: Random): RegionId | undefined {
    let weights = this.effectiveWeights(t)
    if (this.healthChecked) {
      const healthy = Object.fromEntries(
        Object.entries(weights).filter(([r]) => this.timeline.up(r, t)),
      )
      if (Object.values(healthy).some((w) => w > 0)) weights = healthy
    }
    return random.weighted(weights)
  }

  private request(t: number): void {
    const w = this.workload!
    const random = this.workloadRandom
    const group =
      w.users === undefined
        ? undefined
        : w.users[
            Number(random.weighted(Object.fromEntries(w.users.map((u, i) => [String(i), u.share]))))
          ]
    const record: Mutable<RequestRecord> = {
      seq: this.requests.length,
      at: t,
      pinned: group === undefined ? false : (group.pinned ?? true),
      ok: false,
    }
    if (group !== undefined) record.jurisdiction = group.jurisdiction
    this.requests.push(record)
    const region = this.route(t, random)
    if (region === undefined) {
      record.error = 'NO_ROUTE'
      return
    }
    record.routedTo = region
    const counter = this.counters.get(region)!
    counter.total++
    const info = this.regions.get(region)!
    if (record.pinned && info.jurisdiction !== group!.jurisdiction) {
      const v: Mutable<Violation & { kind: 'residency' }> = {
        kind: 'residency',
        at: t,
        region,
        jurisdiction: group!.jurisdiction,
        request: record.seq,
      }
      if (info.jurisdiction !== undefined) v.regionJurisdiction = info.jurisdiction
      this.violations.push(v)
    }
    const health = this.timeline.regionHealth(region, t)
    let error: string | undefined
    if (!health.up) error = health.error ?? 'UNAVAILABLE'
    else if (random.chance(health.errorRate)) error = this.timeline.degradedError(region, t)
    else {
      const outcome = this.db.accept(this.timeline, region, t, group?.jurisdiction)
      if (outcome.ok) {
        record.write = outcome.write.seq
        if (outcome.write.status === 'diverged') {
          this.violations.push({
            kind: 'split-brain',
            at: t,
            region: outcome.write.region,
            primary: this.db.head,
            write: outcome.write.seq,
          })
        }
      } else error = outcome.error
    }
    if (error === undefined) record.ok = true
    else {
      record.error = error
      counter.errors++
    }
  }

  /** Why `instance` cannot reach `region` now (a partition or an outage), if it cannot. */
  unreachable(instance: string, region: RegionId): Unreachable | undefined {
    const cut = this.gate.cut(instance, region)
    if (cut !== undefined) return cut
    const health = this.timeline.regionHealth(region, this.now())
    if (health.up) return undefined
    const error = health.error ?? 'UNAVAILABLE'
    return {
      error,
      delayMs: error === 'DEADLINE_EXCEEDED' ? this.timeoutMs : 0,
      detail: `${region} is down`,
    }
  }

  /** Waits as long as finding out takes, then throws the unreachable error. */
  async fail(u: Unreachable, call: string, signal: AbortSignal | undefined): Promise<never> {
    if (u.delayMs > 0) await this.clock.sleep(u.delayMs, signal)
    throw new SimulatedFaultError(call, u.error, u.detail)
  }

  /** Throws (after the time it takes) unless `instance` can reach `target` (a region, `traffic`, `endpoint`). */
  async reach(
    instance: string,
    target: string,
    call: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const u = this.regions.has(target)
      ? this.unreachable(instance, target)
      : this.gate.cut(instance, target)
    if (u !== undefined) await this.fail(u, call, signal)
  }

  /**
   * Runs one adapter call: context check, abort, injected faults, fencing
   * (`resource`; reads only when `fenceReads`), the body, the audit record.
   */
  async invoke<T>(
    instance: string,
    port: PortName,
    method: string,
    ctx: CallContext,
    info: { readonly region?: RegionId; readonly resource?: Resource; readonly read?: boolean },
    body: () => Promise<T>,
  ): Promise<T> {
    const call = `${port}.${method}`
    checkContext(ctx, call)
    const startedAt = this.now()
    const base = {
      startedAt,
      instance,
      port,
      method,
      epoch: ctx.epoch,
      ...(info.region === undefined ? {} : { region: info.region }),
    }
    try {
      throwIfAborted(ctx.signal, call)
      this.sync()
      const fault = await this.gate.apply(instance, port, method, info.region, ctx.signal)
      if (fault !== undefined) {
        if (fault.delayMs > 0) await this.clock.sleep(fault.delayMs, ctx.signal)
        throw new SimulatedFaultError(call, fault.error, 'injected')
      }
      this.sync()
      this.checkEpoch(info, ctx.epoch, call)
      const value = await body()
      this.gate.record({ ...base, at: this.now(), outcome: 'ok' })
      return value
    } catch (error) {
      this.gate.record({ ...base, at: this.now(), ...outcomeOf(error) })
      throw error
    }
  }

  /** Fences the call if its resource has seen a newer epoch (see {@link invoke}). */
  checkEpoch(
    info: { readonly resource?: Resource; readonly read?: boolean },
    epoch: number,
    call: string,
  ): void {
    if (info.resource === undefined) return
    if (info.read === true && !this.fenceReads) return
    this.gate.fence(info.resource, epoch, call)
  }

  /** A new routing change id. */
  changeId(): string {
    this.changes++
    return `change-${this.changes}`
  }
}
