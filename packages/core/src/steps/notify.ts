/**
 * `notify`: tell people (runbook 002's templates: initiated, progress,
 * completed). A notifier that fails or hangs never fails the plan: the
 * step succeeds with `sent: false` and the error recorded.
 *
 * @module
 */

import type { BaseStepOptions, StepContext, StepData, StepSpec, StepWhen } from '../plan.js'
import type { NotificationKind, Notifier } from '../ports/notifier.js'
import { bestEffort, builtin, checkNumber, errorMessage, formatMs } from './_common.js'

/** The message of a notification, as computed from the step's context. */
export interface NotifyMessage {
  readonly title: string
  readonly body: string
  readonly fields?: Readonly<Record<string, string | number | boolean>>
}

/** Options of {@link notifyStep}. */
export interface NotifyStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  readonly notifier: Notifier
  /** Which template. */
  readonly kind: Extract<NotificationKind, 'initiated' | 'progress' | 'completed' | 'failed'>
  /** `P1` (default) to `P3`. */
  readonly severity?: 'P1' | 'P2' | 'P3'
  /** Replaces the template (title, body, extra fields). */
  readonly message?: (ctx: StepContext) => NotifyMessage
  /** Timeout of the notifier call, in ms. Default 10 000. */
  readonly callTimeoutMs?: number
}

/** What {@link notifyStep} did. */
export interface NotifyResult {
  readonly kind: NotificationKind
  readonly sent: boolean
  readonly title: string
  readonly error?: string
}

const WORD: Record<string, string> = {
  initiated: 'INITIATED',
  progress: 'PROGRESS',
  completed: 'COMPLETED',
  failed: 'FAILED',
}

/** The runbook 002 template for `kind`. */
export function notificationTemplate(
  kind: NotifyStepOptions<string, string, StepWhen>['kind'],
  ctx: StepContext,
): NotifyMessage {
  const op = ctx.operation
  const head = `${op.kind.toUpperCase()} ${WORD[kind]}: ${op.from} → ${op.to}`
  const done = Object.keys(ctx.data)
  const elapsed = formatMs(Math.max(0, ctx.clock.now() - op.startedAt))
  const lines: string[] = [`Operation: ${op.id} (${ctx.mode})`]
  if (kind === 'initiated') {
    lines.push('Current status: preparation', 'Next: preflight checks, data, traffic, verification')
  } else if (kind === 'progress') {
    lines.push(`Completed: ${done.length > 0 ? done.join(', ') : 'nothing yet'}`)
    lines.push(`Elapsed: ${elapsed}`)
  } else if (kind === 'completed') {
    lines.push(`Result: successful`, `Now serving: ${op.to}`, `Total time: ${elapsed}`)
    const promote = ctx.data.promote as { lagMsAtPromotion?: number | null } | undefined
    if (promote !== undefined) {
      const lag = promote.lagMsAtPromotion
      lines.push(
        `Data loss: ${lag === 0 ? 'none' : lag == null ? 'unknown' : `up to ${formatMs(lag)}`}`,
      )
    }
  } else {
    lines.push(`Elapsed: ${elapsed}`)
  }
  return {
    title: head,
    body: lines.join('\n'),
    fields: { operation: op.id, kind: op.kind, from: op.from, to: op.to, mode: ctx.mode },
  }
}

/** Sends an initiated / progress / completed notification; never fails the plan. */
export function notifyStep<
  const Id extends string = 'notify',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(options: NotifyStepOptions<Id, Dep, W>): StepSpec<Id, NotifyResult, StepData, Dep, W> {
  const callTimeoutMs = options.callTimeoutMs ?? 10_000
  checkNumber(callTimeoutMs, 'callTimeoutMs', 1)
  const { notifier, kind } = options
  return builtin(
    options,
    {
      id: 'notify',
      title: `Notify: ${kind}`,
      // Longer than the call's own timeout, so the step itself never times out.
      timeoutMs: callTimeoutMs + 60_000,
      retries: { max: 0 },
    },
    {
      async run(ctx) {
        let message: NotifyMessage
        try {
          message = (options.message ?? ((c) => notificationTemplate(kind, c)))(ctx)
        } catch (error) {
          message = { title: `${ctx.operation.kind} ${kind}`, body: errorMessage(error) }
        }
        const sent = await bestEffort(ctx.clock, callTimeoutMs, ctx.call, (c) =>
          notifier.notify(
            {
              kind,
              severity: options.severity ?? 'P1',
              title: message.title,
              body: message.body,
              ...(message.fields === undefined ? {} : { fields: message.fields }),
            },
            c,
          ),
        )
        if (!sent.ok) {
          const error = errorMessage(sent.error)
          ctx.log.warn('notification failed (the plan goes on)', { notifier: notifier.name, error })
          return { kind, sent: false, title: message.title, error }
        }
        return { kind, sent: true, title: message.title }
      },
      describe() {
        return [
          `send a "${kind}" notification via ${notifier.name} (a failure is recorded, never fatal)`,
        ]
      },
    },
  )
}
