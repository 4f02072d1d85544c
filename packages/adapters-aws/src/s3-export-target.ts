/**
 * An {@link ExportTarget} in an S3 bucket: daily export bundles and the
 * hash-chained manifest go to `s3://bucket/prefix/…`, created once with
 * `If-None-Match: *` and never overwritten; retention deletes old bundles.
 *
 * Bodies up to `partBytes` go up in one `PutObject`; larger ones stream
 * through a multipart upload (constant memory: one part at a time) that is
 * completed with `If-None-Match: *`, or aborted if the body fails, so a key
 * holds a whole object or nothing. With `objectLock`, bundles are stored
 * under S3 Object Lock retention (the bucket must have Object Lock enabled),
 * so not even the bucket owner can delete or change them before the date.
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { ConfigError } from '@baton/core'
import {
  assertExportKey,
  compareExportKeys,
  type ExportBody,
  type ExportObjectInfo,
  type ExportTarget,
  ExportTargetError,
  InvalidInputError,
  LedgerError,
} from '@baton/ledger'
import { callAws, type RetryOptions, retrySettings } from './_aws.js'
import {
  bodyChunks,
  checkBucketAndPrefix,
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  type S3ConnectionOptions,
  s3Client,
} from './_s3.js'

/** Object Lock retention for exported objects. */
export interface S3ObjectLockOptions {
  /** `GOVERNANCE` (users with `s3:BypassGovernanceRetention` may lift it) or `COMPLIANCE` (nobody can). */
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE'
  /** Days each object is retained from its upload. */
  readonly days: number
  /** Which keys are locked; default: bundles (`bundles/…`). */
  readonly appliesTo?: (key: string) => boolean
}

/** Options for {@link createS3ExportTarget}. */
export interface S3ExportTargetOptions extends S3ConnectionOptions {
  /** The bucket (must exist). */
  readonly bucket: string
  /** Key prefix, e.g. `exports/orders` (a `/` is added); default `''`. */
  readonly prefix?: string
  /** Largest body sent in one `PutObject`, and the multipart part size above it; default 8 MiB, at least 5 MiB. */
  readonly partBytes?: number
  /** Store matching objects under Object Lock retention (see {@link S3ObjectLockOptions}). */
  readonly objectLock?: S3ObjectLockOptions
  /** Clock for Object Lock dates (epoch ms); default `Date.now`. */
  readonly now?: () => number
  /** Retries of each S3 call (see {@link RetryOptions}). */
  readonly retry?: RetryOptions
}

/** An {@link ExportTarget} in S3. */
export interface S3ExportTarget extends ExportTarget {
  /** The bucket. */
  readonly bucket: string
  /** The key prefix (empty or ending in `/`). */
  readonly prefix: string
  /** The S3 client in use. */
  readonly client: S3Client
  /** Destroys the client if this target created it. */
  close(): void
}

const MIN_PART = 5 * 1024 * 1024

/**
 * Creates an export target over `s3://bucket/prefix` (no request is made).
 *
 * @throws `ConfigError` (`INVALID_CONFIG`) naming the bad option.
 *
 * @example
 * ```ts
 * const target = createS3ExportTarget({ bucket: 'audit', prefix: 'exports/orders',
 *   objectLock: { mode: 'COMPLIANCE', days: 400 } })
 * await exportLedger(store, target, { signers: [signer] })
 * ```
 */
