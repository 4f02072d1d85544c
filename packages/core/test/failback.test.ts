import { describe, expect, it } from 'vitest'
import {
  createExecutor,
  createFailbackPlan,
  createVirtualClock,
  DEFAULT_FAILBACK_STAGES,
  evaluateGate,
  type FailbackPlanOptions,
  failbackStages,
  formatDryRun,
  type Notification,
  type Notifier,
  type Operation,
  type PlanEvent,
  type Probe,
  type ProbeSample,
  resolveFailbackStages,
  type TrafficRouter,
  type VirtualClock,
  type Weights,
} from '../src/index.js'

const T0 = Date.UTC(2026, 0, 1)
const HOME = 'us-east-1'
const AWAY = 'eu-west-1'
const MIN = 60_000
/** A failback: traffic returns from AWAY (serving since the failover) to HOME. */
const op: Operation = { kind: 'failback', id: 'fb-1', from: AWAY, to: HOME, startedAt: T0 }

function fakeRouter(clock: VirtualClock, syncMs = 60_000) {
  let weights: Weights = { [AWAY]: 100, [HOME]: 0 }
  const history: Weights[] = []
  const router: TrafficRouter & { history: Weights[]; readonly weights: Weights } = {
    name: 'route53:Z1/api',
    history,
    get weights() {
      return weights
    },
    getWeights: async () => ({ ...weights }),
    async setWeights(w) {
      weights = { ...w }
      history.push({ ...w })
      return { id: `c${history.length}`, weights: w, submittedAt: clock.now() }
    },
    waitInSync: (_c, ctx) => clock.sleep(syncMs, ctx.signal),
    describe: async (w) => [
      `UPSERT ${Object.entries(w)
        .map(([r, x]) => `${r}:${x}`)
        .join(' ')}`,
    ],
  }
  return router
}

/** A probe of HOME whose samples depend on HOME's current share of traffic. */
function homeProbe(
  router: { readonly weights: Weights },
  sample: (share: number) => Partial<ProbeSample> = () => ({}),
): Probe & { shares: number[] } {
  const shares: number[] = []
  return {
    name: `http:https://${HOME}.example.com/health`,
    region: HOME,
    shares,
    async check() {
      const share = router.weights[HOME] ?? 0
      shares.push(share)
      return { region: HOME, ok: true, at: 0, latencyMs: 80, ...sample(share) }
    },
  }
}

function setup(
  sample?: (share: number) => Partial<ProbeSample>,
  options: Partial<FailbackPlanOptions> = {},
) {
  const clock = createVirtualClock(T0)
  const events: PlanEvent[] = []
  const executor = createExecutor({ clock, hooks: { onEvent: (e) => void events.push(e) } })
  const router = fakeRouter(clock)
  const probe = homeProbe(router, sample)
  const plan = createFailbackPlan({ router, probes: [probe], operation: op, ...options })
  const run = async () => {
    const h = executor.run(plan, { operation: op, epoch: 4 })
    await clock.runUntilIdle()
    return h.result
  }
  return { clock, events, executor, router, probe, plan, run }
}

