/**
 * An in-memory {@link Lease} on a {@link Clock}: expiry, a strictly
 * increasing fencing epoch, several controller instances sharing one lease
 * in one process, and partitions that make one holder's calls fail or time
 * out (drills: "partition between instances", "lost lease").
 *
 * @module
 */
import type { Clock } from '../clock.js'
import { ConfigError, CoreError } from '../errors.js'
import type { Lease, LeaseGrant } from '../ports/lease.js'
import { SimulatedFaultError } from './simulated-error.js'

/** Options for {@link createMemoryLease}. */
export interface MemoryLeaseOptions {
  /** The clock expiry is measured on (a virtual clock in drills). */
  readonly clock: Clock
  /** The lease's name, reported as {@link Lease.name}; default `memory:lease`. */
  readonly name?: string
  /** Time every call takes on the clock before it reaches the store; default 0 (no timer). */
  readonly latencyMs?: number
}

/** How a partitioned holder's calls fail (see {@link MemoryLease.partition}). */
export interface LeasePartitionOptions {
  /**
   * `fail`: calls reject at once with a {@link SimulatedFaultError}
   * (`UNAVAILABLE`). `timeout`: calls reject with a `TIMEOUT` `CoreError`
   * after {@link timeoutMs} of the clock. Default `fail`.
   */
  readonly mode?: 'fail' | 'timeout'
  /** For `timeout`: how long a call hangs before it rejects; default 5 000 ms. */
  readonly timeoutMs?: number
  /**
   * For `timeout`: the store applies the call when it arrives, but the
   * answer never comes back (the ambiguous failure a real client sees).
   * Default false: the call never reaches the store.
   */
  readonly applied?: boolean
}

/** What happened to the lease, for drills' ground truth. */
export interface LeaseEvent {
  /** When (clock ms). */
  readonly at: number
  /**
   * `acquired`: a new grant (new epoch); `reacquired`: the holder acquired
   * again while holding (same epoch); `renewed`; `released`; `refused`: an
   * acquire lost to another holder, or a renew/release of a grant that is
   * no longer current; `revoked`: {@link MemoryLease.revoke} ended the grant;
   * `partitioned`: a call was cut off by a partition.
   */
  readonly type:
    | 'acquired'
    | 'reacquired'
    | 'renewed'
    | 'released'
    | 'refused'
    | 'revoked'
    | 'partitioned'
  /** The holder the call was for. */
  readonly holder: string
  /** The epoch involved (the new grant's, or the refused grant's). */
  readonly epoch?: number
  /** The grant's expiry after the call, when there is a grant. */
  readonly expiresAt?: number
}

/** One holder's uninterrupted tenure under one epoch. */
export interface LeaseTenure {
  /** The holder. */
  readonly holder: string
  /** The epoch of the tenure. */
  readonly epoch: number
  /** When it was acquired (clock ms). */
  readonly from: number
  /** When it ended: released, revoked, or expired (its last `expiresAt`); `undefined` while it lasts. */
  readonly to: number | undefined
}

/** A handle on an injected partition. */
export interface LeasePartition {
  /** The holder cut off. */
  readonly holder: string
  /** Ends the partition now. */
  heal(): void
}

/** The in-memory lease: a {@link Lease} plus views per instance, fault injection and history. */
export interface MemoryLease extends Lease {
  /**
   * The lease as seen by controller instance `holder`: the same store, but
   * every call (including `current`) goes through `holder`'s partition, if
   * any. Calls on the lease itself are partitioned by the holder they name
   * (`current()` on it never is).
   */
  view(holder: string): Lease
  /** Cuts `holder` off the lease store until healed (see {@link LeasePartitionOptions}). */
  partition(holder: string, options?: LeasePartitionOptions): LeasePartition
  /** Heals `holder`'s partition, or every partition when called without a holder. */
  heal(holder?: string): void
  /**
   * Ends the current grant now, as if it had expired (the store lost it,
   * clock skew): its holder's next renew fails and anyone may acquire
   * with a higher epoch. No-op when nobody holds it.
   */
  revoke(): void
  /** The highest epoch ever granted (0 before the first grant). */
  readonly highestEpoch: number
  /** Everything that happened, in order. */
  history(): readonly LeaseEvent[]
  /** Every tenure so far, in order; they never overlap in time. */
  tenures(): readonly LeaseTenure[]
}