export function createS3ExportTarget(options: S3ExportTargetOptions): S3ExportTarget {
  const { bucket, prefix } = checkBucketAndPrefix(options.bucket, options.prefix)
  const partBytes = options.partBytes ?? 8 * 1024 * 1024
  if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART) {
    throw new ConfigError(
      'partBytes',
      `must be an integer of at least ${MIN_PART} (5 MiB), got ${partBytes}`,
    )
  }
  const lock = options.objectLock
  if (lock !== undefined) {
    if (lock.mode !== 'GOVERNANCE' && lock.mode !== 'COMPLIANCE') {
      throw new ConfigError(
        'objectLock.mode',
        `must be GOVERNANCE or COMPLIANCE, got ${String(lock.mode)}`,
      )
    }
    if (typeof lock.days !== 'number' || !Number.isInteger(lock.days) || lock.days < 1) {
      throw new ConfigError(
        'objectLock.days',
        `must be a positive integer, got ${String(lock.days)}`,
      )
    }
  }
  const locked = lock?.appliesTo ?? ((key: string) => key.startsWith('bundles/'))
  const now = options.now ?? Date.now
  const retry = retrySettings(options.retry, 'retry')
  const { client, owned } = s3Client(options)
  const location = `s3://${bucket}/${prefix.replace(/\/$/, '')}`
  const s3 = <T>(command: unknown, operation: string): Promise<T> =>
    callAws<T>(client, command, { service: 's3', operation, retry, raw: true })
  const io = (what: string, error: unknown): LedgerError =>
    new LedgerError(
      'IO',
      `${location}: ${what}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    )

  /** Sends a create-only write, riding out 409 ConditionalRequestConflict (a racing write in flight). */
  const createOnly = async (key: string, send: () => Promise<unknown>): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await send()
        return
      } catch (error) {
        if (isPreconditionFailed(error))
          throw new ExportTargetError('CONFLICT', key, undefined, { cause: error })
        if (isConditionalConflict(error) && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt))
          continue
        }
        if (isConditionalConflict(error))
          throw new ExportTargetError('CONFLICT', key, undefined, { cause: error })
        throw io(`writing ${key}`, error)
      }
    }
  }

  const lockFields = (key: string) =>
    lock !== undefined && locked(key)
      ? {
          ObjectLockMode: lock.mode,
          ObjectLockRetainUntilDate: new Date(now() + lock.days * 86_400_000),
        }
      : undefined

  const headOf = async (full: string): Promise<ExportObjectInfo | undefined> => {
    try {
      const out = await s3<{ ContentLength?: number }>(
        new HeadObjectCommand({ Bucket: bucket, Key: full }),
        'HeadObject',
      )
      return { size: out.ContentLength ?? 0 }
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw io(`reading ${full}`, error)
    }
  }

  async function* chunksOf(body: ExportBody): AsyncIterable<Uint8Array> {
    const check = (chunk: unknown): Uint8Array => {
      if (!(chunk instanceof Uint8Array)) {
        throw new InvalidInputError('body', `chunks must be Uint8Arrays, got ${typeof chunk}`)
      }
      return chunk
    }
    if (body instanceof Uint8Array) yield body
    else if (typeof body === 'object' && body !== null && Symbol.asyncIterator in body) {
      for await (const chunk of body) yield check(chunk)
    } else if (typeof body === 'object' && body !== null && Symbol.iterator in body) {
      for (const chunk of body) yield check(chunk)
    } else throw new InvalidInputError('body', 'must be a Uint8Array or an iterable of them')
  }

  const put = async (key: string, body: ExportBody): Promise<void> => {
    assertExportKey(key)
    const full = prefix + key
    if ((await headOf(full)) !== undefined) throw new ExportTargetError('CONFLICT', key)
    const retention = lockFields(key)
    let buffered: Buffer[] = []
    let bufferedBytes = 0
    let uploadId: string | undefined
    const parts: { PartNumber: number; ETag: string }[] = []
    const flushPart = async (): Promise<void> => {
      const bytes = Buffer.concat(buffered, bufferedBytes)
      buffered = []
      bufferedBytes = 0
      if (uploadId === undefined) {
        const created = await s3<{ UploadId?: string }>(
          new CreateMultipartUploadCommand({ Bucket: bucket, Key: full }),
          'CreateMultipartUpload',
        )
        uploadId = created.UploadId
        if (uploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId')
      }
      const PartNumber = parts.length + 1
      const out = await s3<{ ETag?: string }>(
        new UploadPartCommand({
          Bucket: bucket,
          Key: full,
          UploadId: uploadId,
          PartNumber,
          Body: bytes,
        }),
        'UploadPart',
      )
      parts.push({ PartNumber, ETag: out.ETag ?? '' })
    }
    try {
      for await (const chunk of chunksOf(body)) {
        buffered.push(Buffer.from(chunk)) // a copy: the producer may refill its buffer
        bufferedBytes += chunk.length
        if (bufferedBytes >= partBytes) await flushPart()
      }
      if (uploadId === undefined) {
        const bytes = Buffer.concat(buffered, bufferedBytes)
        await createOnly(key, () =>
          s3(
            new PutObjectCommand({
              Bucket: bucket,
              Key: full,
              Body: bytes,
              IfNoneMatch: '*',
              ...(retention === undefined ? {} : { ...retention, ChecksumAlgorithm: 'CRC32' }),
            }),
            'PutObject',
          ),
        )
      } else {
        if (bufferedBytes > 0) await flushPart()
        const id = uploadId
        await createOnly(key, () =>
          s3(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: full,
              UploadId: id,
              IfNoneMatch: '*',
              MultipartUpload: { Parts: parts },
            }),
            'CompleteMultipartUpload',
          ),
        )
        uploadId = undefined
        if (retention !== undefined) {
          await s3(
            new PutObjectRetentionCommand({
              Bucket: bucket,
              Key: full,
              Retention: {
                Mode: retention.ObjectLockMode,
                RetainUntilDate: retention.ObjectLockRetainUntilDate,
              },
            }),
            'PutObjectRetention',
          ).catch((error: unknown) => {
            throw io(`locking ${full}`, error)
          })
        }
      }
    } catch (error) {
      if (uploadId !== undefined) {
        const id = uploadId
        await s3(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: full, UploadId: id }),
          'AbortMultipartUpload',
        ).catch(() => undefined)
      }
      if (error instanceof ExportTargetError || error instanceof LedgerError) throw error
      // A failing body's own error goes back as it is; S3's errors become IO.
      if ((error as { $metadata?: unknown }).$metadata !== undefined)
        throw io(`writing ${full}`, error)
      throw error
    }
  }

  return {
    location,
    bucket,
    prefix,
    client,
    put,
    async *get(key: string): AsyncIterable<Uint8Array> {
      assertExportKey(key)
      let body: unknown
      try {
        const out = await s3<{ Body?: unknown }>(
          new GetObjectCommand({ Bucket: bucket, Key: prefix + key }),
          'GetObject',
        )
        body = out.Body
      } catch (error) {
        if (isNotFound(error))
          throw new ExportTargetError('NOT_FOUND', key, undefined, { cause: error })
        throw io(`reading ${prefix + key}`, error)
      }
      yield* bodyChunks(body)
    },
    async head(key: string): Promise<ExportObjectInfo | undefined> {
      assertExportKey(key)
      return headOf(prefix + key)
    },
    async *list(listPrefix: string): AsyncIterable<string> {
      if (typeof listPrefix !== 'string') {
        throw new InvalidInputError('prefix', `must be a string, got ${typeof listPrefix}`)
      }
      // Collected and sorted by bytes: some S3-compatible servers do not list in byte order.
      const keys: string[] = []
      let token: string | undefined
      do {
        let out: {
          Contents?: { Key?: string }[]
          NextContinuationToken?: string
          IsTruncated?: boolean
        }
        try {
          out = await s3(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix + listPrefix,
              ...(token === undefined ? {} : { ContinuationToken: token }),
            }),
            'ListObjectsV2',
          )
        } catch (error) {
          throw io(`listing ${prefix + listPrefix}`, error)
        }
        for (const o of out.Contents ?? []) {
          if (o.Key?.startsWith(prefix) === true) keys.push(o.Key.slice(prefix.length))
        }
        token = out.IsTruncated === true ? out.NextContinuationToken : undefined
      } while (token !== undefined)
      yield* keys.sort(compareExportKeys)
    },
    async delete(key: string): Promise<void> {
      assertExportKey(key)
      try {
        await s3(new DeleteObjectCommand({ Bucket: bucket, Key: prefix + key }), 'DeleteObject')
      } catch (error) {
        if (isNotFound(error)) return
        throw io(`deleting ${prefix + key}`, error)
      }
    },
    close(): void {
      if (owned) client.destroy()
    },
  }
}