describe('failback plan', () => {
  it('restores 10 % → 50 % → 100 % with a 15 minute gate after each stage', async () => {
    const { plan, run, router, probe, events } = setup()
    expect(DEFAULT_FAILBACK_STAGES).toEqual([10, 50, 100])
    expect(plan.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ['preflight', []],
      ['stage-10', ['preflight']],
      ['stage-50', ['stage-10']],
      ['stage-100', ['stage-50']],
    ])
    const r = await run()
    expect(r.ok).toBe(true)
    expect(router.history).toEqual([
      { [AWAY]: 90, [HOME]: 10 },
      { [AWAY]: 50, [HOME]: 50 },
      { [AWAY]: 0, [HOME]: 100 },
    ])
    // Each stage: 1 min to sync, then 15 min of samples every 30 s.
    expect(r.durationMs).toBe(3 * (1 * MIN + 15 * MIN))
    const started = events.filter((e) => e.type === 'step.started').map((e) => [e.step, e.at - T0])
    expect(started).toEqual([
      ['preflight', 0],
      ['stage-10', 0],
      ['stage-50', 16 * MIN],
      ['stage-100', 32 * MIN],
    ])
    // 1 preflight sample, then 30 samples per stage at that stage's share.
    expect(probe.shares.length).toBe(1 + 3 * 30)
    expect(probe.shares.slice(1, 31).every((s) => s === 10)).toBe(true)
    expect(probe.shares.slice(61).every((s) => s === 100)).toBe(true)
    expect(failbackStages(r).map((s) => [s.percent, s.ok, s.metrics?.samples])).toEqual([
      [10, true, 30],
      [50, true, 30],
      [100, true, 30],
    ])
  })

  it('a failed gate shifts traffic back, compensates earlier stages, and records why', async () => {
    // At 50 % the home region buckles: 4 % errors, p99 900 ms.
    const { run, router } = setup((share) =>
      share >= 50
        ? { latencyMs: 900, requests: { total: 500, errors: 20 } }
        : { requests: { total: 500, errors: 0 } },
    )
    const r = await run()
    expect(r.outcome).toBe('failed')
    expect(router.history).toEqual([
      { [AWAY]: 90, [HOME]: 10 }, // stage 10
      { [AWAY]: 50, [HOME]: 50 }, // stage 50
      { [AWAY]: 90, [HOME]: 10 }, // the failed gate's undo: back to before stage 50
      { [AWAY]: 100, [HOME]: 0 }, // compensation of stage 10
    ])
    expect(router.weights).toEqual({ [AWAY]: 100, [HOME]: 0 })
    expect(r.steps.map((s) => [s.id, s.status])).toEqual([
      ['preflight', 'succeeded'],
      ['stage-10', 'compensated'],
      ['stage-50', 'failed'],
      ['stage-100', 'not-run'],
    ])
    expect(r.failure?.step).toBe('stage-50')
    expect(r.failure?.message).toBe(
      `health gate failed at 50 % to ${HOME}: error rate 4 % > 1 %; p99 latency 900 ms > 500 ms`,
    )
    expect(r.error?.message).toContain('step "stage-50"')
    const stages = failbackStages(r)
    expect(stages).toEqual([
      {
        percent: 10,
        ok: true,
        metrics: expect.objectContaining({ errorRate: 0, samples: 30 }),
        thresholds: {
          maxErrorRate: 0.01,
          maxLatencyMs: 500,
          latencyPercentile: 0.99,
          minSamples: 1,
        },
      },
      {
        percent: 50,
        ok: false,
        metrics: {
          samples: 30,
          failedSamples: 0,
          requests: 15_000,
          errors: 600,
          errorRate: 0.04,
          latencyMs: 900,
          latencyPercentile: 0.99,
        },
        thresholds: {
          maxErrorRate: 0.01,
          maxLatencyMs: 500,
          latencyPercentile: 0.99,
          minSamples: 1,
        },
        reasons: ['error rate 4 % > 1 %', 'p99 latency 900 ms > 500 ms'],
      },
    ])
  })

  it('fails at the first stage on latency alone and leaves traffic where it was', async () => {
    const { run, router } = setup(() => ({ latencyMs: 650 }))
    const r = await run()
    expect(r.failure?.step).toBe('stage-10')
    expect(r.failure?.details).toMatchObject({ reasons: ['p99 latency 650 ms > 500 ms'] })
    expect(router.weights).toEqual({ [AWAY]: 100, [HOME]: 0 })
  })

  it('does not start when the home region is unhealthy', async () => {
    const { run, router } = setup(() => ({ ok: false, error: 'HTTP 502' }))
    const r = await run()
    expect(r.failure?.step).toBe('preflight')
    expect(router.history).toEqual([])
  })

  it('takes configurable stages, gates and thresholds', async () => {
    const { plan, run, router } = setup(() => ({ latencyMs: 300 }), {
      stages: [25, { percent: 60, gate: false }, { percent: 100, gate: { windowMs: 2 * MIN } }],
      gate: { windowMs: 5 * MIN, sampleIntervalMs: MIN, maxLatencyMs: 400 },
      preflight: false,
    })
    expect(plan.steps.map((s) => s.id)).toEqual(['stage-25', 'stage-60', 'stage-100'])
    const r = await run()
    expect(r.ok).toBe(true)
    expect(router.history.map((w) => w[HOME])).toEqual([25, 60, 100])
    expect(r.durationMs).toBe(MIN + 5 * MIN + MIN + MIN + 2 * MIN)
    expect(failbackStages(r).map((s) => [s.percent, s.metrics?.samples])).toEqual([
      [25, 5],
      [60, undefined],
      [100, 2],
    ])
  })

  it('notifies initiated, progress after each stage but the last, and completed', async () => {
    const clock = createVirtualClock(T0)
    const sent: Notification[] = []
    const notifier: Notifier = { name: 'chat', notify: async (n) => void sent.push(n) }
    const router = fakeRouter(clock, 1_000)
    const plan = createFailbackPlan({
      router,
      probes: homeProbe(router),
      notifier,
      operation: op,
      gate: { windowMs: MIN, sampleIntervalMs: MIN },
    })
    expect(plan.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ['notify-initiated', []],
      ['preflight', []],
      ['stage-10', ['preflight']],
      ['notify-progress-10', ['stage-10']],
      ['stage-50', ['stage-10']],
      ['notify-progress-50', ['stage-50']],
      ['stage-100', ['stage-50']],
      ['notify-completed', ['stage-100', 'notify-initiated']],
    ])
    const h = createExecutor({ clock }).run(plan, { operation: op, epoch: 1 })
    await clock.runUntilIdle()
    expect((await h.result).ok).toBe(true)
    expect(sent.map((n) => n.title)).toEqual([
      `FAILBACK INITIATED: ${AWAY} → ${HOME}`,
      `FAILBACK PROGRESS: ${AWAY} → ${HOME}`,
      `FAILBACK PROGRESS: ${AWAY} → ${HOME}`,
      `FAILBACK COMPLETED: ${AWAY} → ${HOME}`,
    ])
  })

  it('dry-runs each stage with its gate', async () => {
    const { plan, executor, router } = setup()
    const text = formatDryRun(await executor.dryRun(plan, { operation: op, epoch: 1 }))
    expect(router.history).toEqual([])
    expect(text).toContain(`UPSERT ${AWAY}:50 ${HOME}:50`)
    expect(text).toContain(
      'gate: sample http:https://us-east-1.example.com/health every 30 s for 15 min; pass if error rate ≤ 1 % and p99 latency ≤ 500 ms',
    )
    expect(text).toContain('on a failed gate: shift traffic back')
  })

  it.each([
    [[], 'failback.stages', /non-empty/],
    [[10, 5, 100], 'failback.stages[1].percent', /above the previous stage's 10/],
    [[10, 50], 'failback.stages[1].percent', /last stage must be 100/],
    [[0, 100], 'failback.stages[0].percent', /\(0, 100\]/],
    [[10, 120], 'failback.stages[1].percent', /\(0, 100\]/],
    [[{ percent: 100, gate: { windowMs: -1 } }], 'failback.stages[0].gate.windowMs', /≥ 0/],
  ])('rejects stages %j at %s', (stages, path, message) => {
    try {
      resolveFailbackStages(stages as never)
      expect.unreachable()
    } catch (error) {
      expect((error as { path: string }).path).toBe(path)
      expect((error as Error).message).toMatch(message)
    }
  })

  it('rejects a bad plan-wide gate', () => {
    const clock = createVirtualClock(T0)
    const router = fakeRouter(clock)
    expect(() =>
      createFailbackPlan({ router, probes: homeProbe(router), gate: { latencyPercentile: 1.5 } }),
    ).toThrow('failback.gate.latencyPercentile')
  })
})

