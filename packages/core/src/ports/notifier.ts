/**
 * The `Notifier` port: telling people.
 *
 * @module
 */
import type { CallContext } from './context.js'

/** What a notification is about (the runbooks' communication templates). */
export type NotificationKind =
  | 'initiated'
  | 'progress'
  | 'completed'
  | 'failed'
  | 'blocked'
  | 'approval-needed'

/** A message for people (chat, pager, email, status page). */
export interface Notification {
  readonly kind: NotificationKind
  /** `P1` (critical) to `P3`. */
  readonly severity: 'P1' | 'P2' | 'P3'
  /** One line. */
  readonly title: string
  /** A few lines of plain text. */
  readonly body: string
  /** Structured facts (regions, RTO, step, …). */
  readonly fields?: Readonly<Record<string, string | number | boolean>>
}

/** Sends notifications. Failing to notify never fails a failover; it is recorded. */
export interface Notifier {
  /** Where it sends, e.g. `slack:#incidents`. */
  readonly name: string
  notify(notification: Notification, ctx: CallContext): Promise<void>
}
