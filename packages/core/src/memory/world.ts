/**
 * A simulated multi-region world for tests and drills: regions with a
 * fleet, a replicated database, a weighted global endpoint, application
 * traffic, fault injection, and the ground truth of what really happened.
 *
 * Deterministic given its clock, its seed and the calls made to it: state
 * only changes at calls and at fault boundaries, and every random choice
 * comes from its seeded {@link Random}. Time is replayed lazily: each call
 * first brings the world up to the clock's `now` (workload requests,
 * replication), so a virtual clock needs no timers for it.
 *
 * @module
 */
import { ConfigError } from '../errors.js'
import type { CallFault, Cut } from './_world-calls.js'
import { WorldCore } from './_world-core.js'
import { createPorts, describeWeights } from './_world-ports.js'
import type { FlowFault, HealthFault, Window } from './_world-timeline.js'
import type {
  CallFaultSpec,
  CutOptions,
  FaultHandle,
  FaultWindow,
  SimulatedWorld,
  SimulatedWorldOptions,
  WorldFaults,
  WorldPorts,
  WorldTruth,
} from './world-types.js'

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(path, `must be a finite number, got ${String(value)}`)
  }
  return value
}

function nonNegative(value: unknown, path: string): number {
  const v = finite(value, path)
  if (v < 0) throw new ConfigError(path, `must not be negative, got ${v}`)
  return v
}

function errorName(value: unknown, path: string, fallback: string): string {
  const v = value ?? fallback
  if (typeof v !== 'string' || v === '') throw new ConfigError(path, 'must be a non-empty string')
  return v
}

/**
 * Creates a simulated world. See {@link SimulatedWorldOptions} for the
 * model and {@link WorldFaults} / {@link WorldTruth} for what drills script
 * and check.
 *
 * Fencing: every call to the router, the database and the scaler carries
 * `ctx.epoch`; a call with an epoch older than the highest that resource
 * has seen is refused with a `FencedError` and recorded
 * ({@link WorldTruth.fencedCalls}). A promotion checks again when it
 * commits. Probes and the notifier are not fenced.
 *
 * @throws ConfigError naming the bad option (`regions[1].id`, `database.replicas[0]`, …).
 *
 * @example
 * ```ts
 * const clock = createVirtualClock()
 * const world = createSimulatedWorld({
 *   clock, seed: 7, home: 'eu-west-1',
 *   regions: [{ id: 'eu-west-1', jurisdiction: 'EU' }, { id: 'eu-central-1', jurisdiction: 'EU' }],
 *   database: { primary: 'eu-west-1', replicas: ['eu-central-1'], initialLagMs: 500 },
 * })
 * world.faults.outage('eu-west-1', { at: clock.now() + 60_000 })
 * const sample = await world.probe('eu-west-1').check({ epoch: 1 })
 * world.truth.dataLoss() // { lost, diverged, rpoMs }
 * ```
 */
