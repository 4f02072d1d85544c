import { describe, expect, it } from 'vitest'
import {
  type AnyStepSpec,
  type Approvals,
  type Capacity,
  createApprovals,
  createExecutor,
  createFailoverPlan,
  createOperationPlan,
  createPlan,
  createRollbackPlan,
  createVirtualClock,
  type Database,
  failoverDataLossMs,
  fenceStep,
  formatDryRun,
  gatedStageStep,
  type Notification,
  type Notifier,
  notifyStep,
  type Operation,
  type PlanDecision,
  type PlanEvent,
  type PlanMode,
  type PlanPorts,
  type Probe,
  type ProbeSample,
  preflightStep,
  promoteStep,
  type RoutingChange,
  type Scaler,
  scaleStep,
  shiftTrafficStep,
  snapshotStep,
  type TrafficRouter,
  type VirtualClock,
  verifyEndpointStep,
  verifyWritesStep,
  type Weights,
  waitForApprovalStep,
} from '../src/index.js'

const T0 = Date.UTC(2026, 0, 1)
const US = 'us-east-1'
const EU = 'eu-west-1'
const op: Operation = { kind: 'failover', id: 'op-7', from: US, to: EU, startedAt: T0 }

// ---------------------------------------------------------------------------
// Small fakes of the ports, on the virtual clock

function fakeRouter(
  clock: VirtualClock,
  initial: Weights,
  options: { syncMs?: number; hangSyncOnce?: boolean; failSetAfter?: number } = {},
) {
  let weights: Weights = { ...initial }
  let n = 0
  let hang = options.hangSyncOnce === true
  const history: Weights[] = []
  const router: TrafficRouter & { history: Weights[]; readonly weights: Weights } = {
    name: 'fake-dns',
    history,
    get weights() {
      return weights
    },
    async getWeights() {
      return { ...weights }
    },
    async setWeights(w, ctx) {
      if (options.failSetAfter !== undefined && n >= options.failSetAfter) {
        throw new Error('router refused')
      }
      n++
      ctx.signal?.throwIfAborted()
      weights = { ...w }
      history.push({ ...w })
      return { id: `c${n}`, weights: w, submittedAt: clock.now() } satisfies RoutingChange
    },
    async waitInSync(_change, ctx) {
      if (hang) {
        hang = false
        await clock.sleep(24 * 3_600_000, ctx.signal)
      }
      await clock.sleep(options.syncMs ?? 30_000, ctx.signal)
    },
    async describe(w) {
      return [
        `set ${Object.entries(w)
          .map(([r, x]) => `${r}=${x}`)
          .join(', ')} on fake-dns`,
      ]
    },
  }
  return router
}

function fakeProbe(
  region: string,
  sample: (i: number, now: number) => Partial<ProbeSample> = () => ({}),
): Probe & { calls: number } {
  const probe = {
    name: `probe:${region}`,
    region,
    calls: 0,
    async check(): Promise<ProbeSample> {
      const i = probe.calls++
      return { region, ok: true, at: 0, latencyMs: 50, ...sample(i, 0) }
    },
  }
  return probe
}

interface DbOptions {
  lag?: (now: number) => number
  promoteMs?: number
  snapshot?: 'ok' | 'fail' | 'hang'
  fence?: { fenced: boolean; reachable: boolean } | 'fail'
  verify?: (i: number) => { ok: boolean; latencyMs: number; error?: string }
  primaryMoves?: boolean
}

function fakeDatabase(clock: VirtualClock, options: DbOptions = {}) {
  let primary = US
  let verifies = 0
  const calls: string[] = []
  const db: Database & { calls: string[] } = {
    name: 'fake-db',
    calls,
    async primaryRegion() {
      return primary
    },
    async replicationLag(region) {
      calls.push(`lag ${region}`)
      return { region, lagMs: options.lag?.(clock.now() - T0) ?? 2_000, measuredAt: clock.now() }
    },
    async snapshot(region, ctx) {
      calls.push(`snapshot ${region}`)
      if (options.snapshot === 'fail') throw new Error('instance unreachable')
      if (options.snapshot === 'hang') await clock.sleep(24 * 3_600_000, ctx.signal)
      await clock.sleep(20_000, ctx.signal)
      return { id: `${region}-final-1` }
    },
    async promote(region, { graceful }, ctx) {
      calls.push(`promote ${region} ${graceful ? 'graceful' : 'ungraceful'}`)
      await clock.sleep(options.promoteMs ?? 60_000, ctx.signal)
      if (options.primaryMoves !== false) primary = region
      return { region, promotedAt: clock.now() }
    },
    async verifyWrites(region) {
      calls.push(`verify ${region}`)
      return options.verify?.(verifies++) ?? { ok: true, latencyMs: 12 }
    },
    async fence(region, ctx) {
      calls.push(`fence ${region}`)
      if (options.fence === 'fail') throw new Error('connection refused')
      await clock.sleep(5_000, ctx.signal)
      return options.fence ?? { fenced: true, reachable: true }
    },
  }
  return db
}

