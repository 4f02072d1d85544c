/**
 * A {@link Notifier} that records what it is asked to send.
 *
 * @module
 */
import type { Clock } from '../clock.js'
import { ConfigError, CoreError } from '../errors.js'
import type { CallContext } from '../ports/context.js'
import type { Notification, Notifier } from '../ports/notifier.js'

/** One recorded notification. */
export interface SentNotification {
  /** What was sent (as given). */
  readonly notification: Notification
  /** The fencing epoch of the call. */
  readonly epoch: number
  /** When (clock ms; `Date.now()` without a clock). */
  readonly at: number
  /** The controller instance that sent it, when known (the simulated world's views set it). */
  readonly instance?: string
}

/** Options for {@link createMemoryNotifier}. */
export interface MemoryNotifierOptions {
  /** Where it "sends", reported as {@link Notifier.name}; default `memory:notifications`. */
  readonly name?: string
  /** Timestamps for {@link SentNotification.at}; default the system time. */
  readonly clock?: Pick<Clock, 'now'>
}

/** A notifier that keeps every message in memory. */
export interface MemoryNotifier extends Notifier {
  /** Every notification sent so far, in order. */
  readonly sent: readonly SentNotification[]
  /** Forgets everything sent so far. */
  clear(): void
}

/**
 * A notifier that records messages instead of sending them. Never throws
 * for odd text (empty, very long, emoji, lone surrogates, markup); rejects
 * with `ABORTED` if the call's signal has already aborted.
 *
 * @throws ConfigError (`name`) for an empty name.
 *
 * @example
 * ```ts
 * const notifier = createMemoryNotifier()
 * await notifier.notify({ kind: 'initiated', severity: 'P1', title: 't', body: 'b' }, { epoch: 1 })
 * notifier.sent.length // 1
 * ```
 */
export function createMemoryNotifier(options: MemoryNotifierOptions = {}): MemoryNotifier {
  const name = options.name ?? 'memory:notifications'
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError('name', 'must be a non-empty string')
  }
  const now = options.clock === undefined ? () => Date.now() : () => options.clock!.now()
  const sent: SentNotification[] = []
  return {
    name,
    sent,
    clear() {
      sent.length = 0
    },
    async notify(notification: Notification, ctx: CallContext): Promise<void> {
      if (ctx?.signal?.aborted === true) {
        throw new CoreError('ABORTED', 'notify: aborted', { cause: ctx.signal.reason })
      }
      sent.push({ notification, epoch: ctx?.epoch ?? 0, at: now() })
    },
  }
}
