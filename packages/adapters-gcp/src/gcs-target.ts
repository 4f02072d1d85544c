/**
 * An {@link ExportTarget} on Cloud Storage (`gs://bucket/prefix`): export
 * bundles and manifest entries as objects under the prefix, each created
 * with `ifGenerationMatch: 0` in a single request, so a put is create-only
 * and whole-or-nothing. Retention deletes objects with `delete`; optionally
 * every object is created under a temporary or event-based hold (it cannot
 * be deleted or replaced until the hold is released), and the bucket can be
 * given a retention policy.
 *
 * @module
 */

import { ConfigError } from '@baton/core'
import {
  assertExportKey,
  type ExportBody,
  type ExportObjectInfo,
  type ExportTarget,
  ExportTargetError,
  InvalidInputError,
  LedgerError,
  MAX_EXPORT_KEY_BYTES,
} from '@baton/ledger'
import type { Bucket, Storage } from '@google-cloud/storage'
import { messageOf } from './_common.js'
import {
  BodyError,
  checkBucket,
  checkPrefix,
  type GcsConnectionOptions,
  httpStatus,
  storageClient,
  uploadCreateOnly,
} from './_gcs-client.js'

/** Options for {@link createGcsTarget}. */
export interface GcsTargetOptions extends GcsConnectionOptions {
  /** The bucket. */
  readonly bucket: string
  /** Object name prefix, without a trailing `/` (e.g. `exports/orders`); default none. */
  readonly prefix?: string
  /**
   * Place a hold on every object created: `temporary` (released by an
   * operator or {@link GcsTarget.releaseHold}) or `event-based` (which also
   * restarts the bucket's retention period when released). A held object
   * cannot be deleted or replaced. Default none.
   */
  readonly hold?: 'temporary' | 'event-based'
}

/** A Cloud Storage export target. */
export interface GcsTarget extends ExportTarget {
  /** The bucket. */
  readonly bucket: string
  /** The object name prefix (`''` for none). */
  readonly prefix: string
  /** The Storage client in use. */
  readonly client: Storage
  /** Releases the hold on `key`'s object (see {@link GcsTargetOptions.hold}). */
  releaseHold(key: string): Promise<void>
  /**
   * Sets the bucket's retention policy: no object in it can be deleted or
   * replaced until it is `seconds` old. (Locking the policy, which makes it
   * permanent, is left to an operator.)
   */
  setRetentionPolicy(seconds: number): Promise<void>
  /** Gives back the client if this target created it. */
  close(): Promise<void>
}

/**
 * A Cloud Storage export target over `bucket` and `prefix`.
 *
 * @throws {@link ConfigError} (`INVALID_CONFIG`) naming a bad option.
 *
 * @example
 * ```ts
 * const target = createGcsTarget({ bucket: 'acme-audit', prefix: 'baton/orders', hold: 'event-based' })
 * await exportLedger(ledgerStore, target, { key })
 * ```
 */
