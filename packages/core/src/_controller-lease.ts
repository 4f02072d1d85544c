/**
 * Holding the lease: acquire, renew before expiry, notice the loss.
 *
 * @internal
 * @module
 */
import type { Clock } from './clock.js'
import type { Lease, LeaseGrant } from './ports/lease.js'

/** What the holder reports. */
export interface LeaseHolderEvents {
  /** The lease was acquired (possibly after a loss) with this grant. */
  acquired(grant: LeaseGrant): Promise<void>
  /** The lease was lost (renewal refused, or it expired while renewals failed). */
  lost(grant: LeaseGrant, reason: string): Promise<void>
  /** A lease call failed (it will be retried). */
  error(error: unknown, what: string): void
}

/** Options of {@link createLeaseHolder}. */
export interface LeaseHolderOptions {
  readonly lease: Lease
  readonly holder: string
  readonly clock: Clock
  readonly ttlMs: number
  /** Time between acquire attempts and renewals. */
  readonly everyMs: number
  readonly events: LeaseHolderEvents
}

/** Keeps trying to hold a lease; see {@link LeaseHolder.step}. */
export interface LeaseHolder {
  /** The grant held now, if any (and not expired on the clock). */
  readonly grant: LeaseGrant | undefined
  /** One round: acquire if not held, renew if held; report gains and losses. */
  step(): Promise<void>
  /** Releases the lease if held. */
  release(): Promise<void>
}

/** Creates a lease holder (the controller runs `step()` every `everyMs`). */
export function createLeaseHolder(options: LeaseHolderOptions): LeaseHolder {
  const { lease, holder, clock, ttlMs, events } = options
  let grant: LeaseGrant | undefined

  const lose = async (reason: string): Promise<void> => {
    const lost = grant!
    grant = undefined
    await events.lost(lost, reason)
  }

  return {
    get grant() {
      if (grant !== undefined && grant.expiresAt <= clock.now()) return undefined
      return grant
    },
    async step() {
      if (grant === undefined) {
        let next: LeaseGrant | undefined
        try {
          next = await lease.acquire(holder, ttlMs)
        } catch (error) {
          events.error(error, 'lease.acquire')
          return
        }
        if (next !== undefined) {
          grant = next
          await events.acquired(next)
        }
        return
      }
      if (grant.expiresAt <= clock.now()) {
        await lose('lease expired before it could be renewed')
        return
      }
      try {
        const renewed = await lease.renew(grant, ttlMs)
        if (renewed === undefined) await lose('lease renewal refused: another holder has it')
        else grant = renewed
      } catch (error) {
        events.error(error, 'lease.renew')
        if (grant !== undefined && grant.expiresAt <= clock.now()) {
          await lose('lease expired while renewals failed')
        }
      }
    },
    async release() {
      const held = grant
      grant = undefined
      if (held !== undefined) {
        try {
          await lease.release(held)
        } catch (error) {
          events.error(error, 'lease.release')
        }
      }
    },
  }
}