function fakeScaler(clock: VirtualClock, caps: Record<string, Capacity>, readyMs = 120_000) {
  const calls: string[] = []
  const scaler: Scaler & { calls: string[]; caps: Record<string, Capacity> } = {
    name: 'fake-asg',
    calls,
    caps,
    async capacity(region) {
      const c = caps[region]
      if (c === undefined) throw new Error(`${region} unreachable`)
      return { ...c }
    },
    async scale(region, desired) {
      calls.push(`scale ${region} ${desired}`)
      caps[region] = { desired, ready: caps[region]?.ready ?? 0 }
    },
    async waitReady(region, ready, ctx) {
      await clock.sleep(readyMs, ctx.signal)
      caps[region] = { desired: caps[region]!.desired, ready }
      return { ...caps[region]! }
    },
  }
  return scaler
}

function fakeNotifier(clock: VirtualClock, mode: 'ok' | 'fail' | 'hang' = 'ok') {
  const sent: Notification[] = []
  const notifier: Notifier & { sent: Notification[] } = {
    name: 'fake-chat',
    sent,
    async notify(n, ctx) {
      if (mode === 'fail') throw new Error('chat is down')
      if (mode === 'hang') await clock.sleep(3_600_000, ctx.signal)
      sent.push(n)
    },
  }
  return notifier
}

// ---------------------------------------------------------------------------
// Running one step (or a plan) on the virtual clock

function harness() {
  const clock = createVirtualClock(T0)
  const events: PlanEvent[] = []
  const executor = createExecutor({ clock, hooks: { onEvent: (e) => void events.push(e) } })
  const run = async (
    steps: readonly AnyStepSpec[],
    mode: PlanMode = 'graceful',
    operation = op,
  ) => {
    const handle = executor.run(createPlan({ id: 'test', steps }), { operation, epoch: 3, mode })
    await clock.runUntilIdle()
    return handle.result
  }
  return { clock, events, executor, run }
}

/** A step that always fails (after `deps`), to trigger compensation. */
const failAfter = (deps: string[]): AnyStepSpec => ({
  id: 'boom',
  title: 'boom',
  dependsOn: deps,
  run: () => Promise.reject(new Error('later step failed')),
})

// ---------------------------------------------------------------------------

describe('preflight', () => {
  it('passes when the target is healthy, ready, and lag is within the limit', async () => {
    const { clock, run } = harness()
    const probes = [fakeProbe(US, () => ({ ok: false })), fakeProbe(EU)]
    const r = await run([
      preflightStep({
        probes,
        scaler: fakeScaler(clock, { [EU]: { desired: 2, ready: 2 } }),
        database: fakeDatabase(clock, { lag: () => 5_000 }),
        samples: 3,
        sampleIntervalMs: 1_000,
      }),
    ])
    expect(r.ok).toBe(true)
    expect(r.results.preflight).toEqual({
      region: EU,
      health: { probe: `probe:${EU}`, samples: 3, latencyMs: 50 },
      capacity: { desired: 2, ready: 2, minReady: 1 },
      lag: { lagMs: 5_000, limitMs: 60_000, withinLimit: true, overridden: false },
    })
    expect(r.durationMs).toBe(2_000)
    expect(probes[1]?.calls).toBe(3)
  })

  it('aborts above 60 s of lag, naming every problem', async () => {
    const { clock, run } = harness()
    const r = await run([
      preflightStep({
        probes: fakeProbe(EU, () => ({ ok: false, error: 'HTTP 503' })),
        scaler: fakeScaler(clock, { [EU]: { desired: 2, ready: 0 } }),
        database: fakeDatabase(clock, { lag: () => 75_000 }),
      }),
    ])
    expect(r.outcome).toBe('failed')
    expect(r.failure?.message).toBe(
      `preflight failed for ${EU}: ${EU} is unhealthy (probe:${EU}: HTTP 503); ${EU} has 0 ready instances, needs 1; replication lag 75 s is above the 60 s limit`,
    )
    expect(r.failure?.details).toMatchObject({
      region: EU,
      lag: { lagMs: 75_000, limitMs: 60_000, withinLimit: false, overridden: false },
    })
  })

  it('lets allowDataLoss override the lag limit, recording it', async () => {
    const { clock, run } = harness()
    const r = await run([
      preflightStep({
        probes: fakeProbe(EU),
        database: fakeDatabase(clock, { lag: () => 75_000 }),
        allowDataLoss: true,
      }),
    ])
    expect(r.ok).toBe(true)
    expect(r.results.preflight).toMatchObject({
      lag: { lagMs: 75_000, withinLimit: false, overridden: true },
    })
  })

  it('refuses an unreadable lag unless data loss is allowed', async () => {
    const { clock, run } = harness()
    const db = fakeDatabase(clock)
    db.replicationLag = () => Promise.reject(new Error('replica gone'))
    const r = await run([preflightStep({ probes: fakeProbe(EU), database: db })])
    expect(r.failure?.message).toContain('replication lag of eu-west-1 is unknown (replica gone)')
    const r2 = await run([
      preflightStep({ probes: fakeProbe(EU), database: db, allowDataLoss: true }),
    ])
    expect(r2.results.preflight).toMatchObject({
      lag: { lagMs: null, overridden: true, error: 'replica gone' },
    })
  })

  it('fails with a config error when no probe covers the target', async () => {
    const { run } = harness()
    const r = await run([preflightStep({ probes: [fakeProbe(US)] })])
    expect(r.failure?.code).toBe('INVALID_CONFIG')
    expect(r.failure?.message).toBe('probes: no probe for region "eu-west-1" (have us-east-1)')
    expect(() => preflightStep({ probes: fakeProbe(EU), maxLagMs: -1 })).toThrow('maxLagMs')
  })
})

