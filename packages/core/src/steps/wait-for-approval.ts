/**
 * `wait-for-approval`: hold the plan until an operator approves (or denies)
 * the operation, through an {@link Approvals} object the controller or an
 * operator tool resolves. Times out after the step's timeout (default 1 h).
 *
 * @module
 */
import { CoreError } from '../errors.js'
import {
  type BaseStepOptions,
  type StepData,
  StepError,
  type StepSpec,
  type StepWhen,
} from '../plan.js'
import type { Notifier } from '../ports/notifier.js'
import { bestEffort, builtin, formatMs } from './_common.js'

/** An operator's answer. */
export interface ApprovalDecision {
  readonly operation: string
  readonly approved: boolean
  /** Who decided. */
  readonly by: string
  /** When (epoch ms, from the approvals' `now`). */
  readonly at: number
  readonly reason?: string
}

/** A pending request for approval. */
export interface ApprovalRequest {
  readonly operation: string
  readonly reason: string
  readonly at: number
}

/**
 * Approvals by operation id. A decision may come before the request (a
 * pre-approved operation) and is kept; the first decision for an operation
 * wins (later ones are ignored and return false).
 */
export interface Approvals {
  /** Approves `operationId`. False if it was already decided. */
  approve(operationId: string, by: string): boolean
  /** Denies `operationId`. False if it was already decided. */
  deny(operationId: string, by: string, reason?: string): boolean
  /** Asks for a decision (tells `onRequest` listeners) and waits for it; rejects `ABORTED` on `signal`. */
  request(operationId: string, reason: string, signal?: AbortSignal): Promise<ApprovalDecision>
  /** The decision for `operationId`, if any. */
  decision(operationId: string): ApprovalDecision | undefined
  /** Requests still waiting for a decision. */
  pending(): readonly ApprovalRequest[]
  /** Calls `listener` for every new request; returns a disposer. */
  onRequest(listener: (request: ApprovalRequest) => void): () => void
  /** Calls `listener` for every decision (to write `approval.granted` / `approval.denied` receipts); returns a disposer. */
  onDecision(listener: (decision: ApprovalDecision) => void): () => void
}

/** Creates an in-process {@link Approvals}; `now` timestamps decisions (pass the engine clock's). */
export function createApprovals(options: { readonly now?: () => number } = {}): Approvals {
  const now = options.now ?? Date.now
  const decisions = new Map<string, ApprovalDecision>()
  const requests = new Map<string, ApprovalRequest>()
  const waiting = new Map<string, Set<(d: ApprovalDecision) => void>>()
  const requestListeners = new Set<(r: ApprovalRequest) => void>()
  const decisionListeners = new Set<(d: ApprovalDecision) => void>()
  const safe = <T>(listeners: Set<(v: T) => void>, value: T): void => {
    for (const l of listeners) {
      try {
        l(value)
      } catch {
        // A listener's failure must not block a decision.
      }
    }
  }
  const decide = (d: ApprovalDecision): boolean => {
    if (decisions.has(d.operation)) return false
    decisions.set(d.operation, d)
    requests.delete(d.operation)
    safe(decisionListeners, d)
    for (const resolve of waiting.get(d.operation) ?? []) resolve(d)
    waiting.delete(d.operation)
    return true
  }
  return {
    approve: (operation, by) => decide({ operation, approved: true, by, at: now() }),
    deny: (operation, by, reason) =>
      decide({
        operation,
        approved: false,
        by,
        at: now(),
        ...(reason === undefined ? {} : { reason }),
      }),
    request(operation, reason, signal) {
      const done = decisions.get(operation)
      if (done !== undefined) return Promise.resolve(done)
      if (signal?.aborted) return Promise.reject(abortError(signal))
      if (!requests.has(operation)) {
        const r = { operation, reason, at: now() }
        requests.set(operation, r)
        safe(requestListeners, r)
      }
      return new Promise((resolve, reject) => {
        const set = waiting.get(operation) ?? new Set()
        waiting.set(operation, set)
        const onAbort = (): void => {
          set.delete(settle)
          reject(abortError(signal!))
        }
        const settle = (d: ApprovalDecision): void => {
          signal?.removeEventListener('abort', onAbort)
          resolve(d)
        }
        set.add(settle)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
    decision: (operation) => decisions.get(operation),
    pending: () => [...requests.values()],
    onRequest(listener) {
      requestListeners.add(listener)
      return () => requestListeners.delete(listener)
    },
    onDecision(listener) {
      decisionListeners.add(listener)
      return () => decisionListeners.delete(listener)
    },
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new CoreError('ABORTED', 'aborted')
}

/** Options of {@link waitForApprovalStep}. */
export interface WaitForApprovalStepOptions<
  Id extends string,
  Dep extends string,
  W extends StepWhen,
> extends BaseStepOptions<Id, Dep, W> {
  /** Where decisions come from. */
  readonly approvals: Approvals
  /** Why approval is needed (shown to operators). Default: names the operation. */
  readonly reason?: string
  /** When set, an `approval-needed` notification is sent (best effort). */
  readonly notifier?: Notifier
}

/** What {@link waitForApprovalStep} got. */
export interface ApprovalResult {
  readonly approvedBy: string
  readonly at: number
  /** How long the plan waited, in ms. */
  readonly waitedMs: number
}

/** Waits for an operator's approval of the operation; a denial fails the step (not retried). */
export function waitForApprovalStep<
  const Id extends string = 'wait-for-approval',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(options: WaitForApprovalStepOptions<Id, Dep, W>): StepSpec<Id, ApprovalResult, StepData, Dep, W> {
  const { approvals } = options
  return builtin(
    options,
    { id: 'wait-for-approval', title: 'Wait for an operator to approve', timeoutMs: 60 * 60_000 },
    {
      async run(ctx) {
        const op = ctx.operation
        const reason =
          options.reason ?? `approve ${op.kind} ${op.id}: ${op.from} → ${op.to} (${ctx.mode})`
        const t0 = ctx.clock.now()
        if (options.notifier !== undefined && approvals.decision(op.id) === undefined) {
          const notifier = options.notifier
          const sent = await bestEffort(ctx.clock, 10_000, ctx.call, (c) =>
            notifier.notify(
              {
                kind: 'approval-needed',
                severity: 'P1',
                title: `APPROVAL NEEDED: ${op.kind} ${op.from} → ${op.to}`,
                body: reason,
                fields: { operation: op.id, from: op.from, to: op.to, mode: ctx.mode },
              },
              c,
            ),
          )
          if (!sent.ok) ctx.log.warn('approval notification failed', { error: String(sent.error) })
        }
        const d = await approvals.request(op.id, reason, ctx.signal)
        if (!d.approved) {
          throw new StepError(
            `${op.kind} ${op.id} denied by ${d.by}${d.reason === undefined ? '' : `: ${d.reason}`}`,
            {
              retryable: false,
              details: { deniedBy: d.by, reason: d.reason ?? null, at: d.at },
            },
          )
        }
        return { approvedBy: d.by, at: d.at, waitedMs: ctx.clock.now() - t0 }
      },
      describe(ctx) {
        return [
          `wait for an operator to approve ${ctx.operation.kind} ${ctx.operation.id} (up to ${formatMs(options.timeoutMs ?? 60 * 60_000)})`,
        ]
      },
    },
  )
}
