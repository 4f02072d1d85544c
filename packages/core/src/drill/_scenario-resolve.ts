/**
 * Internal: validation and resolution of scenario files (see `scenario.ts`).
 *
 * @internal
 * @module
 */
import { CONTROLLER_DEFAULTS } from '../controller.js'
import { ConfigError } from '../errors.js'
import { resolveFailbackStages } from '../failback.js'
import { DEFAULT_GUARD_OPTIONS, GUARD_NAMES, resolveGuardOptions } from '../guards.js'
import { resolveHealthConfig } from '../health.js'
import { STATE_NAMES } from '../machine.js'
import { defineTopology, MANUAL_KINDS } from '../policy.js'
import {
  duration,
  durationSpan,
  flag,
  integer,
  join,
  list,
  number,
  numberSpan,
  oneOf,
  record,
  text,
  under,
} from './_validate.js'
import type {
  CountExpectation,
  FaultKind,
  Scenario,
  ScenarioExpectations,
  ScenarioFault,
  ScenarioRegion,
  ScenarioUsers,
} from './scenario.js'
import { FAULT_KINDS } from './scenario.js'

const TOP_KEYS = [
  'name',
  'description',
  'regions',
  'home',
  'database',
  'instances',
  'durationMs',
  'start',
  'probeIntervalMs',
  'lease',
  'targets',
  'guards',
  'health',
  'failover',
  'failback',
  'workload',
  'world',
  'faults',
  'expect',
] as const

const DEFAULT_START = Date.UTC(2026, 0, 1)
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

function regionsOf(raw: unknown): ScenarioRegion[] {
  const items = list('regions', raw, true)
  if (items.length < 2) throw new ConfigError('regions', 'a drill needs at least two regions')
  return items.map((item, i) => {
    const path = join('regions', i)
    const r = record(path, item, [
      'id',
      'jurisdiction',
      'pinned',
      'fallback',
      'priority',
      'capacity',
      'latencyMs',
    ])
    const out: Mutable<ScenarioRegion> = { id: text(join(path, 'id'), r.id) }
    if (r.jurisdiction !== undefined)
      out.jurisdiction = text(join(path, 'jurisdiction'), r.jurisdiction)
    if (r.pinned !== undefined) out.pinned = flag(join(path, 'pinned'), r.pinned)
    if (r.fallback !== undefined)
      out.fallback = oneOf(join(path, 'fallback'), r.fallback, ['read-only', 'maintenance'])
    if (r.priority !== undefined)
      out.priority = number(join(path, 'priority'), r.priority, Number.NEGATIVE_INFINITY)
    if (r.capacity !== undefined) out.capacity = integer(join(path, 'capacity'), r.capacity, 0)
    out.latencyMs = r.latencyMs === undefined ? 0 : duration(join(path, 'latencyMs'), r.latencyMs)
    return out
  })
}

function count(path: string, value: unknown): CountExpectation {
  if (typeof value === 'number') return integer(path, value)
  const c = record(path, value, ['min', 'max'])
  const out: { min?: number; max?: number } = {}
  if (c.min !== undefined) out.min = integer(join(path, 'min'), c.min)
  if (c.max !== undefined) out.max = integer(join(path, 'max'), c.max)
  if (out.min !== undefined && out.max !== undefined && out.max < out.min)
    throw new ConfigError(join(path, 'max'), `must not be below min ${out.min}`)
  return out
}

function expectationsOf(raw: unknown, regions: ReadonlySet<string>): ScenarioExpectations {
  if (raw === undefined) return {}
  const counts = [
    'failovers',
    'failbacks',
    'rollbacks',
    'failedSteps',
    'takeovers',
    'lostWrites',
  ] as const
  const e = record('expect', raw, [
    ...counts,
    'severity',
    'finalState',
    'serving',
    'primary',
    'rtoMet',
    'rpoMet',
    'blockedBy',
    'overrides',
  ])
  const out: Mutable<ScenarioExpectations> = {}
  for (const k of counts) if (e[k] !== undefined) out[k] = count(join('expect', k), e[k])
  if (e.severity !== undefined)
    out.severity = oneOf('expect.severity', e.severity, ['P1', 'P2', 'P3'])
  if (e.finalState !== undefined)
    out.finalState = oneOf('expect.finalState', e.finalState, STATE_NAMES)
  for (const k of ['serving', 'primary'] as const) {
    if (e[k] === undefined) continue
    const r = text(join('expect', k), e[k])
    if (!regions.has(r)) throw new ConfigError(join('expect', k), `unknown region "${r}"`)
    out[k] = r
  }
  for (const k of ['rtoMet', 'rpoMet'] as const)
    if (e[k] !== undefined) out[k] = flag(join('expect', k), e[k])
  for (const k of ['blockedBy', 'overrides'] as const) {
    if (e[k] === undefined) continue
    out[k] = list(join('expect', k), e[k]).map((g, i) =>
      oneOf(join(join('expect', k), i), g, GUARD_NAMES),
    )
  }
  return out
}

