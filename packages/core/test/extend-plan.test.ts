import { createMemoryStore, verify } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import {
  builtinScenario,
  ConfigError,
  createPlan,
  drill,
  extendPlan,
  hasStep,
  planSinks,
  planWaves,
} from '../src/index.js'

const noop = { run: () => ({}) }

const base = createPlan({
  id: 'failover',
  title: 'Failover',
  steps: [
    { id: 'preflight', title: 'Preflight', ...noop },
    { id: 'promote', title: 'Promote', dependsOn: ['preflight'], ...noop },
    { id: 'shift-traffic', title: 'Shift', dependsOn: ['promote'], ...noop },
  ],
  concurrency: 3,
})

describe('extendPlan', () => {
  it('adds steps, keeps dependencies and makes existing steps wait for added ones', () => {
    const plan = extendPlan(base, {
      steps: [
        { id: 'capacity', title: 'Capacity', dependsOn: ['preflight'], ...noop },
        { id: 'e2e', title: 'End to end', dependsOn: planSinks(base), ...noop },
      ],
      before: { 'shift-traffic': ['capacity'] },
    })
    expect(plan.steps.map((s) => s.id)).toEqual([
      'preflight',
      'promote',
      'capacity',
      'shift-traffic',
      'e2e',
    ])
    expect(plan.steps.find((s) => s.id === 'shift-traffic')?.dependsOn).toEqual([
      'promote',
      'capacity',
    ])
    expect(planWaves(plan)).toEqual([
      ['preflight'],
      ['promote', 'capacity'],
      ['shift-traffic'],
      ['e2e'],
    ])
    expect(plan.concurrency).toBe(3)
    expect(planSinks(plan)).toEqual(['e2e'])
    expect(hasStep(plan, 'capacity')).toBe(true)
    // The original plan is untouched.
    expect(base.steps.find((s) => s.id === 'shift-traffic')?.dependsOn).toEqual(['promote'])
  })

  it('tunes timeouts and retries of existing steps, and checks them', () => {
    const plan = extendPlan(base, {
      tune: { promote: { timeoutMs: 40 * 60_000, retries: { max: 2 } } },
    })
    const promote = plan.steps.find((s) => s.id === 'promote')!
    expect(promote.timeoutMs).toBe(40 * 60_000)
    expect(promote.retries).toMatchObject({ max: 2, backoffMs: 1_000 })
    expect(() => extendPlan(base, { tune: { promote: { timeoutMs: -1 } } })).toThrow(
      /plan\.steps\[1\]\.timeoutMs/,
    )
    expect(() => extendPlan(base, { tune: { ghost: { timeoutMs: 1 } } })).toThrow(
      /extension\.tune\.ghost: unknown step/,
    )
  })

  it('names the bad field: unknown before key, unknown dependency, cycle, duplicate', () => {
    expect(() => extendPlan(base, { before: { nope: ['preflight'] } })).toThrow(ConfigError)
    expect(() => extendPlan(base, { before: { nope: ['preflight'] } })).toThrow(
      /extension\.before\.nope: unknown step "nope"/,
    )
    expect(extendPlan(base, { before: { nope: ['x'] }, optional: true }).steps).toHaveLength(3)
    expect(() =>
      extendPlan(base, { steps: [{ id: 'x', title: 'X', dependsOn: ['ghost'], ...noop }] }),
    ).toThrow(/dependsOn\[0\]: unknown step "ghost"/)
    expect(() =>
      extendPlan(base, {
        steps: [{ id: 'x', title: 'X', dependsOn: ['shift-traffic'], ...noop }],
        before: { preflight: ['x'] },
      }),
    ).toThrow(/cycle/)
    expect(() => extendPlan(base, { steps: [{ id: 'promote', title: 'P', ...noop }] })).toThrow(
      /duplicate step id "promote"/,
    )
  })
})

describe('a plan hook in the controller, through a drill', () => {
  it('runs the added step in the failover, after the built-in ones, with receipts', async () => {
    const seen: string[] = []
    const result = await drill(builtinScenario('region-outage'), {
      seed: 3,
      controller: () => ({
        plan: ({ operation, builtin }) => {
          seen.push(`${operation.kind}:${builtin.steps.length}`)
          if (operation.kind !== 'failover') return builtin
          return extendPlan(builtin, {
            steps: [
              {
                id: 'e2e-check',
                title: 'End-to-end check',
                dependsOn: planSinks(builtin),
                async run(ctx) {
                  await ctx.clock.sleep(60_000, ctx.signal)
                  return { region: ctx.operation.to }
                },
              },
            ],
          })
        },
      }),
      inspect: ({ receipts }) => {
        const steps = receipts
          .filter((r) => r.type === 'step.succeeded')
          .map((r) => (r.data as { step: string }).step)
        expect(steps.at(-1)).toBe('e2e-check')
        const done = receipts.find(
          (r) => r.type === 'step.succeeded' && (r.data as { step: string }).step === 'e2e-check',
        )
        expect((done!.data as { durationMs: number }).durationMs).toBe(60_000)
      },
    })
    expect(seen.some((s) => s.startsWith('failover:'))).toBe(true)
    expect(result.passed).toBe(true)
    // The minute of the added step is inside the measured RTO.
    expect(result.failovers[0]!.rto.measuredMs!).toBeGreaterThanOrEqual(60_000)
  })

  it('rejects a plan option that is not a function', async () => {
    await expect(
      drill(builtinScenario('region-outage'), {
        controller: () => ({ plan: 'nope' as never }),
      }),
    ).rejects.toThrow(/plan: must be a function/)
  })

  it('writes into the store it is given, and refuses one that holds receipts', async () => {
    const store = createMemoryStore()
    const result = await drill(builtinScenario('region-outage'), { seed: 1, store })
    expect((await store.head()).size).toBe(result.ledger.receipts)
    expect((await verify(store)).status).toBe('VERIFIED')
    await expect(drill(builtinScenario('region-outage'), { store })).rejects.toThrow(
      /options\.store: must be empty/,
    )
  })
})

describe('a plan hook that throws', () => {
  it('fails the operation (recorded, rolled back) instead of leaving it in flight', async () => {
    let errors: string[] = []
    const result = await drill(builtinScenario('region-outage'), {
      seed: 1,
      controller: () => ({
        plan: ({ operation, builtin }) => {
          if (operation.kind === 'failover') throw new Error('no such step: e2e')
          return builtin
        },
      }),
      inspect: ({ receipts }) => {
        errors = receipts
          .filter((r) => r.type === 'state.changed')
          .map((r) => String((r.data as { event: { error?: string } }).event.error ?? ''))
          .filter((e) => e !== '')
      },
    })
    expect(result.failovers).toEqual([])
    expect(result.rollbacks).toBe(1)
    expect(result.final.state).not.toBe('failing-over')
    expect(result.ledger.replay.status).toBe('REPLAYED')
    expect(errors[0]).toBe('the failover plan could not be built: no such step: e2e')
  })
})

describe('attach in a drill', () => {
  it('hands each controller to the caller before it starts, so its events can be followed', async () => {
    const seen: string[] = []
    const states: string[] = []
    const result = await drill(builtinScenario('region-outage'), {
      seed: 2,
      controller: ({ instance }) => ({
        attach: (c) => {
          seen.push(`${instance}:${c.state.name}`)
          c.on('state.changed', (e) => states.push(`${instance}:${e.to}`))
        },
      }),
    })
    expect(seen).toEqual(['i1:active', 'i2:active'])
    expect(states).toContain(`${result.final.leader}:failed-over`)
  })
})