describe('snapshot', () => {
  it('takes a final snapshot of the old primary', async () => {
    const { clock, run } = harness()
    const db = fakeDatabase(clock)
    const r = await run([snapshotStep({ database: db, probes: [fakeProbe(US), fakeProbe(EU)] })])
    expect(r.results.snapshot).toEqual({ region: US, taken: true, id: `${US}-final-1` })
    expect(db.calls).toEqual([`snapshot ${US}`])
  })

  it('skips, with the reason, when the old primary is unreachable', async () => {
    const { clock, run } = harness()
    const db = fakeDatabase(clock)
    const r = await run([
      snapshotStep({
        database: db,
        probes: fakeProbe(US, () => ({ ok: false, error: 'timeout' })),
      }),
    ])
    expect(r.ok).toBe(true)
    expect(r.results.snapshot).toEqual({
      region: US,
      taken: false,
      reason: `${US} unreachable: timeout`,
    })
    expect(db.calls).toEqual([])
  })

  it('skips when the snapshot fails or hangs; fails when required', async () => {
    const { clock, run } = harness()
    const failing = await run([
      snapshotStep({ database: fakeDatabase(clock, { snapshot: 'fail' }) }),
    ])
    expect(failing.results.snapshot).toEqual({
      region: US,
      taken: false,
      reason: 'snapshot failed: instance unreachable',
    })
    const hanging = await run([
      snapshotStep({ database: fakeDatabase(clock, { snapshot: 'hang' }), callTimeoutMs: 30_000 }),
    ])
    expect(hanging.results.snapshot).toMatchObject({
      taken: false,
      reason: 'snapshot failed: timed out after 30 s',
    })
    expect(hanging.durationMs).toBe(30_000)
    const required = await run([
      snapshotStep({ database: fakeDatabase(clock, { snapshot: 'fail' }), required: true }),
    ])
    expect(required.failure?.message).toBe(
      `final snapshot of ${US} failed: snapshot failed: instance unreachable`,
    )
  })
})

describe('fence', () => {
  it('fences a reachable old primary', async () => {
    const { clock, run } = harness()
    const r = await run([fenceStep({ database: fakeDatabase(clock) })])
    expect(r.results.fence).toEqual({ region: US, fenced: true, reachable: true })
  })

  it('records an unreachable primary in ungraceful mode, fails in graceful mode', async () => {
    const { clock, run } = harness()
    const down = { fenced: false, reachable: false }
    const ungraceful = await run(
      [fenceStep({ database: fakeDatabase(clock, { fence: down }) })],
      'ungraceful',
    )
    expect(ungraceful.results.fence).toEqual({
      region: US,
      fenced: false,
      reachable: false,
      reason: 'old primary unreachable',
    })
    const failing = await run(
      [fenceStep({ database: fakeDatabase(clock, { fence: 'fail' }) })],
      'ungraceful',
    )
    expect(failing.results.fence).toMatchObject({
      fenced: false,
      reason: 'fence failed: connection refused',
    })
    const graceful = await run(
      [fenceStep({ database: fakeDatabase(clock, { fence: down }), retries: { max: 0 } })],
      'graceful',
    )
    expect(graceful.failure?.message).toBe(
      `cannot fence the old primary in ${US}: old primary unreachable`,
    )
  })

  it('fails when the primary is reachable but not fenced (retried first)', async () => {
    const { clock, run } = harness()
    const r = await run(
      [fenceStep({ database: fakeDatabase(clock, { fence: { fenced: false, reachable: true } }) })],
      'ungraceful',
    )
    expect(r.failure).toMatchObject({
      attempts: 3,
      message: `old primary in ${US} is reachable but was not fenced`,
    })
  })
})

describe('promote', () => {
  it('graceful: waits for lag 0, then promotes (zero data loss) and verifies', async () => {
    const { clock, run } = harness()
    const db = fakeDatabase(clock, { lag: (t) => Math.max(0, 3_000 - t), promoteMs: 10_000 })
    const r = await run([promoteStep({ database: db, lagPollMs: 1_000 })])
    expect(r.ok).toBe(true)
    expect(r.results.promote).toEqual({
      region: EU,
      graceful: true,
      promotedAt: T0 + 13_000,
      lagMsAtPromotion: 0,
      waitedMs: 3_000,
    })
    expect(db.calls.filter((c) => c.startsWith('lag')).length).toBe(4)
    expect(db.calls.at(-1)).toBe(`promote ${EU} graceful`)
  })

  it('ungraceful: promotes at once, recording the lag', async () => {
    const { clock, run } = harness()
    const db = fakeDatabase(clock, { lag: () => 8_000 })
    const r = await run([promoteStep({ database: db })], 'ungraceful')
    expect(r.results.promote).toMatchObject({
      graceful: false,
      lagMsAtPromotion: 8_000,
      waitedMs: 0,
    })
    expect(db.calls).toEqual([`lag ${EU}`, `promote ${EU} ungraceful`])
    expect(failoverDataLossMs(r as never)).toBe(8_000)
  })

  it('fails verification when the primary did not move', async () => {
    const { clock, run } = harness()
    const r = await run(
      [promoteStep({ database: fakeDatabase(clock, { primaryMoves: false }) })],
      'ungraceful',
    )
    expect(r.failure?.message).toBe(
      `step "promote": verification failed: the primary is in ${US}, not ${EU}`,
    )
  })

  it('times out a graceful promotion whose lag never reaches 0', async () => {
    const { clock, run } = harness()
    const r = await run([
      promoteStep({ database: fakeDatabase(clock, { lag: () => 500 }), timeoutMs: 60_000 }),
    ])
    expect(r.failure?.code).toBe('TIMEOUT')
    expect(r.durationMs).toBe(60_000)
  })
})

