/**
 * The executor's engine: one plan run (scheduling, attempts, timeouts,
 * retries, undo, compensation, pause / cancel / lease loss). Public types
 * and documentation live in `executor.ts`.
 *
 * @module
 */
import { isBatonError } from '@baton/ledger'
import { ConfigError, CoreError } from './errors.js'
import type {
  ExecutorOptions,
  PlanEvent,
  PlanFailure,
  PlanOutcome,
  PlanResult,
  PlanRun,
  PlanRunStatus,
  RunOptions,
  StepReport,
  StepStatus,
} from './executor.js'
import {
  backoffDelay,
  isRetryable,
  type LogFields,
  type Plan,
  type Step,
  type StepContext,
  StepError,
  type StepLog,
  stepRunsIn,
} from './plan.js'
import type { CallContext } from './ports/context.js'

/** The default concurrency of an executor. */
export const DEFAULT_CONCURRENCY = 4

/** The message of an unknown error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

interface StepState {
  readonly step: Step
  status: StepStatus
  attempts: number
  startedAt?: number
  finishedAt?: number
  result?: unknown
  error?: unknown
  skippedReason?: string
  compensation?: { readonly ok: boolean; readonly error?: string }
}

interface Stop {
  readonly kind: 'cancelled' | 'lease-lost'
  readonly reason: string
  readonly error: CoreError
}

type Undo = (call: CallContext) => Promise<void> | void

/** Races `promise` against `signal` (rejecting with its reason); always removes its listener. */
async function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {}) // settled after we stopped listening: nobody else will
  if (signal.aborted) throw signal.reason
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort!)
  }
}

function errorFields(error: unknown): {
  code?: string
  details?: Readonly<Record<string, unknown>>
} {
  const out: { code?: string; details?: Readonly<Record<string, unknown>> } = {}
  if (isBatonError(error)) out.code = error.code
  if (error instanceof StepError && Object.keys(error.details).length > 0) {
    out.details = error.details
  }
  return out
}