export function createSimulatedWorld(options: SimulatedWorldOptions): SimulatedWorld {
  const core = new WorldCore(options)
  const views = new Map<string, WorldPorts>()
  const connect = (instance: string): WorldPorts => {
    if (typeof instance !== 'string' || instance === '') {
      throw new ConfigError('instance', 'must be a non-empty string')
    }
    let view = views.get(instance)
    if (view === undefined) {
      view = createPorts(core, instance)
      views.set(instance, view)
    }
    return view
  }
  const main = connect('default')

  let ids = 0
  const handles: { end(): void }[] = []
  const window = (options: FaultWindow | undefined): { id: number; from: number; to: number } => {
    core.sync()
    const now = core.now()
    const at = options?.at === undefined ? now : finite(options.at, 'at')
    const from = Math.max(at, now)
    const to =
      options?.durationMs === undefined
        ? Number.POSITIVE_INFINITY
        : from + nonNegative(options.durationMs, 'durationMs')
    return { id: ++ids, from, to }
  }
  const span = (w: Window): string =>
    `from ${w.from}${Number.isFinite(w.to) ? ` for ${w.to - w.from} ms` : ''}`
  const handle = (
    w: Window,
    kind: string,
    hits: () => number,
    end: () => void = () => {
      if (w.to > core.now()) w.to = Math.max(w.from, core.now())
    },
  ): FaultHandle => {
    let cleared = false
    const h = {
      id: w.id,
      kind,
      get hits() {
        return hits()
      },
      clear() {
        if (cleared) return
        cleared = true
        core.sync()
        const ended = w.to <= core.now()
        end()
        if (!ended) core.event('fault.cleared', `${kind} #${w.id} cleared`)
      },
    }
    handles.push({ end })
    return h
  }
  const noHits = (): number => 0
  const health = (fault: HealthFault, description: string): FaultHandle => {
    core.timeline.health.push(fault)
    core.event('fault.injected', `${description} ${span(fault)}`, fault.region)
    return handle(fault, fault.kind, noHits)
  }
  const flow = (fault: FlowFault, description: string): FaultHandle => {
    core.timeline.flow.push(fault)
    core.event('fault.injected', `${description} ${span(fault)}`)
    return handle(fault, fault.kind, noHits)
  }
  const replicaRegion = (region: unknown): string | undefined => {
    if (region === undefined) return undefined
    core.region(region)
    core.db.node(region as string)
    return region as string
  }

  const faults: WorldFaults = {
    outage(region, opts = {}) {
      core.region(region)
      const error = errorName(opts.error, 'error', 'UNAVAILABLE')
      return health(
        { ...window(opts), kind: 'outage', region, error },
        `outage of ${region} (${error})`,
      )
    },
    degrade(region, opts) {
      core.region(region)
      const errorRate = nonNegative(opts?.errorRate ?? 0, 'errorRate')
      if (errorRate > 1) throw new ConfigError('errorRate', `must be at most 1, got ${errorRate}`)
      const extraLatencyMs = nonNegative(opts?.extraLatencyMs ?? 0, 'extraLatencyMs')
      const error = errorName(opts?.error, 'error', 'INTERNAL')
      return health(
        { ...window(opts), kind: 'degraded', region, errorRate, extraLatencyMs, error },
        `degradation of ${region} (error rate ${errorRate}, +${extraLatencyMs} ms)`,
      )
    },
    flap(region, opts) {
      core.region(region)
      const periodMs = nonNegative(opts?.periodMs, 'periodMs')
      if (periodMs === 0) throw new ConfigError('periodMs', 'must be positive')
      const downMs = nonNegative(opts.downMs ?? periodMs / 2, 'downMs')
      const error = errorName(opts.error, 'error', 'UNAVAILABLE')
      return health(
        { ...window(opts), kind: 'flapping', region, periodMs, downMs, error },
        `flapping of ${region} (down ${downMs} of every ${periodMs} ms)`,
      )
    },
    recover(region) {
      core.region(region)
      core.sync()
      const now = core.now()
      for (const f of core.timeline.health) {
        if (f.region === region && f.to > now) f.to = Math.max(f.from, now)
      }
      core.event('fault.cleared', `${region} recovered`, region)
    },
    lagSpike(opts) {
      const region = replicaRegion(opts?.region)
      const lagMs = nonNegative(opts?.lagMs, 'lagMs')
      return flow(
        { ...window(opts), kind: 'lag-spike', region, lagMs },
        `replication lag spike to ${lagMs} ms on ${region ?? 'every replica'}`,
      )
    },
    stallReplication(opts = {}) {
      const region = replicaRegion(opts.region)
      return flow(
        { ...window(opts), kind: 'stall', region },
        `replication stalled to ${region ?? 'every replica'}`,
      )
    },
    slowTrafficSync(opts) {
      const delayMs = nonNegative(opts?.delayMs, 'delayMs')
      return flow(
        { ...window(opts), kind: 'slow-sync', delayMs },
        `traffic sync slowed to ${delayMs} ms`,
      )
    },
    failCalls(spec: CallFaultSpec) {
      if (typeof spec !== 'object' || spec === null) {
        throw new ConfigError('spec', 'must be an object')
      }
      const ports = ['probe', 'traffic', 'database', 'scaler', 'notifier']
      if (spec.port !== undefined && !ports.includes(spec.port)) {
        throw new ConfigError(
          'port',
          `must be one of ${ports.join(', ')}, got ${String(spec.port)}`,
        )
      }
      if (spec.method !== undefined && (typeof spec.method !== 'string' || spec.method === '')) {
        throw new ConfigError('method', 'must be a non-empty string')
      }
      if (spec.region !== undefined) core.region(spec.region)
      const mode = spec.mode ?? 'fail'
      if (mode !== 'fail' && mode !== 'hang' && mode !== 'slow') {
        throw new ConfigError('mode', `must be fail, hang or slow, got ${String(mode)}`)
      }
      for (const field of ['times', 'skip'] as const) {
        const v = spec[field]
        if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
          throw new ConfigError(field, `must be a non-negative integer, got ${String(v)}`)
        }
      }
      if (spec.probability !== undefined) {
        const p = nonNegative(spec.probability, 'probability')
        if (p > 1) throw new ConfigError('probability', `must be at most 1, got ${p}`)
      }
      const fault: CallFault = {
        ...window(spec),
        spec: { ...spec },
        mode,
        error: errorName(spec.error, 'error', 'INTERNAL'),
        delayMs: nonNegative(spec.delayMs ?? 0, 'delayMs'),
        seen: 0,
        hits: 0,
        hung: new Set(),
      }
      core.gate.faults.push(fault)
      const what = `${spec.port ?? '*'}.${spec.method ?? '*'}${spec.region === undefined ? '' : ` about ${spec.region}`}${spec.instance === undefined ? '' : ` from ${spec.instance}`}`
      core.event('fault.injected', `calls ${what} ${mode} (${fault.error}) ${span(fault)}`)
      return handle(
        fault,
        'call',
        () => fault.hits,
        () => core.gate.end(fault, core.now()),
      )
    },
    cut(instance, targets, opts: CutOptions = {}) {
      if (typeof instance !== 'string' || instance === '') {
        throw new ConfigError('instance', 'must be a non-empty string')
      }
      if (!Array.isArray(targets) || targets.length === 0) {
        throw new ConfigError('targets', 'must be a non-empty array')
      }
      targets.forEach((t, i) => {
        if (t !== 'traffic' && t !== 'endpoint') core.region(t, `targets[${i}]`)
      })
      const mode = opts.mode ?? 'fail'
      if (mode !== 'fail' && mode !== 'timeout') {
        throw new ConfigError('mode', `must be fail or timeout, got ${String(mode)}`)
      }
      const cut: Cut = {
        ...window(opts),
        instance,
        targets: new Set(targets),
        mode,
        timeoutMs: nonNegative(opts.timeoutMs ?? core.timeoutMs, 'timeoutMs'),
        hits: 0,
      }
      core.gate.cuts.push(cut)
      core.event(
        'fault.injected',
        `${instance} cut off from ${targets.join(', ')} (${mode}) ${span(cut)}`,
      )
      return handle(cut, 'cut', () => cut.hits)
    },
    clearAll() {
      core.sync()
      for (const h of handles) h.end()
      core.event('fault.cleared', 'every fault cleared')
    },
  }

  const truth: WorldTruth = {
    requests() {
      core.sync()
      return core.requests.map((r) => ({ ...r }))
    },
    writes() {
      core.sync()
      return core.db.writes.map((w) => ({ ...w }))
    },
    dataLoss() {
      core.sync()
      let lost = 0
      let diverged = 0
      for (const w of core.db.writes) {
        if (w.status === 'lost') lost++
        else if (w.status === 'diverged') diverged++
      }
      return { lost, diverged, rpoMs: core.db.rpoMs }
    },
    primary() {
      core.sync()
      return core.db.head
    },
    nodes() {
      core.sync()
      return core.db.truth(core.now())
    },
    promotions() {
      core.sync()
      return core.db.promotions.slice()
    },
    snapshots() {
      return core.db.snapshots.map((s) => ({ ...s }))
    },
    weights() {
      core.sync()
      return {
        submitted: { ...core.routing.at(-1)!.weights },
        effective: { ...core.effectiveWeights(core.now()) },
      }
    },
    routingChanges() {
      return core.routing.map((c) => ({ ...c, weights: { ...c.weights } }))
    },
    regionHealth(region, at) {
      core.region(region)
      return core.timeline.regionHealth(region, at ?? core.now())
    },
    capacity(region) {
      core.region(region)
      const fleet = core.fleets.get(region)!
      const now = core.now()
      return { desired: fleet.length, ready: fleet.filter((t) => t <= now).length }
    },
    highestEpochs() {
      return { ...core.gate.highest }
    },
    calls() {
      return core.gate.calls.slice()
    },
    fencedCalls() {
      return core.gate.calls.filter((c) => c.outcome === 'fenced')
    },
    notifications() {
      return core.notifications.slice()
    },
    violations() {
      core.sync()
      return core.violations.slice()
    },
    events() {
      return core.events.slice()
    },
  }

  core.event(
    'world.created',
    `home ${core.home}, weights ${describeWeights(core.routing[0]!.weights)}`,
  )

  return {
    clock: core.clock,
    random: core.random,
    regions: core.regionIds.slice(),
    home: core.home,
    connect,
    probe: main.probe,
    endpointProbe: main.endpointProbe,
    router: main.router,
    database: main.database,
    scaler: main.scaler,
    notifier: main.notifier,
    faults,
    truth,
    rebuild(region) {
      core.region(region)
      core.sync()
      core.db.rebuild(region, core.now())
      core.event('database.rebuilt', `${region} rebuilt as a replica of ${core.db.head}`, region)
    },
    sync: () => core.sync(),
  }
}