interface Partition {
  readonly id: number
  readonly mode: 'fail' | 'timeout'
  readonly timeoutMs: number
  readonly applied: boolean
}

interface State {
  holder: string
  epoch: number
  expiresAt: number
  tenure: { holder: string; epoch: number; from: number; to: number | undefined }
}

function checkHolder(holder: unknown, path: string): asserts holder is string {
  if (typeof holder !== 'string' || holder === '') {
    throw new ConfigError(path, `must be a non-empty string, got ${JSON.stringify(holder)}`)
  }
}

function checkTtl(ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ConfigError('ttlMs', `must be a positive finite number, got ${String(ttlMs)}`)
  }
}

function checkGrant(grant: unknown): asserts grant is LeaseGrant {
  if (typeof grant !== 'object' || grant === null) {
    throw new ConfigError('grant', 'must be a lease grant')
  }
  checkHolder((grant as LeaseGrant).holder, 'grant.holder')
  if (!Number.isSafeInteger((grant as LeaseGrant).epoch)) {
    throw new ConfigError('grant.epoch', 'must be an integer')
  }
}

/**
 * An in-memory lease. Epochs start at 1 and only grow; a lease is held
 * while `clock.now() < expiresAt`; renewing an expired lease fails (acquire
 * again for a new epoch).
 *
 * @throws ConfigError (`name`, `latencyMs`) for bad options.
 *
 * @example
 * ```ts
 * const lease = createMemoryLease({ clock })
 * const a = lease.view('a'), b = lease.view('b')
 * const grant = await a.acquire('a', 10_000) // epoch 1
 * lease.partition('a', { mode: 'timeout' })   // a's renewals now time out
 * ```
 */
