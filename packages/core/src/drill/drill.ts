/**
 * Drills: the real controller, several instances of it sharing one lease,
 * in a simulated world on a virtual clock, with a scenario's faults and
 * operator actions played on that clock. Deterministic by seed: the same
 * scenario and seed give a byte-identical result (and ledger).
 *
 * At the end the drill stops every instance, verifies its ledger
 * (`verify`), replays it through the pure machine (`replay`), reads the
 * world's ground truth (split brain, residency, data loss) and judges the
 * scenario's expectations and the invariants.
 *
 * @module
 */
import {
  createLedger,
  createMemoryStore,
  type EncodedReceipt,
  type Ledger,
  type LedgerStore,
  leafHash,
  type StoredReceipt,
  type VerifyReport,
  verify,
} from '@baton/ledger'
import { createVirtualClock, type VirtualClock } from '../clock.js'
import { type Controller, type ControllerOptions, createController } from '../controller.js'
import { ConfigError, CoreError } from '../errors.js'
import { resolveGuardOptions } from '../guards.js'
import { createMemoryLease, type MemoryLease } from '../memory/lease.js'
import { createRandom } from '../memory/random.js'
import { createSimulatedWorld } from '../memory/world.js'
import type { SimulatedWorld, WorldPorts } from '../memory/world-types.js'
import type { Topology } from '../policy.js'
import { type ReplayReport, replay } from '../replay.js'
import { judge, type Measurements } from './_drill-checks.js'
import { collect, sortTimeline, worldTimeline } from './_drill-collect.js'
import { planSchedule, playSchedule } from './_drill-schedule.js'
import type { DrillResult, DrillTimelineEntry } from './result.js'
import { defineScenario, type Scenario, type ScenarioInput } from './scenario.js'
import { createSeededIds } from './seeded-ids.js'

/** Everything a drill ran on, for callers that want more than the result (tests, examples, reports). */
export interface DrillRig {
  readonly scenario: Scenario
  readonly clock: VirtualClock
  readonly world: SimulatedWorld
  readonly lease: MemoryLease
  readonly ledger: Ledger
  /** The ledger's receipts, in order. */
  readonly receipts: readonly StoredReceipt[]
  readonly controllers: readonly Controller[]
  /** The drill's verification of its ledger. */
  readonly verified: VerifyReport
  /** The drill's replay of its ledger through the machine. */
  readonly replayed: ReplayReport
}

/** What a {@link DrillOptions.controller} hook gets, once per controller instance. */
export interface DrillInstance {
  /** The instance id (`i1`, `i2`…). */
  readonly instance: string
  /** The ports this instance drives (its partitions apply). */
  readonly ports: WorldPorts
  /** The simulated world (its clock, ground truth and fault injection). */
  readonly world: SimulatedWorld
  /** The drill's virtual clock. */
  readonly clock: VirtualClock
  /** The resolved scenario. */
  readonly scenario: Scenario
  /**
   * The drill's ledger, shared by every instance: a service's own receipts
   * (e.g. a team's receipt contracts, appended from an `attach` listener)
   * go into the same hash chain.
   */
  readonly ledger: Ledger
}

/**
 * Controller options a drill takes from code rather than from the scenario
 * file: the plan hook (a team's own steps), the policy, a logger.
 */
export type DrillControllerOverrides = Pick<ControllerOptions, 'plan' | 'policy' | 'logger'> & {
  /**
   * Called with the controller once it is created, before it starts: what
   * a service does with `controller.on(…)` (e.g. switch pinned users to a
   * read-only mode when a residency fallback is decided).
   */
  readonly attach?: (controller: Controller) => void
}

/** Options of {@link drill}. */
export interface DrillOptions {
  /** The seed: the world's randomness, the schedule's jitter and ranges, receipt ids. Default 0. */
  readonly seed?: number | string
  /**
   * An empty store that receives the drill's ledger when it ends (e.g. a
   * new file store, so the ledger outlives the drill), byte for byte: the
   * drill itself runs on a memory store, since the virtual clock cannot
   * wait for real I/O. The drill does not close it.
   */
  readonly store?: LedgerStore
  /** Per-instance controller options from code (a plan hook with the example's own steps). */
  readonly controller?: (instance: DrillInstance) => DrillControllerOverrides
  /** Called once the drill has finished (controllers stopped), before the result is returned. */
  readonly inspect?: (rig: DrillRig) => void | Promise<void>
}

const MAX_STOP_MS = 60 * 60_000

/**
 * Runs `scenario` with `seed` and reports what happened, what the world
 * says really happened, and whether every expectation and invariant held.
 *
 * @param scenario - a scenario object or parsed file (checked with {@link defineScenario}).
 * @throws ConfigError for an invalid scenario.
 *
 * @example
 * ```ts
 * const result = await drill(builtinScenario('region-outage'), { seed: 42 })
 * console.log(result.passed, result.failovers[0]?.rto)
 * console.log(drillReportMarkdown(result))
 * ```
 */