describe('verify-writes', () => {
  it('passes, retries a failed write, and enforces a latency limit', async () => {
    const { clock, run } = harness()
    const ok = await run([verifyWritesStep({ database: fakeDatabase(clock) })])
    expect(ok.results['verify-writes']).toEqual({ region: EU, latencyMs: 12 })

    const flaky = fakeDatabase(clock, {
      verify: (i) =>
        i < 2 ? { ok: false, latencyMs: 0, error: 'read-only' } : { ok: true, latencyMs: 9 },
    })
    const r = await run([verifyWritesStep({ database: flaky })])
    expect(r.ok).toBe(true)
    expect(r.steps[0]?.attempts).toBe(3)
    expect(r.durationMs).toBe(2_000 + 4_000)

    const slow = await run([
      verifyWritesStep({
        database: fakeDatabase(clock, { verify: () => ({ ok: true, latencyMs: 900 }) }),
        maxLatencyMs: 500,
        retries: { max: 0 },
      }),
    ])
    expect(slow.failure?.message).toBe(`writes to ${EU} took 900 ms, above the 500 ms limit`)
  })
})

describe('shift-traffic', () => {
  it('sets weights, waits until in sync, verifies', async () => {
    const { clock, run } = harness()
    const router = fakeRouter(clock, { [US]: 100, [EU]: 0 })
    const r = await run([shiftTrafficStep({ router })])
    expect(r.results['shift-traffic']).toEqual({
      previous: { [US]: 100, [EU]: 0 },
      weights: { [US]: 0, [EU]: 100 },
      changeId: 'c1',
    })
    expect(r.durationMs).toBe(30_000)
    expect(router.weights).toEqual({ [US]: 0, [EU]: 100 })
  })

  it('restores the previous weights on compensation', async () => {
    const { clock, run } = harness()
    const router = fakeRouter(clock, { [US]: 100, [EU]: 0 })
    const r = await run([shiftTrafficStep({ router }), failAfter(['shift-traffic'])])
    expect(r.outcome).toBe('failed')
    expect(r.steps[0]?.status).toBe('compensated')
    expect(router.history).toEqual([
      { [US]: 0, [EU]: 100 },
      { [US]: 100, [EU]: 0 },
    ])
    expect(router.weights).toEqual({ [US]: 100, [EU]: 0 })
  })

  it('undoes a half-done shift whose sync times out, then retries', async () => {
    const { clock, run, events } = harness()
    const router = fakeRouter(clock, { [US]: 100, [EU]: 0 }, { hangSyncOnce: true })
    const r = await run([shiftTrafficStep({ router, timeoutMs: 60_000 })])
    expect(r.ok).toBe(true)
    expect(router.history).toEqual([
      { [US]: 0, [EU]: 100 },
      { [US]: 100, [EU]: 0 }, // undo of attempt 1
      { [US]: 0, [EU]: 100 },
    ])
    expect(events.some((e) => e.type === 'step.undone' && e.ok)).toBe(true)
  })

  it('fails verification when the weights did not stick', async () => {
    const { clock, run } = harness()
    const router = fakeRouter(clock, { [US]: 100, [EU]: 0 })
    const getWeights = router.getWeights
    let reads = 0
    router.getWeights = async (ctx) => (++reads === 2 ? { [US]: 50, [EU]: 50 } : getWeights(ctx))
    const r = await run([shiftTrafficStep({ router, retries: { max: 0 } })])
    expect(r.failure?.message).toContain(
      `weights are ${US}=50, ${EU}=50, expected ${US}=0, ${EU}=100`,
    )
    expect(router.weights).toEqual({ [US]: 100, [EU]: 0 }) // undone
  })

  it('describes the change with the router for dry runs', async () => {
    const { clock, executor } = harness()
    const router = fakeRouter(clock, { [US]: 100, [EU]: 0 })
    const plan = createPlan({
      id: 'p',
      steps: [shiftTrafficStep({ router, weights: (o) => ({ [o.to]: 30, [o.from]: 70 }) })],
    })
    const report = await executor.dryRun(plan, { operation: op, epoch: 1 })
    expect(report.steps[0]?.lines).toEqual([
      `set ${EU}=30, ${US}=70 on fake-dns`,
      'wait until fake-dns is in sync',
    ])
    expect(router.history).toEqual([])
  })
})

