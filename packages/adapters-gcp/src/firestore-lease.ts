/**
 * A {@link Lease} on Firestore with a fencing epoch, resting on `create()`
 * alone (no transactions, no update-time preconditions: the emulator
 * honours neither, and `create()` is enough). The lease is a log of
 * versions `<path>/versions/<v>` (v zero-padded to 20 digits), each
 * `{ v, holder, epoch, expiresAt }`; the state is the highest version.
 * Every change (acquire, renew, release) reads the head `v` and creates
 * `v + 1`: of two racing changes exactly one create succeeds, the other
 * re-reads and decides again. So the log is linear and epochs, taken as
 * `head.epoch + 1` by each new holder, rise strictly.
 *
 * Old versions are pruned, without breaking that argument: a change gives
 * up if more than {@link STALE_READ_MS} passed between reading the head and
 * creating the next version, and only versions whose server create time is
 * older than {@link PRUNE_AFTER_MS} (far more) are deleted, so a version a
 * late writer could race for is never one that was pruned.
 *
 * @module
 */
import { ConfigError, type Lease, type LeaseGrant } from '@baton/core'
import type { CollectionReference, Firestore } from '@google-cloud/firestore'
import { messageOf, receiptDocId } from './_common.js'
import {
  ALREADY_EXISTS,
  checkDocumentPath,
  type FirestoreConnectionOptions,
  firestoreClient,
  grpcCode,
  projectOf,
} from './_firestore-client.js'
import { GcpError } from './errors.js'

/** Options for {@link createFirestoreLease}. */
export interface FirestoreLeaseOptions extends FirestoreConnectionOptions {
  /** Document path of the lease, e.g. `leases/orders`; versions go in its `versions` subcollection. */
  readonly path: string
  /** The clock expiries are computed with (epoch ms); default `Date.now`. Holders' clocks must agree to well within a TTL. */
  readonly now?: () => number
  /** Versions kept at least (older ones, once old enough, are pruned); default 100 (10–10 000). */
  readonly keepVersions?: number
}

/** A Firestore lease. */
export interface FirestoreLease extends Lease {
  /** The lease's document path. */
  readonly path: string
  /** The Firestore client in use. */
  readonly client: Firestore
  /** Gives back the client if this lease created it. */
  close(): Promise<void>
}

/** A change gives up when its read of the head is older than this (ms). */
const STALE_READ_MS = 30_000
/** Versions are pruned only once their server create time is this old (ms). */
const PRUNE_AFTER_MS = 10 * 60_000
/** Rounds of read-and-create before a contended change gives up. */
const MAX_ROUNDS = 20

interface Version {
  readonly v: number
  readonly holder: string | null
  readonly epoch: number
  readonly expiresAt: number
}

/**
 * A lease at `options.path`.
 *
 * @throws {@link ConfigError} (`INVALID_CONFIG`) naming a bad option.
 *
 * @example
 * ```ts
 * const lease = createFirestoreLease({ projectId: 'acme', path: 'leases/orders' })
 * const grant = await lease.acquire('pod-7', 15_000)
 * ```
 */
