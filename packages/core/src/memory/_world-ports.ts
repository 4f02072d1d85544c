/**
 * Internal: the ports of the simulated world as one controller instance
 * sees them.
 *
 * @module
 */
import { ConfigError, CoreError } from '../errors.js'
import type { CallContext, RegionId } from '../ports/context.js'
import type { Database } from '../ports/database.js'
import type { Notifier } from '../ports/notifier.js'
import type { Probe, ProbeSample } from '../ports/probe.js'
import type { Capacity, Scaler } from '../ports/scaler.js'
import type { RoutingChange, TrafficRouter, Weights } from '../ports/traffic-router.js'
import { checkContext, throwIfAborted } from './_world-calls.js'
import type { WorldCore } from './_world-core.js'
import { promote } from './_world-promote.js'
import type { SimulatedProbeOptions, WorldPorts } from './world-types.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Validates a weight map: known regions, finite non-negative numbers; returns it over every region. */
export function checkWeights(core: WorldCore, weights: Weights, path = 'weights'): Weights {
  if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) {
    throw new ConfigError(path, 'must be an object of region → weight')
  }
  const full: Record<RegionId, number> = Object.fromEntries(core.regionIds.map((r) => [r, 0]))
  for (const [region, weight] of Object.entries(weights)) {
    const at = `${path}.${region}`
    if (!core.regions.has(region)) throw new ConfigError(at, `unknown region ${region}`)
    if (typeof weight !== 'number' || !Number.isFinite(weight)) {
      throw new ConfigError(at, `must be a finite number, got ${String(weight)}`)
    }
    if (weight < 0) throw new ConfigError(at, `must not be negative, got ${weight}`)
    full[region] = weight
  }
  return full
}

function checkCount(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(path, `must be a non-negative integer, got ${String(value)}`)
  }
  return value
}

/** One probe check: the parts shared by region and endpoint probes. */
async function check(
  core: WorldCore,
  instance: string,
  probe: { readonly region: RegionId; readonly timeoutMs: number; readonly endpoint: boolean },
  ctx: CallContext,
  finish: (sample: Mutable<ProbeSample>, servedBy: RegionId | undefined) => void,
): Promise<ProbeSample> {
  const call = 'probe.check'
  checkContext(ctx, call)
  const { signal } = ctx
  const clock = core.clock
  const startedAt = core.now()
  const record = (outcome: 'ok' | 'aborted' | 'failed', error?: string): void =>
    core.gate.record({
      startedAt,
      at: core.now(),
      instance,
      port: 'probe',
      method: 'check',
      epoch: ctx.epoch,
      region: probe.region,
      outcome,
      ...(error === undefined ? {} : { error }),
    })
  try {
    throwIfAborted(signal, call)
    core.sync()
    let error: string | undefined
    let served: RegionId | undefined
    const wait = (ms: number): Promise<void> =>
      ms > 0 ? clock.sleep(Math.min(ms, probe.timeoutMs), signal) : Promise.resolve()
    const fault = await core.gate.apply(instance, 'probe', 'check', probe.region, signal)
    const cut =
      fault !== undefined
        ? undefined
        : core.gate.cut(instance, probe.endpoint ? 'endpoint' : probe.region)
    if (fault !== undefined) {
      await wait(fault.delayMs)
      error = fault.delayMs >= probe.timeoutMs ? 'DEADLINE_EXCEEDED' : fault.error
    } else if (cut !== undefined) {
      await wait(cut.delayMs)
      error = cut.error
    } else {
      served = probe.endpoint ? core.route(core.now(), core.probeRandom) : probe.region
      if (served === undefined) error = 'NO_ROUTE'
      else {
        const health = core.timeline.regionHealth(served, core.now())
        const latency = core.regions.get(served)!.latencyMs + health.extraLatencyMs
        if (!health.up) {
          const down = health.error ?? 'UNAVAILABLE'
          await wait(down === 'DEADLINE_EXCEEDED' ? probe.timeoutMs : latency)
          error = down
        } else if (latency >= probe.timeoutMs) {
          await wait(probe.timeoutMs)
          error = 'DEADLINE_EXCEEDED'
        } else {
          await wait(latency)
          if (core.probeRandom.chance(health.errorRate)) {
            error = core.timeline.degradedError(served, core.now())
          }
        }
      }
    }
    core.sync()
    const sample: Mutable<ProbeSample> = {
      region: probe.region,
      ok: error === undefined,
      at: core.now(),
      latencyMs: core.now() - startedAt,
    }
    if (error !== undefined) sample.error = error
    finish(sample, error === undefined ? served : undefined)
    record('ok')
    return sample
  } catch (e) {
    const aborted = e instanceof CoreError && e.code === 'ABORTED'
    record(aborted ? 'aborted' : 'failed', e instanceof Error ? e.message : String(e))
    throw e
  }
}