describe('scale', () => {
  it('scales the target, waits until ready, scales back on compensation', async () => {
    const { clock, run } = harness()
    const scaler = fakeScaler(clock, { [EU]: { desired: 2, ready: 2 } })
    const ok = await run([scaleStep({ scaler, desired: 10 })])
    expect(ok.results.scale).toEqual({ region: EU, previousDesired: 2, desired: 10, ready: 10 })
    expect(ok.durationMs).toBe(120_000)

    scaler.caps[EU] = { desired: 2, ready: 2 }
    scaler.calls.length = 0
    const failed = await run([scaleStep({ scaler, desired: 10 }), failAfter(['scale'])])
    expect(failed.steps[0]?.status).toBe('compensated')
    expect(scaler.calls).toEqual([`scale ${EU} 10`, `scale ${EU} 2`])
  })

  it('computes the desired capacity from the current one and scales the source when asked', async () => {
    const { clock, run } = harness()
    const scaler = fakeScaler(clock, { [US]: { desired: 8, ready: 8 } })
    const r = await run([
      scaleStep({
        scaler,
        region: 'from',
        desired: ({ current }) => current.desired / 2,
        waitForReady: 0,
      }),
    ])
    expect(r.results.scale).toMatchObject({ region: US, previousDesired: 8, desired: 4 })
    expect(() => scaleStep({ scaler, desired: -1 })).toThrow('desired: must be a finite number ≥ 0')
  })

  it('scales back when the wait for ready times out', async () => {
    const { clock, run } = harness()
    const scaler = fakeScaler(clock, { [EU]: { desired: 2, ready: 2 } }, 3_600_000)
    const r = await run([scaleStep({ scaler, desired: 6, timeoutMs: 60_000, retries: { max: 0 } })])
    expect(r.failure?.code).toBe('TIMEOUT')
    expect(scaler.calls).toEqual([`scale ${EU} 6`, `scale ${EU} 2`])
  })
})

describe('verify-endpoint', () => {
  it('needs the target to answer N times in a row', async () => {
    const { run } = harness()
    const served = [US, EU, EU, US, EU, EU, EU]
    const probe = fakeProbe('global', (i) => ({ servedBy: served[i] ?? EU }))
    const r = await run([verifyEndpointStep({ probe, times: 3, intervalMs: 2_000 })])
    expect(r.results['verify-endpoint']).toEqual({
      region: EU,
      checks: 7,
      servedBy: { [US]: 2, [EU]: 5 },
    })
    expect(r.durationMs).toBe(12_000)
  })

  it('fails after maxChecks with what it saw', async () => {
    const { run } = harness()
    const probe = fakeProbe('global', (i) =>
      i % 3 === 2 ? { ok: false, error: 'DNS' } : { servedBy: US },
    )
    const r = await run([verifyEndpointStep({ probe, times: 2, maxChecks: 6 })])
    expect(r.failure?.message).toBe(
      `probe:global: ${EU} did not answer 2 times in a row in 6 checks (last failed: DNS)`,
    )
    expect(r.failure?.details).toMatchObject({ servedBy: { [US]: 4, error: 2 } })
  })
})

describe('wait-for-approval', () => {
  it('waits for an approval and records who gave it', async () => {
    const { clock, executor } = harness()
    const approvals = createApprovals({ now: clock.now })
    const decisions: string[] = []
    approvals.onDecision((d) => decisions.push(`${d.approved ? 'granted' : 'denied'} by ${d.by}`))
    const requests: string[] = []
    approvals.onRequest((r) => requests.push(r.reason))
    const notifier = fakeNotifier(clock)
    const handle = executor.run(
      createPlan({ id: 'p', steps: [waitForApprovalStep({ approvals, notifier })] }),
      {
        operation: op,
        epoch: 1,
      },
    )
    await clock.advance(60_000)
    expect(approvals.pending().map((p) => p.operation)).toEqual(['op-7'])
    expect(requests).toEqual([`approve failover op-7: ${US} → ${EU} (graceful)`])
    expect(notifier.sent[0]).toMatchObject({
      kind: 'approval-needed',
      title: `APPROVAL NEEDED: failover ${US} → ${EU}`,
    })
    expect(approvals.approve('op-7', 'alice')).toBe(true)
    expect(approvals.deny('op-7', 'bob')).toBe(false)
    await clock.runUntilIdle()
    const r = await handle.result
    expect(r.results['wait-for-approval']).toEqual({
      approvedBy: 'alice',
      at: T0 + 60_000,
      waitedMs: 60_000,
    })
    expect(decisions).toEqual(['granted by alice'])
    expect(approvals.pending()).toEqual([])
  })

  it('fails, without retrying, when denied', async () => {
    const { run } = harness()
    const approvals: Approvals = createApprovals()
    approvals.deny('op-7', 'carol', 'not during the sale')
    const r = await run([waitForApprovalStep({ approvals, retries: { max: 3 } })])
    expect(r.failure).toMatchObject({
      attempts: 1,
      message: 'failover op-7 denied by carol: not during the sale',
      details: { deniedBy: 'carol', reason: 'not during the sale' },
    })
  })

  it('goes straight through when pre-approved, and times out otherwise', async () => {
    const { run } = harness()
    const approvals = createApprovals()
    approvals.approve('op-7', 'dave')
    expect((await run([waitForApprovalStep({ approvals })])).ok).toBe(true)
    const other = await run(
      [waitForApprovalStep({ approvals, timeoutMs: 30 * 60_000 })],
      'graceful',
      {
        ...op,
        id: 'op-8',
      },
    )
    expect(other.failure?.code).toBe('TIMEOUT')
    expect(other.durationMs).toBe(30 * 60_000)
  })
})