/** Runs `plan`: see `createExecutor` in `executor.ts`. */
export function runPlanInternal<R>(
  plan: Plan<R>,
  options: RunOptions,
  exec: ExecutorOptions,
): PlanRun<R> {
  const { clock } = exec
  const { operation, epoch } = options
  const mode = options.mode ?? plan.mode ?? 'graceful'
  const concurrency =
    options.concurrency ?? plan.concurrency ?? exec.concurrency ?? DEFAULT_CONCURRENCY
  if (!(concurrency >= 1)) {
    throw new ConfigError('concurrency', `must be ≥ 1 (got ${String(concurrency)})`)
  }
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new ConfigError('epoch', `must be an integer ≥ 0 (got ${String(epoch)})`)
  }

  const abort = new AbortController()
  const states = new Map<string, StepState>(
    plan.steps.map((step) => [step.id, { step, status: 'pending', attempts: 0 }]),
  )
  const completed: string[] = []
  const data: Record<string, unknown> = {}
  let stop: Stop | undefined
  let failure: { readonly state: StepState; readonly error: unknown } | undefined
  let paused = false
  let compensating = false
  let outcome: PlanOutcome | undefined

  // Wake-ups: the main loop and paused retries wait for "something changed".
  const waiters = new Set<() => void>()
  const changed = (): void => {
    for (const w of [...waiters]) w()
    waiters.clear()
  }
  const nextChange = (): Promise<void> => new Promise((resolve) => waiters.add(resolve))

  // Events, delivered one at a time, in order.
  let queue: Promise<void> = Promise.resolve()
  const base = () => ({ at: clock.now(), operation: operation.id, plan: plan.id, epoch })
  const emit = (event: PlanEvent): Promise<void> => {
    const hook = exec.hooks?.onEvent
    if (hook === undefined) return queue
    queue = queue.then(async () => {
      try {
        await hook.call(exec.hooks, event)
      } catch (error) {
        if (exec.hooks?.onHookError !== undefined) exec.hooks.onHookError(error, event)
        else exec.logger?.error({ err: error, event: event.type }, 'plan event hook failed')
      }
    })
    return queue
  }
  const stepBase = (st: StepState) => ({ ...base(), step: st.step.id, title: st.step.title })

  const makeLog = (step: string, attempt: number): StepLog => {
    const logger = exec.logger
    const line =
      (level: 'debug' | 'info' | 'warn' | 'error') =>
      (message: string, fields?: LogFields): void => {
        logger?.[level](
          { ...fields, operation: operation.id, plan: plan.id, step, attempt, epoch },
          message,
        )
      }
    return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') }
  }

  const halt = (kind: Stop['kind'], reason: string): boolean => {
    if (stop !== undefined || outcome !== undefined) return false
    const error =
      kind === 'lease-lost'
        ? new CoreError('LEASE_LOST', `lease lost: ${reason}`)
        : new CoreError('ABORTED', `plan cancelled: ${reason}`)
    stop = { kind, reason, error }
    paused = false
    abort.abort(error)
    void emit({
      type: 'plan.cancelled',
      ...base(),
      reason,
      code: kind === 'lease-lost' ? 'LEASE_LOST' : 'ABORTED',
    })
    changed()
    return true
  }

  /** True if the lease is still held; otherwise stops the plan (lease lost). */
  const checkLease = async (): Promise<boolean> => {
    if (stop !== undefined) return false
    if (exec.lease === undefined) return true
    let held = false
    let why = `no longer held at epoch ${epoch}`
    try {
      held = await exec.lease.isHeld(epoch)
    } catch (error) {
      // Cannot prove we hold it: act as if we do not.
      why = `lease check failed: ${messageOf(error)}`
    }
    if (held) return stop === undefined
    halt('lease-lost', why)
    return false
  }

  const makeContext = (
    st: StepState,
    attempt: number,
    signal: AbortSignal,
    undos: Undo[] | undefined,
  ): StepContext => ({
    operation,
    mode,
    epoch,
    clock,
    signal,
    call: { epoch, signal },
    step: st.step.id,
    attempt,
    log: makeLog(st.step.id, attempt),
    data: Object.freeze({ ...data }),
    assertLease: async () => {
      if (!(await checkLease())) {
        throw stop?.error ?? new CoreError('LEASE_LOST', `lease lost at epoch ${epoch}`)
      }
    },
    onFailure: (undo) => {
      if (undos === undefined) throw new CoreError('INVALID_STATE', 'onFailure only works in run')
      undos.push(undo)
    },
  })

  /**
   * One attempt of `work` under the step's timeout, aborted with the plan.
   * With `undos`, a failed attempt runs them before rethrowing.
   */
  const attemptOnce = async (
    st: StepState,
    attempt: number,
    work: (ctx: StepContext) => Promise<unknown>,
    undos: Undo[] | undefined,
  ): Promise<unknown> => {
    const { step } = st
    const local = new AbortController()
    const signal = AbortSignal.any([abort.signal, local.signal])
    const timer = new AbortController()
    const ctx = makeContext(st, attempt, signal, undos)
    try {
      const running = work(ctx)
      running.catch(() => {})
      const timeout = clock.sleep(step.timeoutMs, timer.signal).then(
        () => {
          const error = new CoreError(
            'TIMEOUT',
            `step "${step.id}" timed out after ${step.timeoutMs} ms (attempt ${attempt})`,
          )
          local.abort(error)
          throw error
        },
        () => new Promise<never>(() => {}),
      )
      return await raceSignal(Promise.race([running, timeout]), abort.signal)
    } catch (error) {
      if (stop === undefined && undos !== undefined && undos.length > 0) {
        await runUndos(st, attempt, undos)
      }
      throw error
    } finally {
      timer.abort()
    }
  }

  const runUndos = async (st: StepState, attempt: number, undos: Undo[]): Promise<void> => {
    const local = new AbortController()
    const timer = new AbortController()
    const signal = AbortSignal.any([abort.signal, local.signal])
    void clock.sleep(st.step.timeoutMs, timer.signal).then(
      () => local.abort(new CoreError('TIMEOUT', `undo of step "${st.step.id}" timed out`)),
      () => {},
    )
    let error: unknown
    let ok = true
    try {
      for (const undo of [...undos].reverse()) {
        await raceSignal(
          Promise.resolve().then(() => undo({ epoch, signal })),
          signal,
        )
      }
    } catch (e) {
      ok = false
      error = e
    } finally {
      timer.abort()
    }
    await emit({
      type: 'step.undone',
      ...stepBase(st),
      attempt,
      ok,
      ...(ok ? {} : { error: messageOf(error) }),
    })
  }

  const runAndVerify = async (st: StepState, ctx: StepContext): Promise<unknown> => {
    const result = await st.step.run(ctx)
    if (st.step.verify !== undefined) {
      const verdict = await st.step.verify(ctx, result)
      if (verdict === false || typeof verdict === 'string') {
        throw new StepError(
          `step "${st.step.id}": verification failed${typeof verdict === 'string' ? `: ${verdict}` : ''}`,
          {
            details: {
              phase: 'verify',
              ...(typeof verdict === 'string' ? { reason: verdict } : {}),
            },
          },
        )
      }
    }
    return result
  }

  const cancelled = (st: StepState, error: unknown): void => {
    st.status = 'cancelled'
    st.error = stop?.error ?? error
    st.finishedAt = clock.now()
  }

  const executeStep = async (st: StepState): Promise<void> => {
    const { step } = st
    st.startedAt = clock.now()
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        while (paused && stop === undefined) await nextChange()
        if (stop !== undefined || !(await checkLease())) {
          cancelled(st, stop?.error)
          return
        }
      }
      st.attempts = attempt
      await emit({ type: 'step.started', ...stepBase(st), attempt })
      if (stop !== undefined) {
        cancelled(st, stop.error)
        return
      }
      try {
        const undos: Undo[] = []
        const result = await attemptOnce(st, attempt, (ctx) => runAndVerify(st, ctx), undos)
        st.result = result
        st.status = 'succeeded'
        st.finishedAt = clock.now()
        data[step.id] = result
        completed.push(step.id)
        await emit({
          type: 'step.succeeded',
          ...stepBase(st),
          attempts: attempt,
          durationMs: st.finishedAt - st.startedAt,
          result,
        })
        return
      } catch (error) {
        if (stop !== undefined) {
          cancelled(st, error)
          return
        }
        if (attempt <= step.retries.max && isRetryable(error) && failure === undefined) {
          const delayMs = backoffDelay(step.retries, attempt)
          await emit({
            type: 'step.retrying',
            ...stepBase(st),
            attempt,
            delayMs,
            error: messageOf(error),
            cause: error,
          })
          try {
            await clock.sleep(delayMs, abort.signal)
          } catch {
            cancelled(st, error)
            return
          }
          if (failure === undefined) continue
        }
        st.status = 'failed'
        st.error = error
        st.finishedAt = clock.now()
        failure ??= { state: st, error }
        await emit({
          type: 'step.failed',
          ...stepBase(st),
          attempts: attempt,
          durationMs: st.finishedAt - st.startedAt,
          error: messageOf(error),
          ...errorFields(error),
          cause: error,
        })
        return
      }
    }
  }

  const compensateAll = async (): Promise<void> => {
    for (const id of [...completed].reverse()) {
      const st = states.get(id)!
      const compensate = st.step.compensate
      if (compensate === undefined) continue
      if (stop !== undefined || !(await checkLease())) return
      const t0 = clock.now()
      let ok = false
      let error: unknown
      for (let attempt = 1; ; attempt++) {
        try {
          await attemptOnce(
            st,
            attempt,
            async (ctx) => compensate.call(st.step, ctx, st.result),
            undefined,
          )
          ok = true
          break
        } catch (e) {
          error = e
          if (stop !== undefined || attempt > st.step.retries.max || !isRetryable(e)) break
          try {
            await clock.sleep(backoffDelay(st.step.retries, attempt), abort.signal)
          } catch {
            break
          }
        }
      }
      st.compensation = ok ? { ok } : { ok, error: messageOf(error) }
      st.status = ok ? 'compensated' : 'compensation-failed'
      await emit({
        type: 'step.compensated',
        ...stepBase(st),
        ok,
        durationMs: clock.now() - t0,
        ...(ok ? {} : { error: messageOf(error) }),
      })
      // Stop at the first failed compensation: undoing further could make things worse.
      if (!ok) return
    }
  }

  /**
   * A dependency its dependents may pass: succeeded, or skipped once its own
   * dependencies may be passed (a skipped step still orders what comes
   * after it: `fence` after a skipped `snapshot` waits for what the
   * snapshot waited for).
   */
  const passable = (id: string): boolean => {
    const dep = states.get(id)!
    if (dep.status === 'succeeded') return true
    return dep.status === 'skipped' && dep.step.dependsOn.every(passable)
  }

  const findReady = (): StepState | undefined => {
    for (const st of states.values()) {
      if (st.status !== 'pending') continue
      if (st.step.dependsOn.every(passable)) return st
    }
    return undefined
  }

  const report = (st: StepState): StepReport => {
    const r: Record<string, unknown> = {
      id: st.step.id,
      title: st.step.title,
      when: st.step.when,
      status: st.status,
      attempts: st.attempts,
    }
    if (st.startedAt !== undefined) r.startedAt = st.startedAt
    if (st.finishedAt !== undefined) r.finishedAt = st.finishedAt
    if (st.startedAt !== undefined && st.finishedAt !== undefined) {
      r.durationMs = st.finishedAt - st.startedAt
    }
    if (st.step.id in data) r.result = st.result
    if (st.error !== undefined) {
      r.error = messageOf(st.error)
      Object.assign(r, errorFields(st.error))
    }
    if (st.skippedReason !== undefined) r.skippedReason = st.skippedReason
    if (st.compensation !== undefined) r.compensation = st.compensation
    return r as unknown as StepReport
  }

  const main = async (): Promise<PlanResult<R>> => {
    const startedAt = clock.now()
    await emit({
      type: 'plan.started',
      ...base(),
      kind: operation.kind,
      mode,
      steps: plan.steps.map((s) => s.id),
    })
    if (options.signal?.aborted) onSignal()
    for (const st of states.values()) {
      if (!stepRunsIn(st.step, mode)) {
        st.status = 'skipped'
        st.skippedReason = `runs only when ${st.step.when}`
        await emit({ type: 'step.skipped', ...stepBase(st), reason: st.skippedReason })
      }
    }
    let running = 0
    for (;;) {
      while (stop === undefined && failure === undefined && !paused && running < concurrency) {
        const next = findReady()
        if (next === undefined) break
        if (!(await checkLease())) break
        if (failure !== undefined || paused || next.status !== 'pending') continue
        next.status = 'running'
        running++
        void executeStep(next).finally(() => {
          running--
          changed()
        })
      }
      if (running === 0) {
        const pending = [...states.values()].some((s) => s.status === 'pending')
        if (stop === undefined && failure === undefined && paused && pending) {
          await nextChange()
          continue
        }
        break
      }
      await nextChange()
    }
    if (failure !== undefined && stop === undefined) {
      compensating = true
      await compensateAll()
      compensating = false
    }
    for (const st of states.values()) if (st.status === 'pending') st.status = 'not-run'

    const finishedAt = clock.now()
    outcome =
      stop !== undefined
        ? stop.kind === 'lease-lost'
          ? 'lease-lost'
          : 'cancelled'
        : failure !== undefined
          ? 'failed'
          : 'succeeded'
    let planFailure: PlanFailure | undefined
    let error: CoreError | undefined = stop?.error
    if (failure !== undefined) {
      const { state: st, error: cause } = failure
      planFailure = {
        step: st.step.id,
        title: st.step.title,
        error: cause,
        message: messageOf(cause),
        attempts: st.attempts,
        ...errorFields(cause),
      }
      error ??= new CoreError(
        'STEP_FAILED',
        `step "${st.step.id}" (${st.step.title}) failed after ${st.attempts} attempt${st.attempts === 1 ? '' : 's'}: ${messageOf(cause)}`,
        { cause },
      )
    }
    await emit({
      type: 'plan.finished',
      ...base(),
      outcome,
      durationMs: finishedAt - startedAt,
      ...(planFailure === undefined ? {} : { failedStep: planFailure.step }),
      ...(error === undefined ? {} : { error: error.message }),
    })
    await queue
    options.signal?.removeEventListener('abort', onSignal)
    return {
      plan: plan.id,
      operation,
      mode,
      epoch,
      outcome,
      ok: outcome === 'succeeded',
      results: { ...data } as Partial<R>,
      steps: [...states.values()].map(report),
      completed: [...completed],
      ...(planFailure === undefined ? {} : { failure: planFailure }),
      ...(error === undefined ? {} : { error }),
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt,
    }
  }

  const onSignal = (): void => {
    halt(
      'cancelled',
      `signal aborted${options.signal?.reason === undefined ? '' : `: ${messageOf(options.signal.reason)}`}`,
    )
  }
  if (options.signal?.aborted !== true) {
    options.signal?.addEventListener('abort', onSignal, { once: true })
  }

  const result = main()

  return {
    operation,
    result,
    get status(): PlanRunStatus {
      if (outcome !== undefined) return outcome
      if (stop !== undefined) return stop.kind === 'lease-lost' ? 'lease-lost' : 'cancelled'
      if (compensating) return 'compensating'
      return paused ? 'paused' : 'running'
    },
    pause() {
      if (outcome !== undefined || stop !== undefined || paused || failure !== undefined) {
        return false
      }
      paused = true
      void emit({ type: 'plan.paused', ...base() })
      return true
    },
    resume() {
      if (!paused || outcome !== undefined) return false
      paused = false
      void emit({ type: 'plan.resumed', ...base() })
      changed()
      return true
    },
    cancel: (reason = 'cancelled by request') => halt('cancelled', reason),
    leaseLost: (reason = 'lease lost') => halt('lease-lost', reason),
    steps: () => [...states.values()].map(report),
  }
}