function usersOf(raw: unknown, path: string): ScenarioUsers[] {
  return list(path, raw, true).map((item, i) => {
    const p = join(path, i)
    const u = record(p, item, ['jurisdiction', 'share', 'pinned'])
    const share = number(join(p, 'share'), u.share)
    if (share <= 0) throw new ConfigError(join(p, 'share'), 'must be positive')
    return {
      jurisdiction: text(join(p, 'jurisdiction'), u.jurisdiction),
      share,
      pinned: u.pinned === undefined ? true : flag(join(p, 'pinned'), u.pinned),
    }
  })
}

/** One user group per jurisdiction of the regions, pinned where a region of it is pinned. */
function defaultUsers(regions: readonly ScenarioRegion[]): ScenarioUsers[] {
  const byJurisdiction = new Map<string, boolean>()
  for (const r of regions) {
    if (r.jurisdiction === undefined) continue
    byJurisdiction.set(
      r.jurisdiction,
      (byJurisdiction.get(r.jurisdiction) ?? false) || r.pinned === true,
    )
  }
  return [...byJurisdiction].map(([jurisdiction, pinned]) => ({ jurisdiction, share: 1, pinned }))
}

const PORTS = ['probe', 'traffic', 'database', 'scaler', 'notifier'] as const

function faultOf(
  item: unknown,
  i: number,
  regions: ReadonlySet<string>,
  instances: number,
): ScenarioFault {
  const path = join('faults', i)
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new ConfigError(path, 'must be an object')
  const kind = oneOf(join(path, 'kind'), (item as { kind?: unknown }).kind, FAULT_KINDS)
  const common = ['kind', 'at', 'jitterMs', 'note']
  const withLength = [...common, 'durationMs']
  const selector = ['port', 'method', 'region', 'instance', 'times', 'skip', 'probability']
  const keys: Record<FaultKind, readonly string[]> = {
    outage: [...withLength, 'region', 'error'],
    degrade: [...withLength, 'region', 'errorRate', 'extraLatencyMs'],
    flap: [...withLength, 'region', 'periodMs', 'downMs'],
    recover: [...common, 'region'],
    'lag-spike': [...withLength, 'region', 'lagMs'],
    'stall-replication': [...withLength, 'region'],
    'slow-sync': [...withLength, 'delayMs'],
    'fail-calls': [...withLength, ...selector, 'error', 'delayMs'],
    'hang-calls': [...withLength, ...selector],
    partition: [...withLength, 'instance', 'from', 'mode'],
    'lose-lease': [...withLength, 'instance', 'revoke'],
    'manual-failover': [
      ...common,
      'trigger',
      'target',
      'allowDataLoss',
      'by',
      'reason',
      'instance',
    ],
    approve: [...common, 'by'],
    failback: [...common, 'by', 'rebuild', 'instance'],
  }
  const f = record(path, item, keys[kind])
  const out: Record<string, unknown> = {
    kind,
    at: duration(join(path, 'at'), f.at),
    jitterMs: f.jitterMs === undefined ? 0 : duration(join(path, 'jitterMs'), f.jitterMs),
  }
  if (f.note !== undefined) out.note = text(join(path, 'note'), f.note)
  if (f.durationMs !== undefined)
    out.durationMs = durationSpan(join(path, 'durationMs'), f.durationMs)
  const region = (required: boolean): void => {
    if (f.region === undefined) {
      if (required) throw new ConfigError(join(path, 'region'), 'is required')
      return
    }
    const r = text(join(path, 'region'), f.region)
    if (!regions.has(r)) throw new ConfigError(join(path, 'region'), `unknown region "${r}"`)
    out.region = r
  }
  const instance = (required: boolean, fallback?: string): void => {
    const v = f.instance ?? fallback
    if (v === undefined) {
      if (required) throw new ConfigError(join(path, 'instance'), 'is required')
      return
    }
    const id = text(join(path, 'instance'), v)
    const m = /^i(\d+)$/.exec(id)
    if (id !== 'leader' && (m === null || Number(m[1]) < 1 || Number(m[1]) > instances)) {
      throw new ConfigError(
        join(path, 'instance'),
        `must be "leader" or an instance id i1…i${instances}, got ${JSON.stringify(id)}`,
      )
    }
    out.instance = id
  }
  const span = (key: string, required: boolean): void => {
    if (f[key] === undefined) {
      if (required) throw new ConfigError(join(path, key), 'is required')
      return
    }
    out[key] = durationSpan(join(path, key), f[key])
  }
  const str = (key: string, fallback?: string): void => {
    if (f[key] === undefined) {
      if (fallback !== undefined) out[key] = fallback
      return
    }
    out[key] = text(join(path, key), f[key])
  }
  switch (kind) {
    case 'outage':
      region(true)
      str('error')
      break
    case 'degrade':
      region(true)
      if (f.errorRate === undefined) throw new ConfigError(join(path, 'errorRate'), 'is required')
      out.errorRate = numberSpan(join(path, 'errorRate'), f.errorRate, 0, 1)
      span('extraLatencyMs', false)
      break
    case 'flap':
      region(true)
      span('periodMs', true)
      span('downMs', false)
      {
        const p = out.periodMs as number | readonly number[]
        if ((typeof p === 'number' ? p : p[0]!) <= 0)
          throw new ConfigError(join(path, 'periodMs'), 'must be positive')
      }
      break
    case 'recover':
      region(true)
      break
    case 'lag-spike':
      region(false)
      span('lagMs', true)
      break
    case 'stall-replication':
      region(false)
      break
    case 'slow-sync':
      span('delayMs', true)
      break
    case 'fail-calls':
    case 'hang-calls':
      if (f.port !== undefined) out.port = oneOf(join(path, 'port'), f.port, PORTS)
      str('method')
      region(false)
      instance(false)
      if (f.times !== undefined) out.times = integer(join(path, 'times'), f.times)
      if (f.skip !== undefined) out.skip = integer(join(path, 'skip'), f.skip)
      if (f.probability !== undefined)
        out.probability = numberSpan(join(path, 'probability'), f.probability, 0, 1)
      if (kind === 'fail-calls') {
        str('error')
        span('delayMs', false)
      }
      break
    case 'partition': {
      instance(true)
      const from = list(join(path, 'from'), f.from, true).map((t, k) => {
        const target = text(join(join(path, 'from'), k), t)
        if (!['lease', 'traffic', 'endpoint'].includes(target) && !regions.has(target)) {
          throw new ConfigError(
            join(join(path, 'from'), k),
            `must be lease, traffic, endpoint or a region, got ${JSON.stringify(target)}`,
          )
        }
        return target
      })
      out.from = from
      if (f.mode !== undefined) out.mode = oneOf(join(path, 'mode'), f.mode, ['fail', 'timeout'])
      break
    }
    case 'lose-lease':
      instance(false, 'leader')
      if (f.revoke !== undefined) out.revoke = flag(join(path, 'revoke'), f.revoke)
      break
    case 'manual-failover':
      out.trigger =
        f.trigger === undefined
          ? 'planned-maintenance'
          : oneOf(join(path, 'trigger'), f.trigger, MANUAL_KINDS)
      if (f.target !== undefined) {
        const t = text(join(path, 'target'), f.target)
        if (!regions.has(t)) throw new ConfigError(join(path, 'target'), `unknown region "${t}"`)
        out.target = t
      }
      if (f.allowDataLoss !== undefined)
        out.allowDataLoss = flag(join(path, 'allowDataLoss'), f.allowDataLoss)
      str('by', 'operator')
      str('reason')
      instance(false, 'leader')
      break
    case 'approve':
      str('by', 'approver')
      break
    case 'failback':
      str('by', 'operator')
      out.rebuild = f.rebuild === undefined ? true : flag(join(path, 'rebuild'), f.rebuild)
      instance(false, 'leader')
      break
  }
  return out as ScenarioFault
}