describe('notify', () => {
  it('sends the runbook template', async () => {
    const { clock, run } = harness()
    const notifier = fakeNotifier(clock)
    const r = await run([notifyStep({ notifier, kind: 'initiated', severity: 'P2' })])
    expect(r.results.notify).toEqual({
      kind: 'initiated',
      sent: true,
      title: `FAILOVER INITIATED: ${US} → ${EU}`,
    })
    expect(notifier.sent[0]).toMatchObject({
      kind: 'initiated',
      severity: 'P2',
      fields: { operation: 'op-7', kind: 'failover', from: US, to: EU, mode: 'graceful' },
    })
    expect(notifier.sent[0]?.body).toContain('Current status: preparation')
  })

  it('reports progress with the completed steps, and completion with data loss', async () => {
    const { clock, run } = harness()
    const notifier = fakeNotifier(clock)
    await run([
      { id: 'promote', title: 'promote', run: () => ({ lagMsAtPromotion: 0 }) },
      notifyStep({ id: 'progress', notifier, kind: 'progress', dependsOn: ['promote'] }),
      notifyStep({ id: 'done', notifier, kind: 'completed', dependsOn: ['progress'] }),
    ])
    expect(notifier.sent.map((n) => n.title)).toEqual([
      `FAILOVER PROGRESS: ${US} → ${EU}`,
      `FAILOVER COMPLETED: ${US} → ${EU}`,
    ])
    expect(notifier.sent[0]?.body).toContain('Completed: promote')
    expect(notifier.sent[1]?.body).toContain('Data loss: none')
  })

  it('never fails the plan when the notifier fails or hangs', async () => {
    const { clock, run } = harness()
    const failing = await run([
      notifyStep({ notifier: fakeNotifier(clock, 'fail'), kind: 'completed' }),
    ])
    expect(failing.ok).toBe(true)
    expect(failing.results.notify).toMatchObject({ sent: false, error: 'chat is down' })
    const hanging = await run([
      notifyStep({ notifier: fakeNotifier(clock, 'hang'), kind: 'progress', callTimeoutMs: 5_000 }),
    ])
    expect(hanging.ok).toBe(true)
    expect(hanging.results.notify).toMatchObject({ sent: false, error: 'timed out after 5 s' })
    expect(hanging.durationMs).toBe(5_000)
  })

  it('uses a custom message', async () => {
    const { clock, run } = harness()
    const notifier = fakeNotifier(clock)
    await run([
      notifyStep({
        notifier,
        kind: 'progress',
        message: (ctx) => ({ title: `t ${ctx.epoch}`, body: 'b' }),
      }),
    ])
    expect(notifier.sent[0]).toEqual({ kind: 'progress', severity: 'P1', title: 't 3', body: 'b' })
  })
})

describe('gated-stage', () => {
  it('shifts the stage, holds the gate over the window, and passes', async () => {
    const { clock, run } = harness()
    const router = fakeRouter(clock, { [US]: 100, [EU]: 0 }, { syncMs: 60_000 })
    const probe = fakeProbe(EU, () => ({ latencyMs: 120, requests: { total: 1_000, errors: 2 } }))
    const r = await run([
      gatedStageStep({
        router,
        probes: probe,
        percent: 10,
        gate: { windowMs: 10 * 60_000, sampleIntervalMs: 60_000 },
      }),
    ])
    expect(r.ok).toBe(true)
    expect(r.durationMs).toBe(60_000 + 10 * 60_000)
    expect(probe.calls).toBe(10)
    expect(r.results['stage-10']).toMatchObject({
      percent: 10,
      previous: { [US]: 100, [EU]: 0 },
      weights: { [US]: 90, [EU]: 10 },
      gate: {
        ok: true,
        metrics: { samples: 10, requests: 10_000, errors: 20, errorRate: 0.002, latencyMs: 120 },
      },
    })
  })

  it('shifts back and fails with the measured values when the gate fails', async () => {
    const { clock, run } = harness()
    const router = fakeRouter(clock, { [US]: 100, [EU]: 0 })
    const probe = fakeProbe(EU, (i) => ({ ok: i % 4 !== 0, latencyMs: 700 }))
    const r = await run([
      gatedStageStep({
        router,
        probes: probe,
        percent: 10,
        gate: { windowMs: 4 * 60_000, sampleIntervalMs: 30_000 },
      }),
    ])
    expect(r.outcome).toBe('failed')
    expect(r.failure?.message).toBe(
      `health gate failed at 10 % to ${EU}: error rate 25 % > 1 %; p99 latency 700 ms > 500 ms`,
    )
    expect(r.failure?.details).toMatchObject({
      percent: 10,
      metrics: { samples: 8, failedSamples: 2, errorRate: 0.25, latencyMs: 700 },
      thresholds: { maxErrorRate: 0.01, maxLatencyMs: 500, latencyPercentile: 0.99 },
    })
    expect(router.weights).toEqual({ [US]: 100, [EU]: 0 })
    expect(() => gatedStageStep({ router, probes: probe, percent: 0 })).toThrow(
      'percent: must be a number in (0, 100]',
    )
    expect(() =>
      gatedStageStep({ router, probes: probe, percent: 10, gate: { maxErrorRate: 2 } }),
    ).toThrow('gate.maxErrorRate')
  })
})

// ---------------------------------------------------------------------------
// The default plans

