/**
 * Wiring a plan run to the machine, the event bus and the ledger. Exported
 * through `executor.ts`.
 *
 * @module
 */
import type { EngineEvent } from './events.js'
import type { PlanEvent, PlanResult } from './executor.js'
import type { MachineEvent } from './machine.js'
import type { EngineReceiptInput } from './receipts.js'

/**
 * The machine event a finished run answers with: `plan.succeeded` or
 * `plan.failed` (with the failing step in `error`). `undefined` when the
 * run was cancelled or lost the lease: the machine asked for that itself
 * (`cancel-plan` on `halt` / `lease.lost`), so there is nothing to report.
 */
export function planOutcomeEvent(result: PlanResult<unknown>): MachineEvent | undefined {
  const base = { at: result.finishedAt, operation: result.operation.id }
  if (result.outcome === 'succeeded') return { type: 'plan.succeeded', ...base }
  if (result.outcome === 'failed') {
    return { type: 'plan.failed', ...base, error: result.error?.message ?? 'plan failed' }
  }
  return undefined
}

/** The engine event (`plan.step.*`) for a plan event, if there is one. */
export function planEventToEngineEvent(event: PlanEvent): EngineEvent | undefined {
  const base = { at: event.at, operation: event.operation }
  switch (event.type) {
    case 'step.started':
      return { type: 'plan.step.started', ...base, step: event.step, attempt: event.attempt }
    case 'step.succeeded':
      return {
        type: 'plan.step.succeeded',
        ...base,
        step: event.step,
        durationMs: event.durationMs,
        attempts: event.attempts,
      }
    case 'step.failed':
      return {
        type: 'plan.step.failed',
        ...base,
        step: event.step,
        durationMs: event.durationMs,
        attempts: event.attempts,
        error: event.error,
      }
    case 'step.compensated':
    case 'step.undone':
      return { type: 'plan.step.compensated', ...base, step: event.step, ok: event.ok }
    default:
      return undefined
  }
}

/**
 * The receipt for a plan event, if it deserves one: `step.started`,
 * `step.succeeded` (with the result, made JSON-safe), `step.failed`,
 * `step.compensated` (also for a failed attempt's undo).
 */
export function planEventToReceipt(event: PlanEvent): EngineReceiptInput | undefined {
  const base = { operation: event.operation, epoch: event.epoch }
  switch (event.type) {
    case 'step.started':
      return {
        type: 'step.started',
        data: { ...base, step: event.step, attempt: event.attempt },
      }
    case 'step.succeeded': {
      const result = receiptResult(event.result)
      return {
        type: 'step.succeeded',
        data: {
          ...base,
          step: event.step,
          durationMs: event.durationMs,
          attempts: event.attempts,
          ...(result === undefined ? {} : { result }),
        },
      }
    }
    case 'step.failed':
      return {
        type: 'step.failed',
        data: {
          ...base,
          step: event.step,
          durationMs: event.durationMs,
          attempts: event.attempts,
          error: event.error,
        },
      }
    case 'step.compensated':
    case 'step.undone':
      return {
        type: 'step.compensated',
        data: {
          ...base,
          step: event.step,
          ok: event.ok,
          ...(event.error === undefined ? {} : { error: event.error }),
        },
      }
    default:
      return undefined
  }
}

/** A step result as a JSON object for a receipt (non-objects wrapped as `{ value }`). */
function receiptResult(result: unknown): Readonly<Record<string, unknown>> | undefined {
  if (result === undefined) return undefined
  let json: unknown
  try {
    json = JSON.parse(
      JSON.stringify(result, (_k, v: unknown) => {
        if (typeof v === 'bigint') return v.toString()
        if (typeof v === 'number' && !Number.isFinite(v)) return null
        if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
          return String(v)
        }
        return v
      }),
    )
  } catch {
    return { value: String(result) }
  }
  if (json === undefined) return undefined
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    return json as Record<string, unknown>
  }
  return { value: json }
}