/** The ports for `instance`. */
export function createPorts(core: WorldCore, instance: string): WorldPorts {
  const probe = (region: RegionId, options: SimulatedProbeOptions = {}): Probe => {
    core.region(region)
    const name = options.name ?? `memory:probe:${region}`
    if (typeof name !== 'string' || name === '') {
      throw new ConfigError('options.name', 'must be a non-empty string')
    }
    const timeoutMs = options.timeoutMs ?? core.timeoutMs
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigError('options.timeoutMs', `must be a positive number, got ${timeoutMs}`)
    }
    core.sync()
    const seen = { ...core.counters.get(region)! }
    return {
      name,
      region,
      check: (ctx) =>
        check(core, instance, { region, timeoutMs, endpoint: false }, ctx, (sample) => {
          const node = core.db.nodes.get(region)
          if (node?.role === 'replica') sample.lagMs = core.db.lag(node, core.now())
          if (core.workload !== undefined) {
            const c = core.counters.get(region)!
            sample.requests = { total: c.total - seen.total, errors: c.errors - seen.errors }
            seen.total = c.total
            seen.errors = c.errors
          }
        }),
    }
  }

  const endpointProbe = (options: SimulatedProbeOptions = {}): Probe => {
    const name = options.name ?? `memory:endpoint:${core.endpointId}`
    if (typeof name !== 'string' || name === '') {
      throw new ConfigError('options.name', 'must be a non-empty string')
    }
    const timeoutMs = options.timeoutMs ?? core.timeoutMs
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigError('options.timeoutMs', `must be a positive number, got ${timeoutMs}`)
    }
    const region = core.endpointId
    return {
      name,
      region,
      check: (ctx) =>
        check(core, instance, { region, timeoutMs, endpoint: true }, ctx, (sample, servedBy) => {
          if (servedBy !== undefined) sample.servedBy = servedBy
        }),
    }
  }

  const traffic = { resource: 'traffic' } as const
  const router: TrafficRouter = {
    name: core.trafficName,
    async getWeights(ctx) {
      return core.invoke(
        instance,
        'traffic',
        'getWeights',
        ctx,
        { ...traffic, read: true },
        async () => {
          await core.reach(instance, 'traffic', 'traffic.getWeights', ctx.signal)
          return { ...core.routing.at(-1)!.weights }
        },
      )
    },
    async setWeights(weights, ctx) {
      const full = checkWeights(core, weights)
      return core.invoke(instance, 'traffic', 'setWeights', ctx, traffic, async () => {
        await core.reach(instance, 'traffic', 'traffic.setWeights', ctx.signal)
        core.sync()
        const now = core.now()
        const previous = core.routing.at(-1)!
        const change = {
          id: core.changeId(),
          weights: full,
          submittedAt: now,
          effectiveAt: Math.max(
            previous.effectiveAt,
            now + core.timeline.syncDelay(core.syncDelayMs, now),
          ),
          epoch: ctx.epoch,
          instance,
        }
        core.routing.push(change)
        core.event(
          'traffic.submitted',
          `${change.id} by ${instance} (epoch ${ctx.epoch}): ${describeWeights(full)}, in sync at +${change.effectiveAt - now} ms`,
        )
        const result: RoutingChange = { id: change.id, weights: { ...full }, submittedAt: now }
        return result
      })
    },
    async waitInSync(change, ctx) {
      const id = (change as RoutingChange | undefined)?.id
      const known = core.routing.find((c) => c.id === id && c.id !== 'initial')
      if (known === undefined) {
        throw new ConfigError('change.id', `unknown routing change ${JSON.stringify(id)}`)
      }
      return core.invoke(
        instance,
        'traffic',
        'waitInSync',
        ctx,
        { ...traffic, read: true },
        async () => {
          await core.reach(instance, 'traffic', 'traffic.waitInSync', ctx.signal)
          const left = known.effectiveAt - core.now()
          if (left > 0) await core.clock.sleep(left, ctx.signal)
          core.sync()
        },
      )
    },
    async describe(weights) {
      const full = checkWeights(core, weights)
      const current = core.routing.at(-1)!.weights
      const lines = core.regionIds.map((r) =>
        current[r] === full[r]
          ? `${core.trafficName}: ${r} keeps weight ${full[r]}`
          : `${core.trafficName}: set weight of ${r} from ${current[r] ?? 0} to ${full[r]}`,
      )
      lines.push(`then wait until the change is in sync (about ${core.syncDelayMs} ms)`)
      return lines
    },
  }

  const dbCall = <T>(
    method: string,
    region: RegionId | undefined,
    ctx: CallContext,
    read: boolean,
    body: () => Promise<T>,
  ): Promise<T> =>
    core.invoke(
      instance,
      'database',
      method,
      ctx,
      { resource: 'database', read, ...(region === undefined ? {} : { region }) },
      body,
    )

  const database: Database = {
    name: core.dbName,
    async primaryRegion(ctx) {
      return dbCall('primaryRegion', undefined, ctx, true, async () => core.db.head)
    },
    async replicationLag(region, ctx) {
      core.db.node(region)
      return dbCall('replicationLag', region, ctx, true, async () => {
        await core.reach(instance, region, 'database.replicationLag', ctx.signal)
        core.sync()
        const now = core.now()
        const node = core.db.node(region)
        // Only a replica of the current primary has a lag: an old primary (never
        // fenced, or fenced) is not one until it is rebuilt.
        if (region !== core.db.head && node.role !== 'replica') {
          throw new CoreError(
            'INVALID_STATE',
            `database.replicationLag: ${region} holds no replica of the current primary (it is a ${node.role === 'primary' ? 'stale' : node.role} old primary): rebuild it first`,
          )
        }
        return { region, lagMs: core.db.lag(node, now), measuredAt: now }
      })
    },
    async snapshot(region, ctx) {
      core.db.node(region)
      return dbCall('snapshot', region, ctx, false, async () => {
        await core.reach(instance, region, 'database.snapshot', ctx.signal)
        core.snapshots++
        const id = `snapshot-${core.snapshots}`
        core.db.snapshots.push({ id, region, at: core.now() })
        core.event('database.snapshot', `${id} of ${region} by ${instance}`, region)
        return { id }
      })
    },
    async promote(region, options, ctx) {
      core.db.node(region)
      if (typeof options?.graceful !== 'boolean') {
        throw new ConfigError('options.graceful', 'must be a boolean')
      }
      return dbCall('promote', region, ctx, false, () =>
        promote(core, instance, region, options.graceful, ctx),
      )
    },
    async verifyWrites(region, ctx) {
      core.db.node(region)
      return dbCall('verifyWrites', region, ctx, false, async () => {
        const startedAt = core.now()
        const u = core.unreachable(instance, region)
        if (u !== undefined) {
          if (u.delayMs > 0) await core.clock.sleep(u.delayMs, ctx.signal)
          return { ok: false, latencyMs: core.now() - startedAt, error: u.error }
        }
        const health = core.timeline.regionHealth(region, core.now())
        const latency = core.regions.get(region)!.latencyMs + health.extraLatencyMs
        if (latency > 0) await core.clock.sleep(latency, ctx.signal)
        core.sync()
        const node = core.db.node(region)
        const latencyMs = core.now() - startedAt
        if (node.role !== 'primary' || node.switching) {
          return { ok: false, latencyMs, error: `READ_ONLY: ${region} is a ${node.role}` }
        }
        if (core.probeRandom.chance(health.errorRate)) {
          return { ok: false, latencyMs, error: core.timeline.degradedError(region, core.now()) }
        }
        return { ok: true, latencyMs }
      })
    },
    async fence(region, ctx) {
      core.db.node(region)
      return dbCall('fence', region, ctx, false, async () => {
        const u = core.unreachable(instance, region)
        if (u !== undefined) {
          if (u.delayMs > 0) await core.clock.sleep(u.delayMs, ctx.signal)
          return { fenced: false, reachable: false }
        }
        core.db.fence(region, core.now())
        core.event(
          'database.fenced',
          `${region} fenced by ${instance} (epoch ${ctx.epoch})`,
          region,
        )
        return { fenced: true, reachable: true }
      })
    },
  }

  const capacityOf = (region: RegionId): Capacity => {
    const fleet = core.fleets.get(region)!
    const now = core.now()
    return { desired: fleet.length, ready: fleet.filter((t) => t <= now).length }
  }
  const scaler: Scaler = {
    name: core.scalerName,
    async capacity(region, ctx) {
      core.region(region)
      return core.invoke(
        instance,
        'scaler',
        'capacity',
        ctx,
        { resource: 'scaler', read: true, region },
        async () => {
          await core.reach(instance, region, 'scaler.capacity', ctx.signal)
          return capacityOf(region)
        },
      )
    },
    async scale(region, desired, ctx) {
      core.region(region)
      checkCount(desired, 'desired')
      return core.invoke(
        instance,
        'scaler',
        'scale',
        ctx,
        { resource: 'scaler', region },
        async () => {
          await core.reach(instance, region, 'scaler.scale', ctx.signal)
          const fleet = core.fleets.get(region)!
          const readyAt = core.now() + core.readyDelayMs
          while (fleet.length < desired) fleet.push(readyAt)
          fleet.length = desired
          core.event('scaler.scaled', `${region} scaled to ${desired} by ${instance}`, region)
        },
      )
    },
    async waitReady(region, ready, ctx) {
      core.region(region)
      checkCount(ready, 'ready')
      return core.invoke(
        instance,
        'scaler',
        'waitReady',
        ctx,
        { resource: 'scaler', read: true, region },
        async () => {
          const deadline = core.now() + core.waitTimeoutMs
          for (;;) {
            await core.reach(instance, region, 'scaler.waitReady', ctx.signal)
            const capacity = capacityOf(region)
            if (capacity.ready >= ready) return capacity
            const now = core.now()
            if (now >= deadline) {
              throw new CoreError(
                'TIMEOUT',
                `scaler.waitReady: ${region} has ${capacity.ready} of ${ready} ready after ${core.waitTimeoutMs} ms`,
              )
            }
            const fleet = [...core.fleets.get(region)!].sort((a, b) => a - b)
            const at =
              fleet.length >= ready && ready > 0 ? fleet[ready - 1]! : Number.POSITIVE_INFINITY
            await core.clock.sleep(Math.min(core.pollMs, at - now, deadline - now), ctx.signal)
          }
        },
      )
    },
  }

  const notifier: Notifier = {
    name: core.notifierName,
    async notify(notification, ctx) {
      return core.invoke(instance, 'notifier', 'notify', ctx, {}, async () => {
        core.notifications.push({ at: core.now(), instance, epoch: ctx.epoch, notification })
      })
    },
  }

  return { instance, probe, endpointProbe, router, database, scaler, notifier }
}

/** `eu-west-1=100, us-east-1=0`. */
export function describeWeights(weights: Weights): string {
  return Object.entries(weights)
    .map(([r, w]) => `${r}=${w}`)
    .join(', ')
}