function world(options: { usDown?: boolean; lag?: number; failShift?: boolean } = {}) {
  const clock = createVirtualClock(T0)
  const events: PlanEvent[] = []
  const executor = createExecutor({
    clock,
    hooks: { onEvent: (e) => void events.push(e) },
    concurrency: 8,
  })
  const router = fakeRouter(
    clock,
    { [US]: 100, [EU]: 0 },
    options.failShift === true ? { failSetAfter: 0 } : {},
  )
  const database = fakeDatabase(clock, {
    lag: () => options.lag ?? 0,
    ...(options.usDown === true
      ? { fence: { fenced: false, reachable: false }, snapshot: 'fail' as const }
      : {}),
  })
  const scaler = fakeScaler(clock, {
    [EU]: { desired: 2, ready: 2 },
    ...(options.usDown === true ? {} : { [US]: { desired: 6, ready: 6 } }),
  })
  const ports: PlanPorts = {
    probes: [fakeProbe(US, () => ({ ok: options.usDown !== true })), fakeProbe(EU)],
    globalProbe: fakeProbe('global', () => ({ servedBy: router.weights[EU] === 100 ? EU : US })),
    router,
    database,
    scaler,
    notifier: fakeNotifier(clock),
  }
  /** When each step ran: [start, end] relative to T0. */
  const spans = () => {
    const out: Record<string, [number, number]> = {}
    for (const e of events) {
      if (e.type === 'step.started' && e.attempt === 1) out[e.step] = [e.at - T0, Number.NaN]
      if (e.type === 'step.succeeded' || e.type === 'step.failed') out[e.step]![1] = e.at - T0
    }
    return out
  }
  return { clock, events, executor, router, database, scaler, ports, spans }
}

const promoteGraceful: PlanDecision = { graceful: true, database: 'promote' }

