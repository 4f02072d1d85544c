/**
 * Internal: draws a scenario's schedule with the seed (jitter, ranges) and
 * plays it on the drill's clock against the world, the lease and the
 * controllers.
 *
 * @internal
 * @module
 */
import type { Clock } from '../clock.js'
import type { Controller, RequestResult } from '../controller.js'
import type { MemoryLease } from '../memory/lease.js'
import type { Random } from '../memory/random.js'
import type { SimulatedWorld } from '../memory/world-types.js'
import type { ManualKind } from '../policy.js'
import type { Span } from './_validate.js'
import { formatDuration } from './report.js'
import type { DrillTimelineEntry } from './result.js'
import type { FaultKind, Scenario, ScenarioFault } from './scenario.js'

/** A fault with its time and every range drawn. */
export interface PlannedFault {
  readonly index: number
  readonly kind: FaultKind
  /** Ms since the start. */
  readonly at: number
  readonly durationMs: number | undefined
  readonly fields: Readonly<Record<string, unknown>>
}

function draw(span: Span, random: Random, integer: boolean): number {
  if (typeof span === 'number') return span
  const [lo, hi] = span
  if (hi === lo) return lo
  return integer ? lo + random.int(hi - lo + 1) : lo + random.next() * (hi - lo)
}

const DURATION_FIELDS = new Set([
  'durationMs',
  'extraLatencyMs',
  'periodMs',
  'downMs',
  'lagMs',
  'delayMs',
])

/**
 * Draws the schedule: each fault's start (`at` + up to `jitterMs`) and
 * its ranges, in schedule order, from `random`. Sorted by time (stable).
 */
export function planSchedule(scenario: Scenario, random: Random): PlannedFault[] {
  const planned = scenario.faults.map((f: ScenarioFault, index): PlannedFault => {
    const at = Math.min(
      scenario.durationMs,
      f.at + (f.jitterMs > 0 ? random.int(f.jitterMs + 1) : 0),
    )
    const fields: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(f)) {
      if (key === 'kind' || key === 'at' || key === 'jitterMs' || key === 'durationMs') continue
      if (key === 'errorRate' || key === 'probability') {
        fields[key] = Math.round(draw(value as Span, random, false) * 1e6) / 1e6
      } else if (DURATION_FIELDS.has(key)) fields[key] = draw(value as Span, random, true)
      else fields[key] = value
    }
    const durationMs = f.durationMs === undefined ? undefined : draw(f.durationMs, random, true)
    return { index, kind: f.kind, at, durationMs, fields }
  })
  return planned.sort((a, b) => a.at - b.at || a.index - b.index)
}

/** What the player drives. */
export interface Stage {
  readonly clock: Clock
  readonly start: number
  readonly scenario: Scenario
  readonly world: SimulatedWorld
  readonly lease: MemoryLease
  readonly controllers: readonly Controller[]
  /** Receives timeline entries for faults and actions. */
  readonly log: (entry: DrillTimelineEntry) => void
}

/** Plays a drawn schedule; `done()` resolves when every action has finished. */
export interface Player {
  /** Resolves once every fault has been applied and every action has settled. */
  done(): Promise<void>
}

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)

