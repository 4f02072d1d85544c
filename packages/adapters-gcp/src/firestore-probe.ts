/**
 * A {@link Probe} on Firestore: the runbooks' "verify write access" and
 * "health check (write + read)". Each check writes a health document with a
 * fresh nonce, reads it back, and passes only if the nonce came back: the
 * region's Firestore accepts writes and serves what it just stored.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { ConfigError, CoreError, type Probe, type ProbeSample } from '@baton/core'
import type { Firestore } from '@google-cloud/firestore'
import { messageOf } from './_common.js'
import {
  checkDocumentPath,
  type FirestoreConnectionOptions,
  firestoreClient,
  grpcCode,
  projectOf,
} from './_firestore-client.js'

/** Options for {@link createFirestoreProbe}. */
export interface FirestoreProbeOptions extends FirestoreConnectionOptions {
  /** The region this Firestore database serves (e.g. `europe-west1`). */
  readonly region: string
  /** Document path of the health document, e.g. `health/europe-west1` (overwritten on every check). */
  readonly path: string
  /** A check that takes longer fails with `TIMEOUT`; default 5 000 ms. */
  readonly timeoutMs?: number
  /** The clock samples are stamped with (epoch ms); default `Date.now`. */
  readonly now?: () => number
}

/** A Firestore probe. */
export interface FirestoreProbe extends Probe {
  /** The Firestore client in use. */
  readonly client: Firestore
  /**
   * Gives back the client if this probe created it, waiting at most
   * `timeoutMs` for checks abandoned at their timeout.
   */
  close(): Promise<void>
}

/**
 * A probe writing and reading `options.path`.
 *
 * @throws {@link ConfigError} (`INVALID_CONFIG`) naming a bad option.
 *
 * @example
 * ```ts
 * const probe = createFirestoreProbe({ projectId: 'acme', databaseId: 'eu', region: 'europe-west1', path: 'health/probe' })
 * const sample = await probe.check({ epoch })
 * ```
 */
export function createFirestoreProbe(options: FirestoreProbeOptions): FirestoreProbe {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'must be an object')
  }
  if (typeof options.region !== 'string' || options.region === '') {
    throw new ConfigError(
      'region',
      `must be a non-empty string, got ${JSON.stringify(options.region)}`,
    )
  }
  const path = checkDocumentPath(options.path, 'path')
  const timeoutMs = options.timeoutMs ?? 5_000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigError('timeoutMs', `must be a positive number, got ${timeoutMs}`)
  }
  const now = options.now ?? Date.now
  const ref = firestoreClient(options)
  const db = ref.client
  const doc = db.doc(path)
  const region = options.region

  let closed = false
  // `live()` is false once the check was abandoned (timeout, abort) or the
  // probe closed: the read is then never started, because the Firestore
  // client rejects a read issued after terminate() on a promise nobody can
  // catch (an unhandled rejection in the host process).
  const writeThenRead = async (live: () => boolean): Promise<void> => {
    const nonce = randomUUID()
    const written = await doc.set({ region, nonce, at: new Date().toISOString() })
    if (!live()) throw new Error('ABANDONED: the check ended before the read back')
    const snap = await doc.get()
    // Another check's write landing after ours (one abandoned at its timeout
    // and retried by the client) is newer data, and still a good read.
    const newer =
      snap.updateTime !== undefined && snap.updateTime.valueOf() > written.writeTime.valueOf()
    if (snap.get('nonce') !== nonce && !newer) {
      throw new Error('READ_MISMATCH: the health document read back is not the one just written')
    }
  }

  return {
    name: `firestore:${projectOf(db, options.projectId)}/${path}`,
    region,
    client: db,
    async check(ctx): Promise<ProbeSample> {
      const signal = ctx.signal
      if (signal?.aborted === true)
        throw new CoreError('ABORTED', 'the check was aborted before it began')
      const started = performance.now()
      let timer: NodeJS.Timeout | undefined
      let onAbort: (() => void) | undefined
      let settled = false
      try {
        const work = writeThenRead(() => !settled && !closed)
        // A check abandoned at its timeout or abort still settles later: handled here.
        work.catch(() => undefined)
        await Promise.race([
          work,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`TIMEOUT: no answer within ${timeoutMs} ms`)),
              timeoutMs,
            )
            onAbort = () => reject(new CoreError('ABORTED', 'the check was aborted'))
            signal?.addEventListener('abort', onAbort, { once: true })
          }),
        ])
        return { region, ok: true, at: now(), latencyMs: performance.now() - started }
      } catch (error) {
        if (error instanceof CoreError) throw error
        const code = grpcCode(error)
        return {
          region,
          ok: false,
          at: now(),
          latencyMs: performance.now() - started,
          error: code === undefined ? messageOf(error) : `gRPC ${code}: ${messageOf(error)}`,
        }
      } finally {
        settled = true
        clearTimeout(timer)
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
      }
    },
    async close() {
      // A check abandoned at its timeout keeps the client busy until the
      // client's own deadline; do not wait for that longer than a check.
      closed = true
      let timer: NodeJS.Timeout | undefined
      const released = ref.release()
      released.catch(() => undefined)
      await Promise.race([
        released,
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs)
        }),
      ])
      clearTimeout(timer)
    },
  }
}
