import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { CoreError } from '../src/errors.js'
import {
  backoffDelay,
  ConfigError,
  createPlan,
  DEFAULT_RETRY_POLICY,
  DEFAULT_STEP_TIMEOUT_MS,
  definePlan,
  isRetryable,
  type PlanSpec,
  planWaves,
  StepError,
  type StepSpec,
  stepRunsIn,
} from '../src/index.js'

const step = (id: string, extra: Partial<StepSpec> = {}): StepSpec => ({
  id,
  title: `Step ${id}`,
  run: () => id,
  ...extra,
})

/** The ConfigError `fn` throws. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect(isBatonError(error, 'INVALID_CONFIG')).toBe(true)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('createPlan: validation', () => {
  it('fills in defaults and freezes the plan', () => {
    const plan = createPlan({ id: 'p', steps: [step('a')] })
    expect(plan.title).toBe('p')
    const [a] = plan.steps
    expect(a).toMatchObject({
      id: 'a',
      title: 'Step a',
      dependsOn: [],
      timeoutMs: DEFAULT_STEP_TIMEOUT_MS,
      retries: DEFAULT_RETRY_POLICY,
      when: 'always',
    })
    expect(a?.describe({} as never)).toEqual(['Step a'])
    expect(Object.isFrozen(plan)).toBe(true)
    expect(Object.isFrozen(plan.steps)).toBe(true)
  })

  it('returns a validated plan unchanged', () => {
    const plan = createPlan({ id: 'p', steps: [step('a')] })
    expect(createPlan(plan as unknown as PlanSpec)).toBe(plan)
  })

  it('merges partial retry policies', () => {
    const plan = createPlan({ id: 'p', steps: [step('a', { retries: { max: 3 } })] })
    expect(plan.steps[0]?.retries).toEqual({ ...DEFAULT_RETRY_POLICY, max: 3 })
  })

  it('names an unknown dependency by path', () => {
    const e = configError(() =>
      createPlan({
        id: 'p',
        steps: [step('a'), step('b'), step('c'), step('d', { dependsOn: ['promote'] })],
      }),
    )
    expect(e.path).toBe('plan.steps[3].dependsOn[0]')
    expect(e.message).toBe('plan.steps[3].dependsOn[0]: unknown step "promote"')
  })

  it('names a cycle', () => {
    const e = configError(() =>
      createPlan({
        id: 'p',
        steps: [
          step('a', { dependsOn: ['c'] }),
          step('b', { dependsOn: ['a'] }),
          step('c', { dependsOn: ['b'] }),
          step('d'),
        ],
      }),
    )
    expect(e.message).toBe('plan.steps[1].dependsOn[0]: dependency cycle a → c → b → a')
  })

  it('names a self dependency and duplicate dependencies', () => {
    expect(
      configError(() => createPlan({ id: 'p', steps: [step('a', { dependsOn: ['a'] })] })).message,
    ).toBe('plan.steps[0].dependsOn[0]: step "a" depends on itself')
    expect(
      configError(() =>
        createPlan({ id: 'p', steps: [step('a'), step('b', { dependsOn: ['a', 'a'] })] }),
      ).path,
    ).toBe('plan.steps[1].dependsOn[1]')
  })

  it('names a duplicate id with the first occurrence', () => {
    const e = configError(() => createPlan({ id: 'p', steps: [step('a'), step('b'), step('a')] }))
    expect(e.message).toBe('plan.steps[2].id: duplicate step id "a" (first at plan.steps[0])')
  })

  it.each([
    [{ timeoutMs: -5 }, 'plan.steps[0].timeoutMs', /finite number > 0 \(got -5\)/],
    [{ timeoutMs: 0 }, 'plan.steps[0].timeoutMs', /got 0/],
    [{ timeoutMs: Number.POSITIVE_INFINITY }, 'plan.steps[0].timeoutMs', /got Infinity/],
    [{ retries: { max: -1 } }, 'plan.steps[0].retries.max', /integer ≥ 0/],
    [{ retries: { max: 1.5 } }, 'plan.steps[0].retries.max', /integer ≥ 0/],
    [{ retries: { backoffMs: -1 } }, 'plan.steps[0].retries.backoffMs', /≥ 0/],
    [{ retries: { factor: 0.5 } }, 'plan.steps[0].retries.factor', /≥ 1/],
    [{ retries: { maxBackoffMs: Number.NaN } }, 'plan.steps[0].retries.maxBackoffMs', /≥ 0/],
    [{ when: 'sometimes' }, 'plan.steps[0].when', /always, graceful, ungraceful/],
    [{ title: '' }, 'plan.steps[0].title', /non-empty/],
    [{ id: ' a' }, 'plan.steps[0].id', /non-empty string/],
    [{ run: 'nope' }, 'plan.steps[0].run', /function/],
    [{ verify: 1 }, 'plan.steps[0].verify', /function/],
    [{ compensate: {} }, 'plan.steps[0].compensate', /function/],
    [{ describe: 'x' }, 'plan.steps[0].describe', /function/],
    [{ dependsOn: 'a' }, 'plan.steps[0].dependsOn', /array/],
    [{ dependsOn: [1] }, 'plan.steps[0].dependsOn[0]', /step id/],
  ])('rejects %o at %s', (extra, path, message) => {
    const e = configError(() =>
      createPlan({ id: 'p', steps: [step('a', extra as Partial<StepSpec>)] }),
    )
    expect(e.path).toBe(path)
    expect(e.message).toMatch(message)
  })

  it.each([
    [{ id: '' }, 'plan.id'],
    [{ id: 'p', title: '' }, 'plan.title'],
    [{ id: 'p', concurrency: 0 }, 'plan.concurrency'],
    [{ id: 'p', concurrency: 1.5 }, 'plan.concurrency'],
    [{ id: 'p', mode: 'fast' }, 'plan.mode'],
    [{ id: 'p', steps: 'x' }, 'plan.steps'],
    [{ id: 'p', steps: [null] }, 'plan.steps[0]'],
  ])('rejects plan fields %o at %s', (spec, path) => {
    const e = configError(() => createPlan({ steps: [], ...spec } as unknown as PlanSpec))
    expect(e.path).toBe(path)
  })

  it('accepts Infinity concurrency and an empty plan', () => {
    expect(createPlan({ id: 'p', steps: [], concurrency: Number.POSITIVE_INFINITY }).steps).toEqual(
      [],
    )
  })

  it('orders steps topologically, keeping declaration order for ties', () => {
    const plan = createPlan({
      id: 'p',
      steps: [
        step('c', { dependsOn: ['b'] }),
        step('a'),
        step('b', { dependsOn: ['a'] }),
        step('z'),
      ],
    })
    expect(plan.steps.map((s) => s.id)).toEqual(['a', 'b', 'c', 'z'])
  })
})

describe('planWaves', () => {
  it('groups steps that can run in parallel', () => {
    const plan = createPlan({
      id: 'p',
      steps: [
        step('notify'),
        step('preflight'),
        step('fence', { dependsOn: ['preflight'] }),
        step('promote', { dependsOn: ['fence'] }),
        step('scale', { dependsOn: ['preflight'] }),
        step('shift', { dependsOn: ['promote', 'scale'] }),
      ],
    })
    expect(planWaves(plan)).toEqual([
      ['notify', 'preflight'],
      ['fence', 'scale'],
      ['promote'],
      ['shift'],
    ])
  })
})

describe('definePlan', () => {
  it('builds a validated plan in order', async () => {
    const plan = definePlan({ id: 'typed', title: 'Typed', concurrency: 2, mode: 'ungraceful' })
      .step({ id: 'a', title: 'A', run: () => 1 })
      .step({ id: 'b', title: 'B', dependsOn: ['a'], run: (ctx) => ctx.data.a + 1 })
      .build()
    expect(plan).toMatchObject({ id: 'typed', title: 'Typed', concurrency: 2, mode: 'ungraceful' })
    expect(plan.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ['a', []],
      ['b', ['a']],
    ])
  })

  it('still rejects duplicate ids at build time', () => {
    const builder = definePlan({ id: 'p' })
      .step({ id: 'a', title: 'A', run: () => 1 })
      .step({ id: 'a', title: 'again', run: () => 2 })
    expect(() => builder.build()).toThrow('plan.steps[1].id: duplicate step id "a"')
  })
})

describe('retry helpers', () => {
  it('computes exponential backoff with a cap', () => {
    const p = { max: 5, backoffMs: 100, factor: 3, maxBackoffMs: 1_000 }
    expect([1, 2, 3, 4].map((n) => backoffDelay(p, n))).toEqual([100, 300, 900, 1_000])
    expect(backoffDelay({ ...p, factor: 1 }, 4)).toBe(100)
  })

  it('knows what is retryable', () => {
    expect(isRetryable(new Error('x'))).toBe(true)
    expect(isRetryable(new CoreError('TIMEOUT', 't'))).toBe(true)
    expect(isRetryable(new StepError('x'))).toBe(true)
    expect(isRetryable(new StepError('x', { retryable: false }))).toBe(false)
    for (const code of ['LEASE_LOST', 'FENCED', 'ABORTED', 'INVALID_CONFIG'] as const) {
      expect(isRetryable(new CoreError(code, 'x'))).toBe(false)
    }
  })

  it('selects steps by mode', () => {
    expect(stepRunsIn({ when: 'always' }, 'graceful')).toBe(true)
    expect(stepRunsIn({ when: 'graceful' }, 'graceful')).toBe(true)
    expect(stepRunsIn({ when: 'graceful' }, 'ungraceful')).toBe(false)
    expect(stepRunsIn({ when: 'ungraceful' }, 'ungraceful')).toBe(true)
  })

  it('StepError carries details and its cause', () => {
    const cause = new Error('root')
    const e = new StepError('gate failed', { details: { errorRate: 0.2 }, cause })
    expect(e.code).toBe('STEP_FAILED')
    expect(e.details).toEqual({ errorRate: 0.2 })
    expect(e.cause).toBe(cause)
    expect(e.retryable).toBe(true)
  })
})
