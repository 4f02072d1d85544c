/**
 * A {@link Lease} in one S3 object, changed only by conditional writes: the
 * first grant creates it with `If-None-Match: *`, every later change
 * (takeover, renewal, release) overwrites it with `If-Match: <ETag>` of the
 * state it was computed from. Of two clients racing from the same state,
 * exactly one write lands (the other gets 412); no coordinator is needed.
 *
 * The object holds `{holder, epoch, expiresAt}`. The fencing epoch rises by
 * one with every new holder and is never reset: a release keeps the epoch
 * (it writes `holder: null`) instead of deleting the object.
 *
 * Expiry is judged with this process's clock (`now`): keep clocks in sync
 * (NTP) and TTLs well above the skew between instances.
 *
 * @module
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { ConfigError, type Lease, type LeaseGrant } from '@baton/core'
import { callAws, type RetryOptions, retrySettings } from './_aws.js'
import {
  bodyBytes,
  checkBucketAndPrefix,
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  type S3ConnectionOptions,
  s3Client,
} from './_s3.js'
import { AwsAdapterError } from './errors.js'

/** Options for {@link createS3Lease}. */
export interface S3LeaseOptions extends S3ConnectionOptions {
  /** The bucket (must exist). */
  readonly bucket: string
  /** The lease object's key, e.g. `leases/orders.json`. */
  readonly key: string
  /** Clock (epoch ms); default `Date.now`. */
  readonly now?: () => number
  /** Retries of each S3 call (see {@link RetryOptions}). */
  readonly retry?: RetryOptions
}

/** A {@link Lease} in S3. */
export interface S3Lease extends Lease {
  /** The S3 client in use. */
  readonly client: S3Client
  /** Destroys the client if this lease created it. */
  close(): void
}

interface State {
  readonly holder: string | null
  readonly epoch: number
  readonly expiresAt: number
}

interface Read {
  readonly state: State | undefined
  readonly etag: string | undefined
}

/**
 * Creates a lease over `s3://bucket/key` (no request is made).
 *
 * @throws `ConfigError` (`INVALID_CONFIG`) naming the bad option.
 *
 * @example
 * ```ts
 * const lease = createS3Lease({ bucket: 'ops', key: 'leases/orders.json' })
 * const grant = await lease.acquire(process.env.HOSTNAME!, 30_000)
 * ```
 */
export function createS3Lease(options: S3LeaseOptions): S3Lease {
  const { bucket } = checkBucketAndPrefix(options.bucket, '')
  const key = options.key
  if (typeof key !== 'string' || key === '' || key.startsWith('/') || key.endsWith('/')) {
    throw new ConfigError('key', `must be an object key, got ${JSON.stringify(key)}`)
  }
  const now = options.now ?? Date.now
  const retry = retrySettings(options.retry, 'retry')
  const { client, owned } = s3Client(options)
  const name = `s3://${bucket}/${key}`
  const s3 = <T>(command: unknown, operation: string): Promise<T> =>
    callAws<T>(client, command, { service: 's3', operation, retry, raw: true })
  const fail = (operation: string, error: unknown): AwsAdapterError =>
    new AwsAdapterError('ADAPTER', 's3', operation, `${name}: ${(error as Error).message}`, {
      cause: error,
    })

  const read = async (): Promise<Read> => {
    try {
      const out = await s3<{ Body?: unknown; ETag?: string }>(
        new GetObjectCommand({ Bucket: bucket, Key: key }),
        'GetObject',
      )
      const raw = JSON.parse((await bodyBytes(out.Body)).toString('utf8')) as Partial<State>
      if (
        !(raw.holder === null || typeof raw.holder === 'string') ||
        !Number.isSafeInteger(raw.epoch) ||
        typeof raw.expiresAt !== 'number'
      ) {
        throw new Error(`not a lease object: ${JSON.stringify(raw)}`)
      }
      return { state: raw as State, etag: out.ETag }
    } catch (error) {
      if (isNotFound(error)) return { state: undefined, etag: undefined }
      throw fail('GetObject', error)
    }
  }

  /** Writes `next` if the object is still as read; false when another write got there first. */
  const write = async (next: State, from: Read): Promise<boolean> => {
    try {
      await s3(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: JSON.stringify(next),
          ContentType: 'application/json',
          ...(from.etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: from.etag }),
        }),
        'PutObject',
      )
      return true
    } catch (error) {
      if (isPreconditionFailed(error) || isConditionalConflict(error) || isNotFound(error)) {
        return false
      }
      throw fail('PutObject', error)
    }
  }

  const live = (state: State | undefined, at: number): state is State & { holder: string } =>
    state !== undefined && state.holder !== null && state.expiresAt > at
  const grantOf = (state: State & { holder: string }): LeaseGrant => ({
    holder: state.holder,
    epoch: state.epoch,
    expiresAt: state.expiresAt,
  })
  const checkTtl = (ttlMs: number): void => {
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new ConfigError('ttlMs', `must be a positive number, got ${String(ttlMs)}`)
    }
  }

  return {
    name,
    client,
    async acquire(holder: string, ttlMs: number): Promise<LeaseGrant | undefined> {
      if (typeof holder !== 'string' || holder === '') {
        throw new ConfigError('holder', 'must be a non-empty string')
      }
      checkTtl(ttlMs)
      // A lost race is re-read once per round; a bounded number of rounds.
      for (let round = 0; round < 8; round++) {
        const seen = await read()
        const t = now()
        const held = live(seen.state, t)
        if (held && seen.state!.holder !== holder) return undefined
        const epoch = held ? seen.state!.epoch : (seen.state?.epoch ?? 0) + 1
        const next = { holder, epoch, expiresAt: t + ttlMs }
        if (await write(next, seen)) return grantOf(next)
      }
      return undefined
    },
    async renew(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | undefined> {
      checkTtl(ttlMs)
      const seen = await read()
      const t = now()
      const s = seen.state
      if (!live(s, t) || s.holder !== grant.holder || s.epoch !== grant.epoch) return undefined
      const next = { holder: grant.holder, epoch: grant.epoch, expiresAt: t + ttlMs }
      return (await write(next, seen)) ? grantOf(next) : undefined
    },
    async release(grant: LeaseGrant): Promise<void> {
      const seen = await read()
      const s = seen.state
      if (s === undefined || s.holder !== grant.holder || s.epoch !== grant.epoch) return
      await write({ holder: null, epoch: s.epoch, expiresAt: now() }, seen)
    },
    async current(): Promise<LeaseGrant | undefined> {
      const { state } = await read()
      return live(state, now()) ? grantOf(state) : undefined
    },
    close(): void {
      if (owned) client.destroy()
    },
  }
}