export function createMemoryLease(options: MemoryLeaseOptions): MemoryLease {
  const { clock } = options
  const name = options.name ?? 'memory:lease'
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError('name', 'must be a non-empty string')
  }
  const latencyMs = options.latencyMs ?? 0
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new ConfigError('latencyMs', `must be a non-negative number, got ${latencyMs}`)
  }
  let state: State | undefined
  let highest = 0
  let partitionIds = 0
  const partitions = new Map<string, Partition>()
  const events: LeaseEvent[] = []
  const tenures: State['tenure'][] = []

  const log = (event: LeaseEvent): void => {
    events.push(event)
  }
  const live = (): State | undefined => {
    if (state !== undefined && clock.now() >= state.expiresAt) {
      state.tenure.to = state.expiresAt
      state = undefined
    }
    return state
  }
  const grantOf = (s: State): LeaseGrant => ({
    holder: s.holder,
    epoch: s.epoch,
    expiresAt: s.expiresAt,
  })

  /** Runs `op` against the store as `holder` would: through latency and any partition. */
  const through = async <T>(
    holder: string | undefined,
    method: string,
    op: () => T,
  ): Promise<T> => {
    if (latencyMs > 0) await clock.sleep(latencyMs)
    else await Promise.resolve()
    const cut = holder === undefined ? undefined : partitions.get(holder)
    if (cut === undefined) return op()
    log({ at: clock.now(), type: 'partitioned', holder: holder! })
    if (cut.mode === 'fail') throw new SimulatedFaultError(`lease.${method}`, 'UNAVAILABLE')
    if (cut.applied) op()
    await clock.sleep(cut.timeoutMs)
    throw new CoreError('TIMEOUT', `lease.${method}: no answer after ${cut.timeoutMs} ms`)
  }

  const acquire = (holder: string, ttlMs: number): LeaseGrant | undefined => {
    const now = clock.now()
    const s = live()
    if (s !== undefined && s.holder !== holder) {
      log({ at: now, type: 'refused', holder, epoch: s.epoch })
      return undefined
    }
    if (s !== undefined) {
      s.expiresAt = Math.max(s.expiresAt, now + ttlMs)
      log({ at: now, type: 'reacquired', holder, epoch: s.epoch, expiresAt: s.expiresAt })
      return grantOf(s)
    }
    highest += 1
    const tenure = { holder, epoch: highest, from: now, to: undefined }
    tenures.push(tenure)
    state = { holder, epoch: highest, expiresAt: now + ttlMs, tenure }
    log({ at: now, type: 'acquired', holder, epoch: highest, expiresAt: state.expiresAt })
    return grantOf(state)
  }

  const renew = (grant: LeaseGrant, ttlMs: number): LeaseGrant | undefined => {
    const now = clock.now()
    const s = live()
    if (s === undefined || s.holder !== grant.holder || s.epoch !== grant.epoch) {
      log({ at: now, type: 'refused', holder: grant.holder, epoch: grant.epoch })
      return undefined
    }
    s.expiresAt = Math.max(s.expiresAt, now + ttlMs)
    log({ at: now, type: 'renewed', holder: s.holder, epoch: s.epoch, expiresAt: s.expiresAt })
    return grantOf(s)
  }

  const release = (grant: LeaseGrant): void => {
    const now = clock.now()
    const s = live()
    if (s === undefined || s.holder !== grant.holder || s.epoch !== grant.epoch) {
      log({ at: now, type: 'refused', holder: grant.holder, epoch: grant.epoch })
      return
    }
    s.tenure.to = now
    state = undefined
    log({ at: now, type: 'released', holder: grant.holder, epoch: grant.epoch })
  }

  const current = (): LeaseGrant | undefined => {
    const s = live()
    return s === undefined ? undefined : grantOf(s)
  }

  const makeLease = (viewer: string | undefined): Lease => ({
    name,
    async acquire(holder, ttlMs) {
      checkHolder(holder, 'holder')
      checkTtl(ttlMs)
      return through(viewer ?? holder, 'acquire', () => acquire(holder, ttlMs))
    },
    async renew(grant, ttlMs) {
      checkGrant(grant)
      checkTtl(ttlMs)
      return through(viewer ?? grant.holder, 'renew', () => renew(grant, ttlMs))
    },
    async release(grant) {
      checkGrant(grant)
      return through(viewer ?? grant.holder, 'release', () => release(grant))
    },
    async current() {
      return through(viewer, 'current', current)
    },
  })

  const base = makeLease(undefined)
  return {
    ...base,
    view(holder) {
      checkHolder(holder, 'holder')
      return makeLease(holder)
    },
    partition(holder, partitionOptions = {}) {
      checkHolder(holder, 'holder')
      const mode = partitionOptions.mode ?? 'fail'
      if (mode !== 'fail' && mode !== 'timeout') {
        throw new ConfigError('mode', `must be 'fail' or 'timeout', got ${String(mode)}`)
      }
      const timeoutMs = partitionOptions.timeoutMs ?? 5_000
      if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
        throw new ConfigError('timeoutMs', `must be a non-negative number, got ${timeoutMs}`)
      }
      const id = ++partitionIds
      partitions.set(holder, { id, mode, timeoutMs, applied: partitionOptions.applied ?? false })
      return {
        holder,
        heal() {
          if (partitions.get(holder)?.id === id) partitions.delete(holder)
        },
      }
    },
    heal(holder) {
      if (holder === undefined) partitions.clear()
      else partitions.delete(holder)
    },
    revoke() {
      const s = live()
      if (s === undefined) return
      const now = clock.now()
      s.tenure.to = now
      state = undefined
      log({ at: now, type: 'revoked', holder: s.holder, epoch: s.epoch })
    },
    get highestEpoch() {
      return highest
    },
    history: () => events.slice(),
    tenures() {
      live()
      return tenures.map((t) => ({ ...t }))
    },
  }
}
