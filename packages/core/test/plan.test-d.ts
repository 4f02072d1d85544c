import { describe, expectTypeOf, it } from 'vitest'
import {
  createExecutor,
  createVirtualClock,
  definePlan,
  type FailoverPlanResults,
  type Operation,
  type Plan,
  type PlanResult,
  type PlanResults,
  type PreflightResult,
  type Probe,
  type PromoteResult,
  preflightStep,
  type ShiftTrafficResult,
  shiftTrafficStep,
  type TrafficRouter,
} from '../src/index.js'

declare const probe: Probe
declare const router: TrafficRouter
declare const operation: Operation

describe('typed plans', () => {
  it('types the results of dependencies in ctx.data', () => {
    definePlan({ id: 'p' })
      .step({ id: 'lag', title: 'lag', run: () => ({ lagMs: 1 }) })
      .step({ id: 'name', title: 'name', run: async () => 'x' })
      .step({
        id: 'promote',
        title: 'promote',
        dependsOn: ['lag', 'name'],
        run: (ctx) => {
          expectTypeOf(ctx.data.lag).toEqualTypeOf<{ lagMs: number }>()
          expectTypeOf(ctx.data.name).toEqualTypeOf<string>()
          return true
        },
      })
  })

  it('types results of non-dependencies as possibly missing', () => {
    definePlan({ id: 'p' })
      .step({ id: 'a', title: 'a', run: () => 1 })
      .step({
        id: 'b',
        title: 'b',
        run: (ctx) => {
          expectTypeOf(ctx.data.a).toEqualTypeOf<number | undefined>()
        },
      })
  })

  it('types a mode-specific dependency as possibly missing', () => {
    definePlan({ id: 'p' })
      .step({ id: 'snap', title: 'snap', when: 'graceful', run: () => ({ id: 's1' }) })
      .step({
        id: 'use',
        title: 'use',
        dependsOn: ['snap'],
        run: (ctx) => {
          expectTypeOf(ctx.data.snap).toEqualTypeOf<{ id: string } | undefined>()
        },
      })
  })

  it('refuses a dependency on a step not added before', () => {
    definePlan({ id: 'p' })
      .step({ id: 'a', title: 'a', run: () => 1 })
      // @ts-expect-error: "promote" is not a step of this plan (yet)
      .step({ id: 'b', title: 'b', dependsOn: ['promote'], run: () => 2 })
  })

  it('types verify and compensate with the run result', () => {
    definePlan({ id: 'p' }).step({
      id: 'a',
      title: 'a',
      run: async () => ({ weights: { x: 1 } }),
      verify: (_ctx, result) => {
        expectTypeOf(result).toEqualTypeOf<{ weights: { x: number } }>()
        return true
      },
      compensate: (_ctx, result) => {
        expectTypeOf(result.weights.x).toEqualTypeOf<number>()
      },
    })
  })

  it('types built-in steps in the builder and the run results', async () => {
    const plan = definePlan({ id: 'p' })
      .step(preflightStep({ probes: probe }))
      .step(shiftTrafficStep({ router, dependsOn: ['preflight'] }))
      .step({
        id: 'after',
        title: 'after',
        dependsOn: ['shift-traffic', 'preflight'],
        run: (ctx) => {
          expectTypeOf(ctx.data['shift-traffic']).toEqualTypeOf<ShiftTrafficResult>()
          expectTypeOf(ctx.data.preflight.region).toEqualTypeOf<string>()
          return ctx.data.preflight.lag?.lagMs ?? null
        },
      })
      .build()
    expectTypeOf<PlanResults<typeof plan>>().toEqualTypeOf<{
      readonly preflight: PreflightResult
      readonly 'shift-traffic': ShiftTrafficResult
      readonly after: number | null
    }>()
    const run = createExecutor({ clock: createVirtualClock() }).run(plan, { operation, epoch: 1 })
    const result = await run.result
    expectTypeOf(result.results.after).toEqualTypeOf<number | null | undefined>()
    expectTypeOf(result.results.preflight).toEqualTypeOf<PreflightResult | undefined>()
  })

  it('types the default failover plan results', () => {
    type R = PlanResult<FailoverPlanResults>['results']
    expectTypeOf<R['promote']>().toEqualTypeOf<PromoteResult | undefined>()
    expectTypeOf<Plan<FailoverPlanResults>>().toMatchTypeOf<Plan<FailoverPlanResults>>()
  })
})