export async function drill(
  scenario: Scenario | ScenarioInput,
  options: DrillOptions = {},
): Promise<DrillResult> {
  const s = defineScenario(scenario)
  const seed = options.seed ?? 0
  const root = createRandom(seed)
  const worldRandom = root.fork('world')
  const scheduleRandom = root.fork('schedule')
  const idRandom = root.fork('ids')

  const clock = createVirtualClock(s.start)
  const start = s.start
  const world = createSimulatedWorld({
    clock,
    random: worldRandom,
    home: s.home,
    regions: s.regions.map((r) => ({
      id: r.id,
      ...(r.jurisdiction === undefined ? {} : { jurisdiction: r.jurisdiction }),
      ...(r.capacity === undefined ? {} : { capacity: r.capacity }),
      latencyMs: r.latencyMs ?? 0,
    })),
    ...(s.database === false
      ? { database: { primary: s.home, replicas: [] } }
      : {
          database: {
            primary: s.database.primary,
            replicas: s.database.replicas,
            initialLagMs: s.database.initialLagMs,
            promoteMs: s.database.promoteMs,
          },
        }),
    workload:
      s.workload === false
        ? false
        : {
            intervalMs: s.workload.intervalMs,
            ...(s.workload.users.length === 0 ? {} : { users: s.workload.users }),
          },
    endpoint: { healthChecked: s.world.healthChecked },
    traffic: { syncDelayMs: s.world.trafficSyncMs },
    scaler: { readyDelayMs: s.world.scalerReadyMs, waitTimeoutMs: s.world.scalerWaitMs },
    timeoutMs: s.world.timeoutMs,
  })
  const lease = createMemoryLease({ clock })
  if (options.store !== undefined && (await options.store.head()).size > 0) {
    throw new ConfigError(
      'options.store',
      `must be empty (${options.store.location} holds receipts)`,
    )
  }
  const store = createMemoryStore()
  const ledger = createLedger({ store, clock, newId: createSeededIds(idRandom) })
  const topology: Topology = {
    home: s.home,
    regions: s.regions.map((r) => ({
      id: r.id,
      ...(r.jurisdiction === undefined ? {} : { jurisdiction: r.jurisdiction }),
      ...(r.pinned === undefined ? {} : { pinned: r.pinned }),
      ...(r.fallback === undefined ? {} : { fallback: r.fallback }),
      ...(r.priority === undefined ? {} : { priority: r.priority }),
    })),
    ...(s.database === false ? {} : { databasePrimary: s.database.primary }),
  }

  const timeline: DrillTimelineEntry[] = []
  const controllers = Array.from({ length: s.instances }, (_, i) => {
    const id = `i${i + 1}`
    const ports = world.connect(id)
    const { attach, ...overrides } =
      options.controller?.({ instance: id, ports, world, clock, scenario: s, ledger }) ?? {}
    const c = createController({
      ...overrides,
      instance: id,
      topology,
      ports: {
        probes: s.regions.map((r) => ports.probe(r.id)),
        globalProbe: ports.endpointProbe(),
        router: ports.router,
        ...(s.database === false ? {} : { database: ports.database }),
        scaler: ports.scaler,
        notifier: ports.notifier,
        lease: lease.view(id),
      },
      ledger,
      clock,
      guards: s.guards,
      health: s.health,
      targets: s.targets,
      probeIntervalMs: s.probeIntervalMs,
      lease: s.lease,
      failover: s.failover,
      failback: s.failback,
    })
    c.onAny((e) => {
      if (e.type !== 'lease.lost') return
      timeline.push({
        at: e.at - start,
        kind: 'lease',
        text: `${e.holder} lost the lease (epoch ${e.epoch})`,
      })
    })
    attach?.(c)
    return c
  })

  const player = playSchedule(
    {
      clock,
      start,
      scenario: s,
      world,
      lease,
      controllers,
      log: (entry) => timeline.push(entry),
    },
    planSchedule(s, scheduleRandom),
  )
  for (const c of controllers) await c.start()
  await clock.advance(s.durationMs)

  const leader = controllers.find((c) => c.lease !== undefined)
  const epoch = leader?.lease?.epoch ?? 0
  await stopAll(clock, controllers)
  await player.done()
  const leaderState =
    leader === undefined ? null : { state: leader.state.name, serving: leader.state.serving }

  const receipts: StoredReceipt[] = []
  for await (const r of ledger.read()) receipts.push(r)
  const verified = await verify(store)
  const replayed = await replay(receipts, { home: s.home })
  const cooldownMs = resolveGuardOptions(s.guards).cooldownMs
  const c = collect(receipts, start, cooldownMs)

  const truth = world.truth
  const loss = truth.dataLoss()
  const requests = truth.requests()
  const violations = truth.violations()
  const measurements: Measurements = {
    v: 1,
    scenario: s.name,
    description: s.description,
    seed,
    startedAt: new Date(start).toISOString(),
    durationMs: s.durationMs,
    instances: s.instances,
    targets: { rtoMs: s.targets.rtoMs, rpoMs: s.targets.rpoMs },
    final: {
      state: replayed.final?.name ?? null,
      serving: replayed.final?.serving ?? null,
      leader: leader?.instance ?? null,
      epoch,
    },
    failovers: c.failovers,
    failbacks: c.failbacks,
    rollbacks: c.rollbacks,
    failedSteps: c.failedSteps,
    refusals: c.refusals,
    overrides: c.overrides,
    takeovers: c.takeovers,
    ledger: {
      receipts: receipts.length,
      head: receipts.at(-1)?.hash ?? null,
      verify: {
        status: verified.status,
        problems: verified.problems.map((p) => `${p.kind}: ${p.message}`),
      },
      replay: {
        status: replayed.status,
        transitions: replayed.transitions,
        problems: replayed.problems,
      },
    },
    truth: {
      requests: requests.length,
      failedRequests: requests.filter((r) => !r.ok).length,
      writes: truth.writes().length,
      lostWrites: loss.lost,
      divergedWrites: loss.diverged,
      dataLossMs: loss.rpoMs,
      primary: truth.primary(),
      weights: truth.weights().effective,
      promotions: truth.promotions().map((p) => ({
        at: p.at - start,
        region: p.region,
        from: p.from,
        graceful: p.graceful,
        epoch: p.epoch,
        lostWrites: p.lostWrites,
      })),
      splitBrain: violations.filter((v) => v.kind === 'split-brain').length,
      residency: violations.filter((v) => v.kind === 'residency').length,
      violations: violations.slice(0, 5).map((v) => ({
        at: v.at - start,
        kind: v.kind,
        region: v.region,
        detail:
          v.kind === 'split-brain'
            ? `write ${v.write} accepted by ${v.region} while ${v.primary} was the primary`
            : `a ${v.jurisdiction} user (request ${v.request}) routed to ${v.region}${v.regionJurisdiction === undefined ? '' : ` (${v.regionJurisdiction})`}`,
      })),
      fencedCalls: truth.fencedCalls().length,
      leaseEpochs: lease.highestEpoch,
    },
    timeline: sortTimeline([...timeline, ...c.timeline, ...worldTimeline(truth.events(), start)]),
    resolved: s,
    cooldownBreaches: c.cooldownBreaches,
    cooldownMs,
    leaderState,
  }
  const checks = judge(s.expect, measurements)
  const { cooldownBreaches: _b, cooldownMs: _c, leaderState: _l, ...rest } = measurements
  const result: DrillResult = {
    ...rest,
    passed: checks.every((k) => k.passed),
    checks,
  }
  if (options.store !== undefined) await copyInto(store, options.store)
  if (options.inspect !== undefined) {
    await options.inspect({
      scenario: s,
      clock,
      world,
      lease,
      ledger,
      receipts,
      controllers,
      verified,
      replayed,
    })
  }
  return orderKeys(result)
}