describe('evaluateGate', () => {
  const t = { maxErrorRate: 0.01, maxLatencyMs: 500, latencyPercentile: 0.9, minSamples: 3 }
  const s = (latencyMs: number, ok = true): ProbeSample => ({ region: HOME, ok, at: 0, latencyMs })

  it('uses failed samples when no request counts are reported, nearest-rank percentiles', () => {
    const samples = [...Array.from({ length: 9 }, (_, i) => s(100 + i)), s(2_000, false)]
    const v = evaluateGate(samples, t)
    expect(v.metrics).toMatchObject({
      samples: 10,
      failedSamples: 1,
      errorRate: 0.1,
      latencyMs: 108,
    })
    expect(v.reasons).toEqual(['error rate 10 % > 1 %'])
  })

  it('judges by failing probes even when the few requests it saw succeeded', () => {
    const quiet = (ok: boolean, total: number): ProbeSample => ({
      ...s(10, ok),
      requests: { total, errors: 0 },
    })
    const samples = [quiet(false, 0), quiet(true, 2), quiet(false, 0), quiet(true, 1)]
    const v = evaluateGate(samples, t)
    expect(v.metrics).toMatchObject({ requests: 3, errors: 0, failedSamples: 2, errorRate: 0.5 })
    expect(v.ok).toBe(false)
    // And by request errors when they are worse than the probes.
    const busy = [{ ...s(10), requests: { total: 100, errors: 20 } }, s(10), s(10)]
    expect(evaluateGate(busy, t).metrics.errorRate).toBe(0.2)
  })

  it('needs enough samples', () => {
    expect(evaluateGate([s(1)], t).reasons).toEqual(['1 samples < 3 needed'])
    expect(evaluateGate([s(1), s(1), s(1)], t).ok).toBe(true)
  })
})
