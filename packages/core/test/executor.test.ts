import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import {
  type Clock,
  createExecutor,
  createLeaseCheck,
  createPlan,
  createVirtualClock,
  definePlan,
  type ExecutorOptions,
  formatDryRun,
  type Lease,
  type LeaseGrant,
  type Operation,
  type PlanEvent,
  planEventToEngineEvent,
  planEventToReceipt,
  planOutcomeEvent,
  type StepContext,
  StepError,
  type StepSpec,
  type StepWhen,
  type VirtualClock,
} from '../src/index.js'

const T0 = Date.UTC(2026, 0, 1)
const op: Operation = {
  kind: 'failover',
  id: 'op-1',
  from: 'us-east-1',
  to: 'eu-west-1',
  startedAt: T0,
}

/** A step that sleeps `ms` on the clock, recording when it started and ended. */
function sleeper(
  id: string,
  ms: number,
  log: { id: string; start: number; end?: number }[],
  extra: Partial<StepSpec> = {},
): StepSpec {
  return {
    id,
    title: `step ${id}`,
    async run(ctx) {
      const entry: { id: string; start: number; end?: number } = { id, start: ctx.clock.now() - T0 }
      log.push(entry)
      await ctx.clock.sleep(ms, ctx.signal)
      entry.end = ctx.clock.now() - T0
      return { id }
    },
    ...extra,
  }
}

function setup(options: Partial<ExecutorOptions> = {}) {
  const clock = createVirtualClock(T0)
  const events: PlanEvent[] = []
  const executor = createExecutor({
    clock,
    hooks: { onEvent: (e) => void events.push(e) },
    ...options,
  })
  return { clock, events, executor }
}

async function finish<T>(clock: VirtualClock, result: Promise<T>): Promise<T> {
  await clock.runUntilIdle()
  return result
}

const types = (events: PlanEvent[]) =>
  events.map((e) => ('step' in e ? `${e.type}:${e.step}` : e.type))

/** Tracks how many steps run at once. */
function concurrencyMeter() {
  let now = 0
  let max = 0
  return {
    enter() {
      now++
      max = Math.max(max, now)
    },
    leave() {
      now--
    },
    get max() {
      return max
    },
  }
}

describe('executor: DAG order and parallelism', () => {
  it('runs a diamond in dependency order, the middle in parallel', async () => {
    const { clock, executor } = setup()
    const log: { id: string; start: number; end?: number }[] = []
    const meter = concurrencyMeter()
    const metered = (id: string, deps: string[] = []): StepSpec => ({
      ...sleeper(id, 100, log),
      dependsOn: deps,
      async run(ctx: StepContext) {
        meter.enter()
        try {
          log.push({ id, start: ctx.clock.now() - T0 })
          await ctx.clock.sleep(100, ctx.signal)
          return id
        } finally {
          meter.leave()
        }
      },
    })
    const plan = createPlan({
      id: 'diamond',
      steps: [
        metered('a'),
        metered('b', ['a']),
        metered('c', ['a']),
        metered('d', ['a']),
        metered('e', ['b', 'c', 'd']),
      ],
    })
    const run = executor.run(plan, { operation: op, epoch: 1 })
    const r = await finish(clock, run.result)
    expect(r.outcome).toBe('succeeded')
    expect(r.ok).toBe(true)
    expect(log.map((l) => [l.id, l.start])).toEqual([
      ['a', 0],
      ['b', 100],
      ['c', 100],
      ['d', 100],
      ['e', 200],
    ])
    expect(meter.max).toBe(3)
    expect(r.durationMs).toBe(300)
    expect(r.completed).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(clock.pending).toBe(0)
  })

  it('bounds concurrency (executor, plan, run)', async () => {
    for (const [where, limit] of [
      ['executor', 2],
      ['plan', 3],
      ['run', 1],
    ] as const) {
      const { clock, executor } = setup(where === 'executor' ? { concurrency: limit } : {})
      const log: { id: string; start: number }[] = []
      const meter = concurrencyMeter()
      const steps = ['a', 'b', 'c', 'd', 'e', 'f'].map(
        (id): StepSpec => ({
          id,
          title: id,
          async run(ctx) {
            meter.enter()
            log.push({ id, start: ctx.clock.now() - T0 })
            await ctx.clock.sleep(10, ctx.signal)
            meter.leave()
          },
        }),
      )
      const plan = createPlan({
        id: 'wide',
        steps,
        ...(where === 'plan' ? { concurrency: limit } : {}),
      })
      const run = executor.run(plan, {
        operation: op,
        epoch: 1,
        ...(where === 'run' ? { concurrency: limit } : {}),
      })
      const r = await finish(clock, run.result)
      expect(r.ok).toBe(true)
      expect(meter.max).toBe(limit)
      expect(r.durationMs).toBe(Math.ceil(6 / limit) * 10)
    }
  })

  it('passes results of earlier steps in ctx.data', async () => {
    const { clock, executor } = setup()
    const seen: unknown[] = []
    const plan = definePlan({ id: 'data' })
      .step({ id: 'lag', title: 'lag', run: () => ({ lagMs: 42 }) })
      .step({
        id: 'promote',
        title: 'promote',
        dependsOn: ['lag'],
        run: (ctx) => {
          seen.push(ctx.data.lag.lagMs)
          return { promoted: ctx.data.lag.lagMs < 60_000 }
        },
      })
      .build()
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 3 }).result)
    expect(seen).toEqual([42])
    expect(r.results).toEqual({ lag: { lagMs: 42 }, promote: { promoted: true } })
    expect(r.results.promote?.promoted).toBe(true)
  })

  it('gives every step the operation, epoch and call context', async () => {
    const { clock, executor } = setup()
    let got: StepContext | undefined
    const plan = createPlan({
      id: 'ctx',
      steps: [
        {
          id: 'a',
          title: 'a',
          run: (ctx) => {
            got = ctx
          },
        },
      ],
    })
    await finish(clock, executor.run(plan, { operation: op, epoch: 7, mode: 'ungraceful' }).result)
    expect(got?.operation).toBe(op)
    expect(got?.epoch).toBe(7)
    expect(got?.call.epoch).toBe(7)
    expect(got?.call.signal).toBe(got?.signal)
    expect(got?.mode).toBe('ungraceful')
    expect(got?.attempt).toBe(1)
    expect(got?.step).toBe('a')
  })
})