describe('default failover plan', () => {
  it('has the runbook graph', () => {
    const { ports } = world()
    const plan = createFailoverPlan(
      op,
      { ...promoteGraceful, requireApproval: true },
      { ...ports, approvals: createApprovals() },
    )
    expect(plan.mode).toBe('graceful')
    expect(plan.steps.map((s) => [s.id, s.dependsOn, s.when])).toEqual([
      ['notify-initiated', [], 'always'],
      ['preflight', [], 'always'],
      ['approval', ['preflight'], 'always'],
      ['snapshot', ['approval'], 'graceful'],
      ['fence', ['snapshot'], 'always'],
      ['promote', ['fence'], 'always'],
      ['verify-writes', ['promote'], 'always'],
      ['scale', ['approval'], 'always'],
      ['shift-traffic', ['verify-writes', 'scale'], 'always'],
      ['verify-endpoint', ['shift-traffic'], 'always'],
      ['notify-completed', ['verify-endpoint', 'notify-initiated'], 'always'],
    ])
  })

  it('runs independent steps in parallel: wall time is the critical path, less than the sum', async () => {
    const { clock, executor, ports, router, database, scaler, spans } = world()
    const plan = createFailoverPlan(op, promoteGraceful, ports)
    const handle = executor.run(plan, { operation: op, epoch: 11 })
    await clock.runUntilIdle()
    const r = await handle.result
    expect(r.ok).toBe(true)
    const s = spans()
    // The database chain and scaling overlap.
    expect(s.scale).toEqual([0, 120_000])
    expect(s.snapshot).toEqual([0, 20_000])
    expect(s.fence).toEqual([20_000, 25_000])
    expect(s.promote).toEqual([25_000, 85_000])
    expect(s['verify-writes']).toEqual([85_000, 85_000])
    expect(s['shift-traffic']).toEqual([120_000, 150_000])
    expect(s['verify-endpoint']).toEqual([150_000, 158_000])
    const sum = Object.values(s).reduce((acc, [a, b]) => acc + (b - a), 0)
    expect(r.durationMs).toBe(158_000) // scale → shift-traffic → verify-endpoint
    expect(sum).toBe(243_000)
    expect(r.durationMs).toBeLessThan(sum)
    expect(router.weights).toEqual({ [US]: 0, [EU]: 100 })
    expect(database.calls).toContain(`promote ${EU} graceful`)
    expect(scaler.caps[EU]).toEqual({ desired: 6, ready: 6 }) // mirrors the source
    expect(r.results['notify-completed']).toMatchObject({ sent: true })
    expect(failoverDataLossMs(r)).toBe(0)
  })

  it('ungraceful: skips the snapshot, fences what it can, promotes at once', async () => {
    const { clock, executor, ports, database, scaler } = world({ usDown: true, lag: 4_000 })
    const plan = createFailoverPlan(op, { graceful: false, database: 'promote' }, ports)
    const handle = executor.run(plan, { operation: op, epoch: 2 })
    await clock.runUntilIdle()
    const r = await handle.result
    expect(r.ok).toBe(true)
    expect(r.mode).toBe('ungraceful')
    expect(r.steps.find((s) => s.id === 'snapshot')?.status).toBe('skipped')
    expect(r.results.fence).toMatchObject({ fenced: false, reachable: false })
    expect(database.calls).toContain(`promote ${EU} ungraceful`)
    expect(scaler.caps[EU]?.desired).toBe(2) // source unreadable: keeps current
    expect(failoverDataLossMs(r)).toBe(4_000)
  })

  it('application layer only without a database decision', () => {
    const { ports } = world()
    const { scaler: _scaler, ...withoutScaler } = ports
    const plan = createFailoverPlan(op, { graceful: true, database: 'none' }, withoutScaler)
    expect(plan.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ['notify-initiated', []],
      ['preflight', []],
      ['shift-traffic', ['preflight']],
      ['verify-endpoint', ['shift-traffic']],
      ['notify-completed', ['verify-endpoint', 'notify-initiated']],
    ])
    const { database: _database, ...withoutDatabase } = ports
    expect(() => createFailoverPlan(op, promoteGraceful, withoutDatabase)).toThrow(
      'ports.database: is required',
    )
  })

  it('aborts on lag above the limit before changing anything', async () => {
    const { clock, executor, ports, router, database } = world({ lag: 90_000 })
    const handle = executor.run(createFailoverPlan(op, promoteGraceful, ports), {
      operation: op,
      epoch: 2,
    })
    await clock.runUntilIdle()
    const r = await handle.result
    expect(r.failure?.step).toBe('preflight')
    expect(router.history).toEqual([])
    expect(database.calls.filter((c) => !c.startsWith('lag'))).toEqual([])
  })

  it('compensates on failure (scale back), then the rollback plan restores the world', async () => {
    const { clock, executor, ports, scaler } = world({ failShift: true })
    const plan = createFailoverPlan(op, { graceful: true, database: 'none' }, ports)
    const h = executor.run(plan, { operation: op, epoch: 2 })
    await clock.runUntilIdle()
    const failed = await h.result
    expect(failed.failure?.step).toBe('shift-traffic')
    expect(scaler.calls).toEqual([`scale ${EU} 6`, `scale ${EU} 2`])

    const rollbackOp: Operation = {
      kind: 'rollback',
      id: 'op-7:rollback',
      from: EU,
      to: US,
      startedAt: clock.now(),
      undoes: 'failover',
    }
    const okRouter = fakeRouter(clock, { [US]: 60, [EU]: 40 })
    const rollback = createRollbackPlan(
      rollbackOp,
      { ...ports, router: okRouter },
      { previous: failed, scaleBackTo: 1 },
    )
    expect(rollback.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ['notify-initiated', []],
      ['shift-traffic', []],
      ['verify-endpoint', ['shift-traffic']],
      ['scale-back', ['verify-endpoint']],
      ['notify-completed', ['scale-back', 'notify-initiated']],
    ])
    const h2 = executor.run(rollback, { operation: rollbackOp, epoch: 2 })
    await clock.runUntilIdle()
    const r = await h2.result
    expect(r.failure).toBeUndefined()
    expect(okRouter.weights).toEqual({ [EU]: 0, [US]: 100 })
    expect(scaler.calls.at(-1)).toBe(`scale ${EU} 1`)
  })

  it('restores the failed plan’s previous weights in a rollback', () => {
    const { ports } = world()
    const rollbackOp: Operation = { kind: 'rollback', id: 'r', from: EU, to: US, startedAt: T0 }
    const previous = {
      results: {
        'shift-traffic': { previous: { [US]: 70, [EU]: 30 } },
        scale: { region: EU, previousDesired: 3 },
      },
    } as never
    const plan = createRollbackPlan(
      rollbackOp,
      { router: ports.router, probes: ports.probes, scaler: ports.scaler! },
      { previous },
    )
    expect(plan.steps.map((s) => s.id)).toEqual(['shift-traffic', 'scale-back'])
    expect(plan.steps[1]?.title).toBe(`Scale ${EU} back to 3`)
  })

  it('dry-runs the whole plan without changing anything', async () => {
    const { executor, ports, router, database, scaler } = world()
    const plan = createFailoverPlan(
      op,
      { graceful: false, database: 'promote', allowDataLoss: true },
      ports,
    )
    const report = await executor.dryRun(plan, { operation: op, epoch: 1 })
    expect(router.history).toEqual([])
    expect(database.calls).toEqual([])
    expect(scaler.calls).toEqual([])
    const text = formatDryRun(report)
    expect(text).toContain('[skip] snapshot')
    expect(text).toContain('allowDataLoss: proceed above it, audited')
    expect(text).toContain(`promote the replica of fake-db in ${EU} now (ungraceful`)
    expect(text).toContain(`scale fake-asg in ${EU} to 6; wait until all are ready`)
    expect(text).toContain(`set ${US}=0, ${EU}=100 on fake-dns`)
    // Ungraceful: the fencing attempt runs beside the scale-up, and traffic
    // leaves the unfenced old primary before the replica is promoted.
    expect(report.waves).toEqual([
      ['notify-initiated', 'preflight'],
      ['snapshot', 'scale'],
      ['fence'],
      ['shift-traffic'],
      ['verify-endpoint'],
      ['promote'],
      ['verify-writes'],
      ['notify-completed'],
    ])
  })

  it('builds the plan for any run-plan operation', () => {
    const { ports } = world()
    const input = { decision: promoteGraceful, ports }
    expect(createOperationPlan(op, input).id).toBe('failover')
    expect(createOperationPlan({ ...op, kind: 'failback', from: EU, to: US }, input).id).toBe(
      'failback',
    )
    expect(createOperationPlan({ ...op, kind: 'rollback', from: EU, to: US }, input).id).toBe(
      'rollback',
    )
  })
})