/** See `defineScenario`. */
export function resolveScenario(input: unknown): Scenario {
  const s = record('', input, TOP_KEYS)
  const name = text('name', s.name)
  if (!/^[A-Za-z0-9][\w.-]*$/.test(name))
    throw new ConfigError('name', 'use letters, digits, ".", "_" and "-" (it names files)')
  const description = s.description === undefined ? '' : text('description', s.description)
  const regions = regionsOf(s.regions)
  const home = text('home', s.home)
  const ids = new Set(regions.map((r) => r.id))
  if (!ids.has(home)) throw new ConfigError('home', `unknown region "${home}"`)

  let database: Scenario['database']
  if (s.database === false) database = false
  else {
    const d = record('database', s.database ?? {}, [
      'primary',
      'replicas',
      'initialLagMs',
      'promoteMs',
    ])
    const primary = d.primary === undefined ? home : text('database.primary', d.primary)
    if (!ids.has(primary)) throw new ConfigError('database.primary', `unknown region "${primary}"`)
    const replicas =
      d.replicas === undefined
        ? regions.map((r) => r.id).filter((r) => r !== primary)
        : list('database.replicas', d.replicas).map((r, i) => {
            const id = text(join('database.replicas', i), r)
            if (!ids.has(id) || id === primary)
              throw new ConfigError(
                join('database.replicas', i),
                `must be another known region, got "${id}"`,
              )
            return id
          })
    database = {
      primary,
      replicas,
      initialLagMs:
        d.initialLagMs === undefined ? 0 : duration('database.initialLagMs', d.initialLagMs),
      promoteMs: d.promoteMs === undefined ? 0 : duration('database.promoteMs', d.promoteMs),
    }
  }
  defineTopology({
    home,
    regions,
    ...(database === false ? {} : { databasePrimary: database.primary }),
  })

  const instances = s.instances === undefined ? 1 : integer('instances', s.instances, 1, 64)
  const durationMs = duration('durationMs', s.durationMs)
  if (durationMs <= 0) throw new ConfigError('durationMs', 'must be positive')
  let start = DEFAULT_START
  if (typeof s.start === 'number') start = integer('start', s.start)
  else if (s.start !== undefined) {
    const t = text('start', s.start)
    if (!RFC3339.test(t) || !Number.isFinite(Date.parse(t)))
      throw new ConfigError(
        'start',
        `must be an RFC 3339 UTC time like 2026-01-01T00:00:00Z, got "${t}"`,
      )
    start = Date.parse(t)
  }
  const probeIntervalMs =
    s.probeIntervalMs === undefined
      ? CONTROLLER_DEFAULTS.probeIntervalMs
      : duration('probeIntervalMs', s.probeIntervalMs)
  if (probeIntervalMs <= 0) throw new ConfigError('probeIntervalMs', 'must be positive')

  const l = record('lease', s.lease ?? {}, ['ttlMs', 'renewEveryMs'])
  const lease = {
    ttlMs:
      l.ttlMs === undefined ? CONTROLLER_DEFAULTS.lease.ttlMs : duration('lease.ttlMs', l.ttlMs),
    renewEveryMs:
      l.renewEveryMs === undefined
        ? CONTROLLER_DEFAULTS.lease.renewEveryMs
        : duration('lease.renewEveryMs', l.renewEveryMs),
  }
  if (lease.renewEveryMs <= 0) throw new ConfigError('lease.renewEveryMs', 'must be positive')
  if (lease.renewEveryMs >= lease.ttlMs)
    throw new ConfigError('lease.renewEveryMs', 'must be shorter than lease.ttlMs')

  const t = record('targets', s.targets ?? {}, ['rtoMs', 'rpoMs'])
  const targets = {
    rtoMs:
      t.rtoMs === undefined
        ? CONTROLLER_DEFAULTS.targets.rtoMs
        : duration('targets.rtoMs', t.rtoMs),
    rpoMs:
      t.rpoMs === undefined
        ? CONTROLLER_DEFAULTS.targets.rpoMs
        : duration('targets.rpoMs', t.rpoMs),
  }

  const guards = record(
    'guards',
    s.guards ?? {},
    Object.keys(DEFAULT_GUARD_OPTIONS),
  ) as Scenario['guards']
  under('guards', () => resolveGuardOptions(guards))
  const health = (s.health ?? {}) as Scenario['health']
  under('health', () => resolveHealthConfig(health))

  const fo = record('failover', s.failover ?? {}, [
    'maxLagMs',
    'minReady',
    'scaleTo',
    'concurrency',
    'verifyEndpoint',
  ])
  const failover: Mutable<Scenario['failover']> = {}
  if (fo.maxLagMs !== undefined) failover.maxLagMs = duration('failover.maxLagMs', fo.maxLagMs)
  if (fo.minReady !== undefined) failover.minReady = integer('failover.minReady', fo.minReady)
  if (fo.scaleTo !== undefined) failover.scaleTo = integer('failover.scaleTo', fo.scaleTo)
  if (fo.concurrency !== undefined)
    failover.concurrency = integer('failover.concurrency', fo.concurrency, 1)
  if (fo.verifyEndpoint !== undefined) {
    const v = record('failover.verifyEndpoint', fo.verifyEndpoint, [
      'times',
      'intervalMs',
      'maxChecks',
    ])
    const ve: { times?: number; intervalMs?: number; maxChecks?: number } = {}
    if (v.times !== undefined) ve.times = integer('failover.verifyEndpoint.times', v.times, 1)
    if (v.intervalMs !== undefined)
      ve.intervalMs = duration('failover.verifyEndpoint.intervalMs', v.intervalMs)
    if (v.maxChecks !== undefined)
      ve.maxChecks = integer('failover.verifyEndpoint.maxChecks', v.maxChecks, 1)
    failover.verifyEndpoint = ve
  }

  const fb = record('failback', s.failback ?? {}, ['automatic', 'stages', 'gate'])
  const failback: Mutable<Scenario['failback']> = {
    automatic: fb.automatic === undefined ? false : flag('failback.automatic', fb.automatic),
  }
  if (fb.stages !== undefined) {
    const stages = list('failback.stages', fb.stages, true).map((p, i) =>
      number(join('failback.stages', i), p),
    )
    resolveFailbackStages(stages, 'failback.stages')
    failback.stages = stages
  }
  if (fb.gate !== undefined) {
    const g = record('failback.gate', fb.gate, [
      'windowMs',
      'intervalMs',
      'maxErrorRate',
      'maxLatencyMs',
    ])
    const gate: {
      windowMs?: number
      intervalMs?: number
      maxErrorRate?: number
      maxLatencyMs?: number
    } = {}
    if (g.windowMs !== undefined) gate.windowMs = duration('failback.gate.windowMs', g.windowMs)
    if (g.intervalMs !== undefined) {
      gate.intervalMs = duration('failback.gate.intervalMs', g.intervalMs)
      if (gate.intervalMs <= 0)
        throw new ConfigError('failback.gate.intervalMs', 'must be positive')
    }
    if (g.maxErrorRate !== undefined)
      gate.maxErrorRate = number('failback.gate.maxErrorRate', g.maxErrorRate, 0, 1)
    if (g.maxLatencyMs !== undefined)
      gate.maxLatencyMs = duration('failback.gate.maxLatencyMs', g.maxLatencyMs)
    failback.gate = gate
  }

  let workload: Scenario['workload']
  if (s.workload === false) workload = false
  else {
    const w = record('workload', s.workload ?? {}, ['intervalMs', 'users'])
    const intervalMs =
      w.intervalMs === undefined ? 5_000 : duration('workload.intervalMs', w.intervalMs)
    if (intervalMs <= 0) throw new ConfigError('workload.intervalMs', 'must be positive')
    workload = {
      intervalMs,
      users: w.users === undefined ? defaultUsers(regions) : usersOf(w.users, 'workload.users'),
    }
  }

  const wo = record('world', s.world ?? {}, [
    'timeoutMs',
    'trafficSyncMs',
    'scalerReadyMs',
    'scalerWaitMs',
    'healthChecked',
  ])
  const world = {
    timeoutMs: wo.timeoutMs === undefined ? 5_000 : duration('world.timeoutMs', wo.timeoutMs),
    trafficSyncMs:
      wo.trafficSyncMs === undefined ? 0 : duration('world.trafficSyncMs', wo.trafficSyncMs),
    scalerReadyMs:
      wo.scalerReadyMs === undefined ? 0 : duration('world.scalerReadyMs', wo.scalerReadyMs),
    scalerWaitMs:
      wo.scalerWaitMs === undefined ? 600_000 : duration('world.scalerWaitMs', wo.scalerWaitMs),
    healthChecked:
      wo.healthChecked === undefined ? false : flag('world.healthChecked', wo.healthChecked),
  }
  if (world.timeoutMs <= 0) throw new ConfigError('world.timeoutMs', 'must be positive')
  if (world.scalerWaitMs <= 0) throw new ConfigError('world.scalerWaitMs', 'must be positive')

  const faults = (s.faults === undefined ? [] : list('faults', s.faults)).map((f, i) =>
    faultOf(f, i, ids, instances),
  )
  faults.forEach((f, i) => {
    if (f.at > durationMs)
      throw new ConfigError(
        join(join('faults', i), 'at'),
        `is after the end of the drill (${durationMs} ms)`,
      )
    if (f.kind === 'lag-spike' || f.kind === 'stall-replication') {
      if (database === false)
        throw new ConfigError(join(join('faults', i), 'kind'), 'needs a database')
      if (f.region !== undefined && !database.replicas.includes(f.region as string))
        throw new ConfigError(
          join(join('faults', i), 'region'),
          `no replica in "${String(f.region)}"`,
        )
    }
  })

  return {
    name,
    description,
    regions,
    home,
    database,
    instances,
    durationMs,
    start,
    probeIntervalMs,
    lease,
    targets,
    guards,
    health,
    failover,
    failback,
    workload,
    world,
    faults,
    expect: expectationsOf(s.expect, ids),
  }
}