/** Arms one timer per planned fault on the stage's clock. */
export function playSchedule(stage: Stage, schedule: readonly PlannedFault[]): Player {
  const { clock, world, lease, controllers, scenario } = stage
  const since = (): number => clock.now() - stage.start
  const byId = (id: string): Controller | undefined => controllers.find((c) => c.instance === id)
  const leader = (): Controller | undefined => controllers.find((c) => c.lease !== undefined)
  const requests: { controller: Controller; result: RequestResult }[] = []

  const resolve = (ref: unknown): Controller | undefined =>
    ref === 'leader' ? leader() : byId(String(ref))

  const fault = (f: PlannedFault, text: string): void => {
    stage.log({
      at: since(),
      ...(f.durationMs === undefined ? {} : { durationMs: f.durationMs }),
      kind: 'fault',
      text: f.fields.note === undefined ? text : `${text} (${String(f.fields.note)})`,
    })
  }
  const action = (text: string, ok: boolean): void => {
    stage.log({ at: since(), kind: 'action', text, ok })
  }
  const window = (f: PlannedFault): { durationMs?: number } =>
    f.durationMs === undefined ? {} : { durationMs: f.durationMs }
  const leasePartition = (instance: string, f: PlannedFault, mode: 'fail' | 'timeout'): void => {
    const p = lease.partition(instance, { mode, timeoutMs: scenario.world.timeoutMs })
    if (f.durationMs !== undefined) {
      void clock.sleep(f.durationMs).then(() => p.heal())
    }
  }

  const apply = async (f: PlannedFault): Promise<void> => {
    const x = f.fields
    const region = x.region as string | undefined
    const lasting = f.durationMs === undefined ? '' : ` for ${formatDuration(f.durationMs)}`
    switch (f.kind) {
      case 'outage':
        world.faults.outage(region!, {
          ...window(f),
          ...(x.error === undefined ? {} : { error: x.error as string }),
        })
        fault(f, `outage of ${region}${lasting}`)
        return
      case 'degrade':
        world.faults.degrade(region!, {
          ...window(f),
          errorRate: x.errorRate as number,
          ...(x.extraLatencyMs === undefined ? {} : { extraLatencyMs: x.extraLatencyMs as number }),
        })
        fault(
          f,
          `${region} degraded: ${Math.round((x.errorRate as number) * 100)} % errors${lasting}`,
        )
        return
      case 'flap':
        world.faults.flap(region!, {
          ...window(f),
          periodMs: x.periodMs as number,
          ...(x.downMs === undefined ? {} : { downMs: x.downMs as number }),
        })
        fault(f, `${region} flapping every ${formatDuration(x.periodMs as number)}${lasting}`)
        return
      case 'recover':
        world.faults.recover(region!)
        fault(f, `${region} recovered`)
        return
      case 'lag-spike':
        world.faults.lagSpike({
          ...window(f),
          lagMs: x.lagMs as number,
          ...(region ? { region } : {}),
        })
        fault(
          f,
          `replication lag spike to ${formatDuration(x.lagMs as number)} on ${region ?? 'every replica'}${lasting}`,
        )
        return
      case 'stall-replication':
        world.faults.stallReplication({ ...window(f), ...(region ? { region } : {}) })
        fault(f, `replication stalled to ${region ?? 'every replica'}${lasting}`)
        return
      case 'slow-sync':
        world.faults.slowTrafficSync({ ...window(f), delayMs: x.delayMs as number })
        fault(f, `traffic changes take ${formatDuration(x.delayMs as number)} to sync${lasting}`)
        return
      case 'fail-calls':
      case 'hang-calls': {
        let instance: string | undefined
        if (x.instance !== undefined) {
          instance = resolve(x.instance)?.instance
          if (instance === undefined) {
            fault(f, `${f.kind}: no ${String(x.instance)} to target; skipped`)
            return
          }
        }
        world.faults.failCalls({
          ...window(f),
          mode: f.kind === 'hang-calls' ? 'hang' : 'fail',
          ...(x.port === undefined ? {} : { port: x.port as 'probe' }),
          ...(x.method === undefined ? {} : { method: x.method as string }),
          ...(region === undefined ? {} : { region }),
          ...(instance === undefined ? {} : { instance }),
          ...(x.error === undefined ? {} : { error: x.error as string }),
          ...(x.delayMs === undefined ? {} : { delayMs: x.delayMs as number }),
          ...(x.times === undefined ? {} : { times: x.times as number }),
          ...(x.skip === undefined ? {} : { skip: x.skip as number }),
          ...(x.probability === undefined ? {} : { probability: x.probability as number }),
        })
        const what = `${x.port ?? 'any port'}.${x.method ?? '*'}${region === undefined ? '' : ` about ${region}`}${instance === undefined ? '' : ` from ${instance}`}`
        const p = x.probability === undefined ? '' : ` (p = ${x.probability})`
        fault(f, `calls to ${what} ${f.kind === 'hang-calls' ? 'hang' : 'fail'}${p}${lasting}`)
        return
      }
      case 'partition': {
        const c = resolve(x.instance)
        if (c === undefined) {
          fault(f, `partition: no ${String(x.instance)} to cut off; skipped`)
          return
        }
        const mode = (x.mode as 'fail' | 'timeout' | undefined) ?? 'fail'
        const from = x.from as readonly string[]
        if (from.includes('lease')) leasePartition(c.instance, f, mode)
        const rest = from.filter((t) => t !== 'lease')
        if (rest.length > 0) world.faults.cut(c.instance, rest, { ...window(f), mode })
        fault(f, `${c.instance} cut off from ${from.join(', ')} (${mode})${lasting}`)
        return
      }
      case 'lose-lease': {
        const c = resolve(x.instance)
        const grant = c?.lease
        if (c === undefined || grant === undefined) {
          fault(f, `lose-lease: ${String(x.instance)} holds no lease; skipped`)
          return
        }
        if (x.revoke === true) lease.revoke()
        leasePartition(c.instance, f, 'fail')
        fault(
          f,
          `${c.instance} cut off from the lease store${x.revoke === true ? ` and its grant (epoch ${grant.epoch}) revoked` : ` (epoch ${grant.epoch} runs out)`}${lasting}`,
        )
        return
      }
      case 'manual-failover': {
        const c = resolve(x.instance)
        if (c === undefined) {
          action(`manual failover: no ${String(x.instance)} to ask`, false)
          return
        }
        const label = `${String(x.by)} asks ${c.instance} to fail over${x.target === undefined ? '' : ` to ${String(x.target)}`} (${String(x.trigger)}${x.allowDataLoss === true ? ', allowDataLoss' : ''})`
        try {
          const result = await c.requestFailover({
            kind: x.trigger as ManualKind,
            requestedBy: x.by as string,
            ...(x.target === undefined ? {} : { target: x.target as string }),
            ...(x.allowDataLoss === undefined ? {} : { allowDataLoss: x.allowDataLoss as boolean }),
            ...(x.reason === undefined ? {} : { reason: x.reason as string }),
          })
          requests.push({ controller: c, result })
          const why = result.blockedBy.length > 0 ? ` (${result.blockedBy.join(', ')})` : ''
          action(`${label}: ${result.status}${why}`, result.status !== 'blocked')
        } catch (error) {
          action(`${label}: ${errorText(error)}`, false)
        }
        return
      }
      case 'approve': {
        const pending = requests.filter((r) => r.result.status === 'awaiting-approval').at(-1)
        if (pending === undefined) {
          action(`${String(x.by)} approves: nothing awaits approval`, false)
          return
        }
        requests.splice(requests.indexOf(pending), 1)
        const label = `${String(x.by)} approves ${pending.result.id}`
        try {
          const result = await pending.controller.approve(pending.result.id, x.by as string)
          const why = result.blockedBy.length > 0 ? ` (${result.blockedBy.join(', ')})` : ''
          action(`${label}: ${result.status}${why}`, result.status === 'decided')
        } catch (error) {
          action(`${label}: ${errorText(error)}`, false)
        }
        return
      }
      case 'failback': {
        const c = resolve(x.instance)
        if (c === undefined) {
          action(`failback: no ${String(x.instance)} to ask`, false)
          return
        }
        const home = scenario.home
        if (x.rebuild === true && scenario.database !== false && world.truth.primary() !== home) {
          world.rebuild(home)
          stage.log({
            at: since(),
            kind: 'action',
            text: `operator re-seeds ${home}'s database as a replica of ${world.truth.primary()}`,
            ok: true,
          })
        }
        try {
          await c.requestFailback(x.by as string)
          action(`${String(x.by)} asks ${c.instance} to fail back to ${home}`, true)
        } catch (error) {
          action(`${String(x.by)} asks ${c.instance} to fail back: ${errorText(error)}`, false)
        }
        return
      }
    }
  }

  const pending: Promise<void>[] = []
  for (const f of schedule) {
    pending.push(
      clock.sleep(f.at).then(() =>
        apply(f).catch((error: unknown) => {
          stage.log({
            at: since(),
            kind: 'fault',
            text: `${f.kind}: ${errorText(error)}`,
            ok: false,
          })
        }),
      ),
    )
  }
  return {
    async done() {
      await Promise.all(pending)
    },
  }
}