export function createFirestoreLease(options: FirestoreLeaseOptions): FirestoreLease {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'must be an object')
  }
  const path = checkDocumentPath(options.path, 'path')
  const keep = options.keepVersions ?? 100
  if (!Number.isSafeInteger(keep) || keep < 10 || keep > 10_000) {
    throw new ConfigError('keepVersions', `must be an integer from 10 to 10000, got ${keep}`)
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new ConfigError('now', 'must be a function returning epoch milliseconds')
  }
  const now = options.now ?? Date.now
  const ref = firestoreClient(options)
  const db = ref.client
  const versions = db.collection(`${path}/versions`)
  const name = `firestore://${projectOf(db, options.projectId)}/${path}`

  const fail = (what: string, error: unknown): GcpError =>
    new GcpError('GCP_REQUEST', `${name}: ${what} failed: ${messageOf(error)}`, {
      cause: error,
      status: grpcCode(error),
    })

  const head = async (): Promise<Version | undefined> => {
    let docs: { id: string; data(): unknown }[]
    try {
      docs = (await versions.orderBy('v', 'desc').limit(1).get()).docs
    } catch (error) {
      throw fail('reading the lease', error)
    }
    const doc = docs[0]
    return doc === undefined ? undefined : versionOf(doc.id, doc.data(), name)
  }

  /**
   * Reads the head, lets `decide` pick the next version (or an answer without
   * one), and creates it; on a lost race, reads again.
   */
  const change = async <T>(
    what: string,
    decide: (
      current: Version | undefined,
      at: number,
    ) => { readonly next: Omit<Version, 'v'>; readonly result: T } | { readonly answer: T },
  ): Promise<T> => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const readAt = performance.now()
      const current = await head()
      const decision = decide(current, now())
      if ('answer' in decision) return decision.answer
      if (performance.now() - readAt > STALE_READ_MS) continue
      const v = (current?.v ?? -1) + 1
      try {
        const result = await versions.doc(receiptDocId(v)).create({ v, ...decision.next })
        if (v % 20 === 0) void prune(versions, v - keep, result.writeTime.toMillis())
        return decision.result
      } catch (error) {
        if (grpcCode(error) !== ALREADY_EXISTS) throw fail(what, error)
      }
      if (round > 2) await new Promise((r) => setTimeout(r, Math.random() * 20 * round))
    }
    throw new GcpError('GCP_REQUEST', `${name}: ${what} lost ${MAX_ROUNDS} races in a row`)
  }

  const live = (
    current: Version | undefined,
    at: number,
  ): current is Version & { holder: string } =>
    current !== undefined && current.holder !== null && current.expiresAt > at

  return {
    name,
    path,
    client: db,
    acquire(holder, ttlMs) {
      checkHolder(holder)
      checkTtl(ttlMs)
      return change<LeaseGrant | undefined>('acquiring the lease', (current, at) => {
        if (live(current, at) && current.holder !== holder) return { answer: undefined }
        const epoch = live(current, at) ? current.epoch : (current?.epoch ?? 0) + 1
        const grant = { holder, epoch, expiresAt: at + ttlMs }
        return { next: grant, result: grant }
      })
    },
    renew(grant, ttlMs) {
      checkTtl(ttlMs)
      return change<LeaseGrant | undefined>('renewing the lease', (current, at) => {
        if (
          !live(current, at) ||
          current.holder !== grant.holder ||
          current.epoch !== grant.epoch
        ) {
          return { answer: undefined }
        }
        const next = { holder: grant.holder, epoch: grant.epoch, expiresAt: at + ttlMs }
        return { next, result: next }
      })
    },
    async release(grant) {
      await change<void>('releasing the lease', (current) => {
        if (current?.holder !== grant.holder || current.epoch !== grant.epoch) {
          return { answer: undefined }
        }
        return { next: { holder: null, epoch: grant.epoch, expiresAt: 0 }, result: undefined }
      })
    },
    async current() {
      const current = await head()
      if (!live(current, now())) return undefined
      return { holder: current.holder, epoch: current.epoch, expiresAt: current.expiresAt }
    },
    async close() {
      await ref.release()
    },
  }
}

function checkHolder(holder: unknown): void {
  if (typeof holder !== 'string' || holder === '') {
    throw new ConfigError('holder', `must be a non-empty string, got ${JSON.stringify(holder)}`)
  }
}

function checkTtl(ttlMs: unknown): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ConfigError('ttlMs', `must be a positive number of milliseconds, got ${ttlMs}`)
  }
}

function versionOf(id: string, data: unknown, name: string): Version {
  const d = data as Partial<Version>
  if (
    !Number.isSafeInteger(d.v) ||
    receiptDocId(d.v as number) !== id ||
    !(d.holder === null || typeof d.holder === 'string') ||
    !Number.isSafeInteger(d.epoch) ||
    typeof d.expiresAt !== 'number'
  ) {
    throw new GcpError(
      'GCP_CORRUPT',
      `${name}/versions/${id} is not a lease version this adapter wrote`,
    )
  }
  return d as Version
}

/** Deletes versions up to `below` created more than {@link PRUNE_AFTER_MS} before `serverNow`; best effort. */
async function prune(
  versions: CollectionReference,
  below: number,
  serverNow: number,
): Promise<void> {
  if (below < 0) return
  try {
    const old = await versions.where('v', '<', below).orderBy('v').limit(100).get()
    await Promise.all(
      old.docs
        .filter((d) => serverNow - d.createTime.toMillis() > PRUNE_AFTER_MS)
        .map((d) => d.ref.delete()),
    )
  } catch {
    // Pruning is housekeeping: the next change tries again.
  }
}