describe('executor: timeouts and retries', () => {
  it('times an attempt out on the clock and aborts its signal', async () => {
    const { clock, executor, events } = setup()
    let reason: unknown
    const plan = createPlan({
      id: 't',
      steps: [
        {
          id: 'slow',
          title: 'slow',
          timeoutMs: 1_000,
          async run(ctx) {
            ctx.signal.addEventListener('abort', () => {
              reason = ctx.signal.reason
            })
            await new Promise(() => {}) // ignores its signal: the executor still moves on
          },
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.outcome).toBe('failed')
    expect(r.durationMs).toBe(1_000)
    expect(r.failure?.code).toBe('TIMEOUT')
    expect(isBatonError(reason, 'TIMEOUT')).toBe(true)
    expect(r.error?.code).toBe('STEP_FAILED')
    expect(r.error?.message).toMatch(
      /step "slow" \(slow\) failed after 1 attempt: .*timed out after 1000 ms/,
    )
    const failed = events.find((e) => e.type === 'step.failed')
    expect(failed).toMatchObject({ step: 'slow', attempts: 1, durationMs: 1_000, code: 'TIMEOUT' })
    expect(clock.pending).toBe(0)
  })

  it('retries with exponential backoff on the clock', async () => {
    const { clock, executor, events } = setup()
    const starts: number[] = []
    const plan = createPlan({
      id: 'r',
      steps: [
        {
          id: 'flaky',
          title: 'flaky',
          retries: { max: 3, backoffMs: 100, factor: 2, maxBackoffMs: 10_000 },
          run(ctx) {
            starts.push(ctx.clock.now() - T0)
            if (ctx.attempt < 4) throw new Error(`boom ${ctx.attempt}`)
            return 'ok'
          },
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.ok).toBe(true)
    expect(starts).toEqual([0, 100, 300, 700])
    expect(
      events.filter((e) => e.type === 'step.retrying').map((e) => 'delayMs' in e && e.delayMs),
    ).toEqual([100, 200, 400])
    expect(
      events.filter((e) => e.type === 'step.started').map((e) => 'attempt' in e && e.attempt),
    ).toEqual([1, 2, 3, 4])
    expect(events.find((e) => e.type === 'step.succeeded')).toMatchObject({
      attempts: 4,
      durationMs: 700,
    })
  })

  it('caps backoff at maxBackoffMs and fails after max retries', async () => {
    const { clock, executor, events } = setup()
    const starts: number[] = []
    const plan = createPlan({
      id: 'r',
      steps: [
        {
          id: 'broken',
          title: 'broken',
          retries: { max: 3, backoffMs: 100, factor: 10, maxBackoffMs: 500 },
          run(ctx) {
            starts.push(ctx.clock.now() - T0)
            throw new Error('always')
          },
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(starts).toEqual([0, 100, 600, 1_100])
    expect(r.failure).toMatchObject({ step: 'broken', attempts: 4, message: 'always' })
    expect(events.find((e) => e.type === 'step.failed')).toMatchObject({
      attempts: 4,
      durationMs: 1_100,
    })
  })

  it('retries timeouts, but not non-retryable errors', async () => {
    const { clock, executor } = setup()
    let timeouts = 0
    let fatal = 0
    const plan = createPlan({
      id: 'r',
      steps: [
        {
          id: 'timeout',
          title: 'times out once',
          timeoutMs: 50,
          retries: { max: 1, backoffMs: 10 },
          async run(ctx) {
            if (++timeouts === 1) await ctx.clock.sleep(1_000, ctx.signal)
            return 'second time lucky'
          },
        },
        {
          id: 'fatal',
          title: 'fatal',
          dependsOn: ['timeout'],
          retries: { max: 5, backoffMs: 10 },
          run() {
            fatal++
            throw new StepError('denied', { retryable: false, details: { by: 'ops' } })
          },
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(timeouts).toBe(2)
    expect(fatal).toBe(1)
    expect(r.failure).toMatchObject({
      step: 'fatal',
      attempts: 1,
      code: 'STEP_FAILED',
      details: { by: 'ops' },
    })
    expect(r.steps.find((s) => s.id === 'timeout')).toMatchObject({
      status: 'succeeded',
      attempts: 2,
    })
  })
})

describe('executor: verify', () => {
  it('fails an attempt whose verify says no, and reruns it on retry', async () => {
    const { clock, executor } = setup()
    let runs = 0
    const plan = createPlan({
      id: 'v',
      steps: [
        {
          id: 'promote',
          title: 'promote',
          retries: { max: 1, backoffMs: 10 },
          run: () => ++runs,
          verify: (_ctx, result: number) =>
            result >= 2 ? true : `primary not moved after run ${result}`,
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.ok).toBe(true)
    expect(runs).toBe(2)
  })

  it('reports a verify failure with its reason', async () => {
    const { clock, executor } = setup()
    const plan = createPlan({
      id: 'v',
      steps: [{ id: 'w', title: 'w', run: () => 1, verify: () => false }],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.outcome).toBe('failed')
    expect(r.failure?.message).toBe('step "w": verification failed')
    expect(r.failure?.details).toEqual({ phase: 'verify' })
    expect(r.results).toEqual({})
  })
})

describe('executor: compensation', () => {
  it('compensates completed steps in reverse completion order, not the failed one', async () => {
    const { clock, executor, events } = setup()
    const undone: string[] = []
    const step = (id: string, ms: number, deps: string[] = [], fail = false): StepSpec => ({
      id,
      title: id,
      dependsOn: deps,
      async run(ctx) {
        await ctx.clock.sleep(ms, ctx.signal)
        if (fail) throw new Error(`${id} broke`)
        return `${id}-result`
      },
      compensate: (_ctx, result) => void undone.push(`${id}:${String(result)}`),
    })
    // a(10) → b(10) → c(10, fails);  d(15) runs alongside, finishing between a and b
    const plan = createPlan({
      id: 'comp',
      steps: [step('a', 10), step('d', 15), step('b', 10, ['a']), step('c', 10, ['b'], true)],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.outcome).toBe('failed')
    expect(r.completed).toEqual(['a', 'd', 'b'])
    expect(undone).toEqual(['b:b-result', 'd:d-result', 'a:a-result'])
    expect(r.steps.map((s) => [s.id, s.status])).toEqual([
      ['a', 'compensated'],
      ['d', 'compensated'],
      ['b', 'compensated'],
      ['c', 'failed'],
    ])
    expect(types(events).filter((t) => t.startsWith('step.compensated'))).toEqual([
      'step.compensated:b',
      'step.compensated:d',
      'step.compensated:a',
    ])
  })

  it('lets running siblings finish before compensating them; starts nothing new', async () => {
    const { clock, executor } = setup()
    const undone: string[] = []
    const plan = createPlan({
      id: 'siblings',
      steps: [
        { id: 'fails', title: 'fails', run: () => Promise.reject(new Error('x')) },
        {
          id: 'slow',
          title: 'slow',
          run: async (ctx: StepContext) => {
            await ctx.clock.sleep(500, ctx.signal)
            return 'done'
          },
          compensate: () => void undone.push('slow'),
        },
        { id: 'after', title: 'after', dependsOn: ['slow'], run: () => 'never' },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'compensated', 'not-run'])
    expect(undone).toEqual(['slow'])
    expect(r.durationMs).toBe(500)
  })

  it('stops compensating at the first compensation that fails', async () => {
    const { clock, executor, events } = setup()
    const undone: string[] = []
    const plan = createPlan({
      id: 'comp-fail',
      steps: [
        { id: 'scale', title: 'scale', run: () => 1, compensate: () => void undone.push('scale') },
        {
          id: 'traffic',
          title: 'traffic',
          dependsOn: ['scale'],
          run: () => 1,
          compensate: () => {
            throw new Error('router down')
          },
        },
        {
          id: 'verify',
          title: 'verify',
          dependsOn: ['traffic'],
          run: () => Promise.reject(new Error('no')),
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(undone).toEqual([])
    expect(r.steps.map((s) => s.status)).toEqual(['succeeded', 'compensation-failed', 'failed'])
    expect(r.steps[1]?.compensation).toEqual({ ok: false, error: 'router down' })
    expect(events.find((e) => e.type === 'step.compensated')).toMatchObject({
      step: 'traffic',
      ok: false,
      error: 'router down',
    })
  })

  it('retries a compensation with the step policy', async () => {
    const { clock, executor } = setup()
    let tries = 0
    const plan = createPlan({
      id: 'comp-retry',
      steps: [
        {
          id: 'a',
          title: 'a',
          retries: { max: 2, backoffMs: 10 },
          run: () => 1,
          compensate: () => {
            if (++tries < 3) throw new Error('again')
          },
        },
        {
          id: 'b',
          title: 'b',
          dependsOn: ['a'],
          retries: { max: 0 },
          run: () => Promise.reject(new Error('x')),
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(tries).toBe(3)
    expect(r.steps[0]?.status).toBe('compensated')
  })

  it('runs an attempt’s undos when it fails, not when it succeeds', async () => {
    const { clock, executor, events } = setup()
    const undone: string[] = []
    let attempt = 0
    const plan = createPlan({
      id: 'undo',
      steps: [
        {
          id: 'shift',
          title: 'shift',
          timeoutMs: 100,
          retries: { max: 1, backoffMs: 10 },
          async run(ctx) {
            attempt++
            ctx.onFailure(() => void undone.push(`undo ${ctx.attempt}`))
            if (attempt === 1) await ctx.clock.sleep(1_000, ctx.signal) // times out
            return 'ok'
          },
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.ok).toBe(true)
    expect(undone).toEqual(['undo 1'])
    expect(events.find((e) => e.type === 'step.undone')).toMatchObject({
      step: 'shift',
      attempt: 1,
      ok: true,
    })
  })
})

describe('executor: modes', () => {
  it('selects steps by graceful / ungraceful; skipped steps satisfy dependencies', async () => {
    for (const mode of ['graceful', 'ungraceful'] as const) {
      const { clock, executor, events } = setup()
      const ran: string[] = []
      const s = (id: string, when: StepWhen, deps: string[] = []): StepSpec => ({
        id,
        title: id,
        when,
        dependsOn: deps,
        run: () => void ran.push(id),
      })
      const plan = createPlan({
        id: 'modes',
        steps: [
          s('preflight', 'always'),
          s('snapshot', 'graceful', ['preflight']),
          s('force', 'ungraceful', ['preflight']),
          s('promote', 'always', ['snapshot', 'force']),
        ],
      })
      const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1, mode }).result)
      expect(r.ok).toBe(true)
      expect(r.mode).toBe(mode)
      const skipped = mode === 'graceful' ? 'force' : 'snapshot'
      expect(ran).toEqual(['preflight', mode === 'graceful' ? 'snapshot' : 'force', 'promote'])
      expect(r.steps.find((x) => x.id === skipped)).toMatchObject({
        status: 'skipped',
        skippedReason: `runs only when ${mode === 'graceful' ? 'ungraceful' : 'graceful'}`,
      })
      expect(types(events)).toContain(`step.skipped:${skipped}`)
    }
  })

  it('uses the plan’s mode when the run gives none', async () => {
    const { clock, executor } = setup()
    const plan = createPlan({
      id: 'm',
      mode: 'ungraceful',
      steps: [{ id: 'a', title: 'a', run: () => 1 }],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.mode).toBe('ungraceful')
  })
})

describe('executor: pause, resume, cancel', () => {
  const chain = (log: { id: string; start: number; end?: number }[], undone: string[] = []) =>
    createPlan({
      id: 'chain',
      steps: ['a', 'b', 'c'].map((id, i) =>
        sleeper(id, 100, log, {
          dependsOn: i === 0 ? [] : [['a', 'b', 'c'][i - 1]!],
          compensate: () => void undone.push(id),
        }),
      ),
    })

  it('pauses between steps (the running one finishes) and resumes', async () => {
    const { clock, executor, events } = setup()
    const log: { id: string; start: number; end?: number }[] = []
    const run = executor.run(chain(log), { operation: op, epoch: 1 })
    await clock.advance(50)
    expect(run.pause()).toBe(true)
    expect(run.pause()).toBe(false)
    expect(run.status).toBe('paused')
    await clock.advance(10_000)
    expect(log.map((l) => [l.id, l.start, l.end])).toEqual([['a', 0, 100]])
    expect(run.steps().map((s) => s.status)).toEqual(['succeeded', 'pending', 'pending'])
    expect(run.resume()).toBe(true)
    expect(run.resume()).toBe(false)
    const r = await finish(clock, run.result)
    expect(r.ok).toBe(true)
    expect(log.map((l) => l.start)).toEqual([0, 10_050, 10_150])
    expect(types(events)).toEqual([
      'plan.started',
      'step.started:a',
      'plan.paused',
      'step.succeeded:a',
      'plan.resumed',
      'step.started:b',
      'step.succeeded:b',
      'step.started:c',
      'step.succeeded:c',
      'plan.finished',
    ])
  })

  it('pauses retries too', async () => {
    const { clock, executor } = setup()
    const starts: number[] = []
    const plan = createPlan({
      id: 'p',
      steps: [
        {
          id: 'flaky',
          title: 'flaky',
          retries: { max: 1, backoffMs: 100 },
          run(ctx) {
            starts.push(ctx.clock.now() - T0)
            if (ctx.attempt === 1) throw new Error('once')
          },
        },
      ],
    })
    const run = executor.run(plan, { operation: op, epoch: 1 })
    await clock.advance(50)
    run.pause()
    await clock.advance(1_000)
    expect(starts).toEqual([0])
    run.resume()
    const r = await finish(clock, run.result)
    expect(r.ok).toBe(true)
    expect(starts).toEqual([0, 1_050])
  })

  it('cancels mid-step: aborts it, compensates nothing, starts nothing', async () => {
    const { clock, executor, events } = setup()
    const log: { id: string; start: number; end?: number }[] = []
    const undone: string[] = []
    const run = executor.run(chain(log, undone), { operation: op, epoch: 1 })
    await clock.advance(150) // a done, b running
    expect(run.cancel('operator said stop')).toBe(true)
    expect(run.cancel()).toBe(false)
    const r = await finish(clock, run.result)
    expect(r.outcome).toBe('cancelled')
    expect(r.ok).toBe(false)
    expect(r.error?.code).toBe('ABORTED')
    expect(r.error?.message).toBe('plan cancelled: operator said stop')
    expect(undone).toEqual([])
    expect(r.steps.map((s) => s.status)).toEqual(['succeeded', 'cancelled', 'not-run'])
    expect(log.map((l) => l.id)).toEqual(['a', 'b'])
    expect(r.durationMs).toBe(150)
    expect(events.find((e) => e.type === 'plan.cancelled')).toMatchObject({
      reason: 'operator said stop',
      code: 'ABORTED',
    })
    expect(planOutcomeEvent(r)).toBeUndefined()
    expect(clock.pending).toBe(0)
  })

  it('cancels while paused', async () => {
    const { clock, executor } = setup()
    const log: { id: string; start: number; end?: number }[] = []
    const run = executor.run(chain(log), { operation: op, epoch: 1 })
    await clock.advance(150)
    run.pause()
    await clock.advance(100)
    run.cancel()
    const r = await finish(clock, run.result)
    expect(r.outcome).toBe('cancelled')
    expect(r.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'not-run'])
  })

  it('is cancelled by its AbortSignal (even one aborted before it starts)', async () => {
    const { clock, executor } = setup()
    const log: { id: string; start: number; end?: number }[] = []
    const ac = new AbortController()
    const run = executor.run(chain(log), { operation: op, epoch: 1, signal: ac.signal })
    await clock.advance(50)
    ac.abort(new Error('shutdown'))
    const r = await finish(clock, run.result)
    expect(r.outcome).toBe('cancelled')
    expect(r.error?.message).toBe('plan cancelled: signal aborted: shutdown')

    const pre = AbortSignal.abort('early')
    const log2: { id: string; start: number; end?: number }[] = []
    const r2 = await finish(
      clock,
      executor.run(chain(log2), { operation: op, epoch: 1, signal: pre }).result,
    )
    expect(r2.outcome).toBe('cancelled')
    expect(log2).toEqual([])
  })
})

describe('executor: fencing', () => {
  it('stops when the lease is lost between steps: no step starts after, nothing compensated', async () => {
    let held = true
    const checked: number[] = []
    const { clock, executor, events } = setup({
      lease: {
        isHeld: (epoch) => {
          checked.push(epoch)
          return held
        },
      },
    })
    const log: { id: string; start: number; end?: number }[] = []
    const undone: string[] = []
    const plan = createPlan({
      id: 'fenced',
      steps: ['a', 'b', 'c'].map((id, i) =>
        sleeper(id, 100, log, {
          dependsOn: i === 0 ? [] : [['a', 'b', 'c'][i - 1]!],
          compensate: () => void undone.push(id),
        }),
      ),
    })
    const run = executor.run(plan, { operation: op, epoch: 9 })
    await clock.advance(50)
    held = false // lost while a runs
    const r = await finish(clock, run.result)
    expect(r.outcome).toBe('lease-lost')
    expect(r.error?.code).toBe('LEASE_LOST')
    expect(log.map((l) => l.id)).toEqual(['a'])
    expect(undone).toEqual([])
    expect(r.steps.map((s) => s.status)).toEqual(['succeeded', 'not-run', 'not-run'])
    expect(checked.every((e) => e === 9)).toBe(true)
    expect(events.find((e) => e.type === 'plan.cancelled')).toMatchObject({ code: 'LEASE_LOST' })
    expect(planOutcomeEvent(r)).toBeUndefined()
  })

  it('checks the lease between retries', async () => {
    let held = true
    const { clock, executor } = setup({ lease: { isHeld: () => held } })
    let attempts = 0
    const plan = createPlan({
      id: 'r',
      steps: [
        {
          id: 'flaky',
          title: 'flaky',
          retries: { max: 5, backoffMs: 100 },
          run() {
            attempts++
            held = false
            throw new Error('x')
          },
        },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(attempts).toBe(1)
    expect(r.outcome).toBe('lease-lost')
    expect(r.steps[0]?.status).toBe('cancelled')
  })

  it('aborts running steps when the controller reports the lease lost', async () => {
    const { clock, executor } = setup()
    const log: { id: string; start: number; end?: number }[] = []
    let aborted: unknown
    const plan = createPlan({
      id: 'x',
      steps: [
        sleeper('a', 1_000, log, {
          run: async (ctx: StepContext) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = ctx.signal.reason
            })
            await ctx.clock.sleep(1_000, ctx.signal)
          },
        }),
        sleeper('b', 100, log, { dependsOn: ['a'] }),
      ],
    })
    const run = executor.run(plan, { operation: op, epoch: 1 })
    await clock.advance(10)
    expect(run.leaseLost('renewal failed')).toBe(true)
    const r = await finish(clock, run.result)
    expect(r.outcome).toBe('lease-lost')
    expect(r.error?.message).toBe('lease lost: renewal failed')
    expect(isBatonError(aborted, 'LEASE_LOST')).toBe(true)
    expect(r.steps.map((s) => s.status)).toEqual(['cancelled', 'not-run'])
  })

  it('lets a step assert the lease, and treats a failing check as lost', async () => {
    let calls = 0
    const { clock, executor } = setup({
      lease: {
        isHeld: () => {
          calls++
          if (calls > 1) throw new Error('store unreachable')
          return true
        },
      },
    })
    const plan = createPlan({
      id: 'x',
      steps: [{ id: 'long', title: 'long', run: (ctx) => ctx.assertLease() }],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.outcome).toBe('lease-lost')
    expect(r.error?.message).toContain('lease check failed: store unreachable')
  })

  it('stops compensating when the lease is lost during compensation', async () => {
    let held = true
    const { clock, executor } = setup({ lease: { isHeld: () => held } })
    const undone: string[] = []
    const plan = createPlan({
      id: 'x',
      steps: [
        { id: 'a', title: 'a', run: () => 1, compensate: () => void undone.push('a') },
        {
          id: 'b',
          title: 'b',
          dependsOn: ['a'],
          run: () => 1,
          compensate: () => {
            undone.push('b')
            held = false
          },
        },
        { id: 'c', title: 'c', dependsOn: ['b'], run: () => Promise.reject(new Error('x')) },
      ],
    })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(undone).toEqual(['b'])
    expect(r.outcome).toBe('lease-lost')
    expect(r.failure?.step).toBe('c')
  })

  it('createLeaseCheck holds only for the same holder, epoch and an unexpired grant', async () => {
    const clock = createVirtualClock(T0)
    let grant: LeaseGrant | undefined = { holder: 'me', epoch: 4, expiresAt: T0 + 1_000 }
    const lease: Lease = {
      name: 'fake',
      acquire: async () => grant,
      renew: async () => grant,
      release: async () => {},
      current: async () => grant,
    }
    const check = createLeaseCheck(lease, 'me', clock as Clock)
    expect(await check.isHeld(4)).toBe(true)
    expect(await check.isHeld(3)).toBe(false)
    await clock.advance(1_000)
    expect(await check.isHeld(4)).toBe(false)
    grant = { holder: 'other', epoch: 5, expiresAt: T0 + 10_000 }
    expect(await check.isHeld(5)).toBe(false)
    grant = undefined
    expect(await check.isHeld(4)).toBe(false)
  })
})

describe('executor: dry run', () => {
  it('describes every selected step without calling run', async () => {
    const { executor } = setup()
    let runs = 0
    const plan = createPlan({
      id: 'dry',
      title: 'Dry plan',
      steps: [
        {
          id: 'a',
          title: 'Alpha',
          run: () => runs++,
          describe: (ctx) => [`check ${ctx.operation.to}`],
        },
        { id: 'b', title: 'Beta', dependsOn: ['a'], when: 'graceful', run: () => runs++ },
        {
          id: 'c',
          title: 'Gamma',
          dependsOn: ['a'],
          run: () => runs++,
          describe: () => {
            throw new Error('cannot tell')
          },
        },
        {
          id: 'd',
          title: 'Delta',
          dependsOn: ['b', 'c'],
          retries: { max: 2 },
          run: () => runs++,
          compensate: () => {},
        },
      ],
    })
    const report = await executor.dryRun(plan, { operation: op, epoch: 1, mode: 'ungraceful' })
    expect(runs).toBe(0)
    expect(report.waves).toEqual([['a'], ['b', 'c'], ['d']])
    expect(report.steps.map((s) => [s.id, s.selected, s.wave, s.lines])).toEqual([
      ['a', true, 0, ['check eu-west-1']],
      ['b', false, 1, []],
      ['c', true, 1, []],
      ['d', true, 2, ['Delta']],
    ])
    expect(report.steps[1]?.skippedReason).toBe('runs only when graceful')
    expect(report.steps[2]?.error).toBe('cannot tell')
    expect(report.steps[3]).toMatchObject({ retries: 2, compensable: true })
    const text = formatDryRun(report)
    expect(text).toContain('Dry plan — failover us-east-1 → eu-west-1 (ungraceful, dry run)')
    expect(text).toContain('[skip] b: Beta')
    expect(text).toContain('(could not describe: cannot tell)')
  })
})

describe('executor: hooks and wiring', () => {
  it('awaits hooks in order, before the step runs', async () => {
    const clock = createVirtualClock(T0)
    const order: string[] = []
    const executor = createExecutor({
      clock,
      hooks: {
        async onEvent(e) {
          await Promise.resolve()
          order.push(e.type)
        },
      },
    })
    const plan = createPlan({
      id: 'h',
      steps: [{ id: 'a', title: 'a', run: () => void order.push('run a') }],
    })
    await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(order).toEqual([
      'plan.started',
      'step.started',
      'run a',
      'step.succeeded',
      'plan.finished',
    ])
  })

  it('a throwing hook does not fail the plan', async () => {
    const clock = createVirtualClock(T0)
    const hookErrors: string[] = []
    const executor = createExecutor({
      clock,
      hooks: {
        onEvent(e) {
          if (e.type === 'step.started') throw new Error('ledger down')
        },
        onHookError: (error, e) => void hookErrors.push(`${e.type}: ${(error as Error).message}`),
      },
    })
    const plan = createPlan({ id: 'h', steps: [{ id: 'a', title: 'a', run: () => 1 }] })
    const r = await finish(clock, executor.run(plan, { operation: op, epoch: 1 }).result)
    expect(r.ok).toBe(true)
    expect(hookErrors).toEqual(['step.started: ledger down'])
  })

  it('forwards step logs to a pino-compatible logger with context', async () => {
    const clock = createVirtualClock(T0)
    const lines: [string, object, string | undefined][] = []
    const logger = {
      debug: (f: object, m?: string) => void lines.push(['debug', f, m]),
      info: (f: object, m?: string) => void lines.push(['info', f, m]),
      warn: (f: object, m?: string) => void lines.push(['warn', f, m]),
      error: (f: object, m?: string) => void lines.push(['error', f, m]),
    }
    const executor = createExecutor({ clock, logger })
    const plan = createPlan({
      id: 'l',
      steps: [{ id: 'a', title: 'a', run: (ctx) => ctx.log.warn('hello', { x: 1 }) }],
    })
    await finish(clock, executor.run(plan, { operation: op, epoch: 2 }).result)
    expect(lines).toEqual([
      ['warn', { x: 1, operation: 'op-1', plan: 'l', step: 'a', attempt: 1, epoch: 2 }, 'hello'],
    ])
  })

  it('maps results to machine events, events to receipts and engine events', async () => {
    const { clock, executor, events } = setup()
    const ok = createPlan({
      id: 'ok',
      steps: [{ id: 'a', title: 'a', run: () => ({ n: 1, gone: undefined }) }],
    })
    const r1 = await finish(clock, executor.run(ok, { operation: op, epoch: 5 }).result)
    expect(planOutcomeEvent(r1)).toEqual({
      type: 'plan.succeeded',
      at: r1.finishedAt,
      operation: 'op-1',
    })
    const receipts = events.map(planEventToReceipt).filter((x) => x !== undefined)
    expect(receipts).toEqual([
      { type: 'step.started', data: { operation: 'op-1', epoch: 5, step: 'a', attempt: 1 } },
      {
        type: 'step.succeeded',
        data: {
          operation: 'op-1',
          epoch: 5,
          step: 'a',
          durationMs: 0,
          attempts: 1,
          result: { n: 1 },
        },
      },
    ])
    const engine = events.map(planEventToEngineEvent).filter((x) => x !== undefined)
    expect(engine.map((e) => e.type)).toEqual(['plan.step.started', 'plan.step.succeeded'])

    events.length = 0
    const bad = createPlan({
      id: 'bad',
      steps: [
        { id: 'a', title: 'A', run: () => 1, compensate: () => {} },
        { id: 'b', title: 'B', dependsOn: ['a'], run: () => Promise.reject(new Error('nope')) },
      ],
    })
    const r2 = await finish(clock, executor.run(bad, { operation: op, epoch: 5 }).result)
    expect(planOutcomeEvent(r2)).toEqual({
      type: 'plan.failed',
      at: r2.finishedAt,
      operation: 'op-1',
      error: 'step "b" (B) failed after 1 attempt: nope',
    })
    expect(
      events
        .map(planEventToReceipt)
        .filter((x) => x !== undefined)
        .map((x) => x.type),
    ).toEqual(['step.started', 'step.succeeded', 'step.started', 'step.failed', 'step.compensated'])
  })

  it('rejects a bad run configuration synchronously', () => {
    const { executor } = setup()
    const plan = createPlan({ id: 'p', steps: [{ id: 'a', title: 'a', run: () => 1 }] })
    expect(() => executor.run(plan, { operation: op, epoch: -1 })).toThrow(
      /epoch: must be an integer/,
    )
    expect(() => executor.run(plan, { operation: op, epoch: 1, concurrency: 0 })).toThrow(
      /concurrency/,
    )
  })
})