/** Appends every receipt of `from` to `to`, byte for byte, in batches. */
async function copyInto(from: LedgerStore, to: LedgerStore): Promise<void> {
  let batch: EncodedReceipt[] = []
  for await (const line of from.read()) {
    batch.push({ seq: line.seq, bytes: line.bytes, hash: leafHash(line.bytes) })
    if (batch.length === 256) {
      await to.append(batch)
      batch = []
    }
  }
  if (batch.length > 0) await to.append(batch)
}

/** Stops every controller, moving the clock while they wind down (a plan may be mid-wait). */
async function stopAll(clock: VirtualClock, controllers: readonly Controller[]): Promise<void> {
  let stopped = false
  let failure: unknown
  const stopping = Promise.all(controllers.map((c) => c.stop())).then(
    () => {
      stopped = true
    },
    (error: unknown) => {
      stopped = true
      failure = error
    },
  )
  for (let waited = 0; !stopped && waited < MAX_STOP_MS; waited += 1_000) {
    await clock.advance(1_000)
  }
  if (!stopped) {
    throw new CoreError('TIMEOUT', `drill: the controllers did not stop within ${MAX_STOP_MS} ms`)
  }
  await stopping
  if (failure !== undefined) throw failure
}

const KEY_ORDER: readonly (keyof DrillResult)[] = [
  'v',
  'scenario',
  'description',
  'seed',
  'passed',
  'checks',
  'startedAt',
  'durationMs',
  'instances',
  'targets',
  'final',
  'failovers',
  'failbacks',
  'rollbacks',
  'failedSteps',
  'refusals',
  'overrides',
  'takeovers',
  'ledger',
  'truth',
  'timeline',
  'resolved',
]

/** The result with its keys in a fixed, readable order (JSON output is then stable and diffable). */
function orderKeys(result: DrillResult): DrillResult {
  const out: Record<string, unknown> = {}
  for (const k of KEY_ORDER) out[k] = result[k]
  return out as unknown as DrillResult
}