export function createGcsTarget(options: GcsTargetOptions): GcsTarget {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'must be an object')
  }
  const bucketName = checkBucket(options.bucket)
  const prefix = checkPrefix(options.prefix)
  if (
    options.hold !== undefined &&
    options.hold !== 'temporary' &&
    options.hold !== 'event-based'
  ) {
    throw new ConfigError(
      'hold',
      `must be "temporary" or "event-based", got ${JSON.stringify(options.hold)}`,
    )
  }
  const ref = storageClient(options)
  const bucket: Bucket = ref.client.bucket(bucketName)
  const location = `gs://${bucketName}${prefix === '' ? '' : `/${prefix}`}`
  const nameOf = (key: string): string => {
    assertExportKey(key)
    const name = prefix === '' ? key : `${prefix}/${key}`
    if (Buffer.byteLength(name) > MAX_EXPORT_KEY_BYTES) {
      throw new InvalidInputError(
        'key',
        `with the prefix, longer than ${MAX_EXPORT_KEY_BYTES} bytes`,
      )
    }
    return name
  }
  const io = (what: string, error: unknown): LedgerError =>
    new LedgerError('IO', `${location}: ${what} failed: ${messageOf(error)}`, { cause: error })

  return {
    location,
    bucket: bucketName,
    prefix,
    client: ref.client,
    async put(key: string, body: ExportBody): Promise<void> {
      const name = nameOf(key)
      const chunks = body instanceof Uint8Array ? [body] : body
      try {
        await uploadCreateOnly(ref.client, bucketName, name, chunks, {
          temporaryHold: options.hold === 'temporary',
          eventBasedHold: options.hold === 'event-based',
        })
      } catch (error) {
        if (httpStatus(error) === 412)
          throw new ExportTargetError('CONFLICT', key, undefined, { cause: error })
        if (error instanceof BodyError) throw error.error
        throw io(`creating ${key}`, error)
      }
    },
    get(key: string): AsyncIterable<Uint8Array> {
      return {
        async *[Symbol.asyncIterator]() {
          const name = nameOf(key)
          const stream = bucket.file(name).createReadStream({ validation: false })
          try {
            for await (const chunk of stream) yield chunk as Buffer
          } catch (error) {
            if (httpStatus(error) === 404)
              throw new ExportTargetError('NOT_FOUND', key, undefined, { cause: error })
            throw io(`reading ${key}`, error)
          } finally {
            stream.destroy()
          }
        },
      }
    },
    async head(key: string): Promise<ExportObjectInfo | undefined> {
      const name = nameOf(key)
      try {
        const [meta] = await bucket.file(name).getMetadata()
        return { size: Number(meta.size ?? 0) }
      } catch (error) {
        if (httpStatus(error) === 404) return undefined
        throw io(`reading the metadata of ${key}`, error)
      }
    },
    list(listPrefix: string): AsyncIterable<string> {
      return {
        async *[Symbol.asyncIterator]() {
          if (typeof listPrefix !== 'string') {
            throw new InvalidInputError('prefix', `must be a string, got ${typeof listPrefix}`)
          }
          const base = prefix === '' ? '' : `${prefix}/`
          let pageToken: string | undefined
          do {
            let names: string[]
            try {
              const [files, next] = await bucket.getFiles({
                prefix: base + listPrefix,
                autoPaginate: false,
                maxResults: 1000,
                ...(pageToken === undefined ? {} : { pageToken }),
              })
              names = files.map((f) => f.name)
              pageToken = (next as { pageToken?: string } | null)?.pageToken ?? undefined
            } catch (error) {
              throw io(`listing ${listPrefix}`, error)
            }
            for (const name of names) yield name.slice(base.length)
          } while (pageToken !== undefined)
        },
      }
    },
    async delete(key: string): Promise<void> {
      const name = nameOf(key)
      try {
        await bucket.file(name).delete({ ignoreNotFound: true })
      } catch (error) {
        throw io(
          httpStatus(error) === 403
            ? `deleting ${key} (refused: a hold or the bucket's retention policy protects it)`
            : `deleting ${key}`,
          error,
        )
      }
    },
    async releaseHold(key: string): Promise<void> {
      const name = nameOf(key)
      try {
        await bucket.file(name).setMetadata({ temporaryHold: false, eventBasedHold: false })
      } catch (error) {
        if (httpStatus(error) === 404)
          throw new ExportTargetError('NOT_FOUND', key, undefined, { cause: error })
        throw io(`releasing the hold on ${key}`, error)
      }
    },
    async setRetentionPolicy(seconds: number): Promise<void> {
      if (!Number.isSafeInteger(seconds) || seconds <= 0) {
        throw new ConfigError('seconds', `must be a positive integer, got ${seconds}`)
      }
      try {
        await bucket.setRetentionPeriod(seconds)
      } catch (error) {
        throw io('setting the retention policy', error)
      }
    },
    async close(): Promise<void> {
      await ref.release()
    },
  }
}
