/**
 * A {@link LedgerStore} in an S3 bucket: one object per receipt, written
 * create-only with `If-None-Match: *`, so any number of writers on any
 * number of machines append to one ledger without a coordinator.
 *
 * Layout under `prefix`:
 *
 * ```
 * baton-ledger.json                 format marker (and the anchor of an anchored ledger)
 * receipts/<seq, 20 digits>.json    one receipt's canonical bytes; zero-padded, so keys sort by seq
 * head.json                         a hint {size, hash}: where head discovery starts probing
 * ```
 *
 * Head discovery never lists the ledger: it starts at the size this
 * instance last saw (or the hint, which writers refresh every
 * `headHintEvery` receipts), checks with `HEAD` requests whether that
 * receipt exists, and gallops (1, 2, 4, … ahead or behind) then bisects to
 * the first missing `seq`: O(log distance) requests from a stale start, one
 * `HEAD` when nothing changed. This is exact because receipts are never
 * deleted and a batch is refused if it would leave a gap.
 *
 * A batch is written in order, one create-only `PutObject` per receipt; the
 * first one refused (412 `PreconditionFailed`, or 409
 * `ConditionalRequestConflict`) ends it with a {@link ConflictError} whose
 * `committed` counts those written. A refusal of a write whose response was
 * lost but which had in fact landed is recognised (the stored bytes are
 * ours: receipt ids are unique) and counted as written.
 *
 * @module
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import {
  type Anchor,
  anchorHead,
  ConflictError,
  CorruptLedgerError,
  checkAnchor,
  checkAppendRange,
  type EncodedReceipt,
  InvalidInputError,
  LedgerError,
  type LedgerStore,
  leafHash,
  type StoredLine,
  type StoreHead,
  sameAnchor,
} from '@baton/ledger'
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

/** Options for {@link openS3LedgerStore}. */
export interface S3LedgerStoreOptions extends S3ConnectionOptions {
  /** The bucket (must exist). */
  readonly bucket: string
  /** Key prefix of the ledger, e.g. `ledgers/orders` (a `/` is added); default `''` (the bucket root). */
  readonly prefix?: string
  /** Create the ledger (its `baton-ledger.json`) when the prefix holds none; default false: `NOT_FOUND`. */
  readonly create?: boolean
  /** Open for reading only: nothing is written (not even the head hint), `append` rejects with `IO`. */
  readonly readOnly?: boolean
  /**
   * When creating: begin at this anchor (recorded in `baton-ledger.json`).
   * When opening: the ledger must begin at this anchor, else `INVALID_INPUT`
   * naming `anchor`.
   */
  readonly anchor?: Anchor | undefined
  /** Refresh `head.json` after this many receipts have been appended through this instance; default 16. */
  readonly headHintEvery?: number
  /** Receipts fetched at once while reading; default 32. */
  readonly readConcurrency?: number
  /** Retries of each S3 call (see {@link RetryOptions}). */
  readonly retry?: RetryOptions
}

/** A {@link LedgerStore} in S3. */
export interface S3LedgerStore extends LedgerStore {
  /** The bucket. */
  readonly bucket: string
  /** The key prefix (empty or ending in `/`). */
  readonly prefix: string
  /** The S3 client in use. */
  readonly client: S3Client
  /** The object key of receipt `seq`. */
  keyOf(seq: number): string
}

const FORMAT = 'baton-ledger-s3'
const META = 'baton-ledger.json'
const HINT = 'head.json'

/**
 * Opens (with `create`, creates) the S3 ledger at `s3://bucket/prefix`.
 *
 * @throws {@link LedgerError} `NOT_FOUND` when there is no ledger and not
 *   `create`; `CORRUPT` for a `baton-ledger.json` that is not ours;
 *   `INVALID_INPUT` for bad options (naming the field) or a different
 *   anchor; `IO` when S3 cannot be reached.
 *
 * @example
 * ```ts
 * const store = await openS3LedgerStore({ bucket: 'audit', prefix: 'baton/orders', create: true })
 * const ledger = createLedger({ store })
 * ```
 */
export async function openS3LedgerStore(options: S3LedgerStoreOptions): Promise<S3LedgerStore> {
  let names: { bucket: string; prefix: string }
  try {
    names = checkBucketAndPrefix(options.bucket, options.prefix)
  } catch (error) {
    const e = error as { path: string; reason: string }
    throw new InvalidInputError(e.path, e.reason)
  }
  const { bucket, prefix } = names
  const hintEvery = positiveInt(options.headHintEvery ?? 16, 'headHintEvery')
  const concurrency = positiveInt(options.readConcurrency ?? 32, 'readConcurrency')
  if (options.create === true && options.readOnly === true) {
    throw new InvalidInputError('readOnly', 'cannot be combined with create')
  }
  const wanted = options.anchor === undefined ? undefined : checkAnchor(options.anchor)
  let retry: ReturnType<typeof retrySettings>
  try {
    retry = retrySettings(options.retry, 'retry')
  } catch (error) {
    const e = error as { path: string; reason: string }
    throw new InvalidInputError(e.path, e.reason)
  }
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

  const getBytes = async (key: string): Promise<Buffer | undefined> => {
    try {
      const out = await s3<{ Body?: unknown }>(
        new GetObjectCommand({ Bucket: bucket, Key: key }),
        'GetObject',
      )
      return await bodyBytes(out.Body)
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw io(`reading ${key}`, error)
    }
  }

  // The ledger's marker: read it, or create it.
  const metaText = JSON.stringify({
    format: FORMAT,
    version: 1,
    ...(wanted === undefined ? {} : { anchor: wanted }),
  })
  let raw = await getBytes(prefix + META)
  if (raw === undefined) {
    if (options.create !== true) {
      if (owned) client.destroy()
      throw new LedgerError('NOT_FOUND', `${location}: no ledger here (no ${prefix}${META})`)
    }
    try {
      await s3(
        new PutObjectCommand({
          Bucket: bucket,
          Key: prefix + META,
          Body: metaText,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
        'PutObject',
      )
    } catch (error) {
      if (!isPreconditionFailed(error) && !isConditionalConflict(error)) {
        if (owned) client.destroy()
        throw io(`creating ${META}`, error)
      }
    }
    raw = (await getBytes(prefix + META)) ?? Buffer.from(metaText)
  }
  let anchor: Anchor | undefined
  try {
    const meta = JSON.parse(raw.toString('utf8')) as { format?: unknown; anchor?: unknown }
    if (meta.format !== FORMAT)
      throw new Error(`format is ${JSON.stringify(meta.format)}, not ${FORMAT}`)
    anchor = meta.anchor === undefined ? undefined : checkAnchor(meta.anchor)
  } catch (error) {
    if (owned) client.destroy()
    throw new CorruptLedgerError(
      `${location}/${META} is not a baton S3 ledger: ${(error as Error).message}`,
      { file: `${location}/${META}` },
      { cause: error },
    )
  }
  if (options.anchor !== undefined && !sameAnchor(anchor, wanted)) {
    if (owned) client.destroy()
    throw new InvalidInputError('anchor', `the ledger at ${location} begins at a different anchor`)
  }
  const base = anchorHead(anchor)
  const keyOf = (seq: number): string => `${prefix}receipts/${String(seq).padStart(20, '0')}.json`

  let closed = false
  /** The furthest head this instance has seen (receipts are immutable, so it stays true). */
  let known: StoreHead = base
  let hintedSize = -1
  const assertOpen = (): void => {
    if (closed) throw new LedgerError('CLOSED', `${location}: the store is closed`)
  }
  const learn = (size: number, hash: string): void => {
    if (size > known.size) known = { size, hash }
  }

  const exists = async (seq: number): Promise<boolean> => {
    if (seq < base.size) return true // retired receipts count as present for the search
    if (seq < known.size) return true
    try {
      await s3(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(seq) }), 'HeadObject')
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw io(`checking receipt ${seq}`, error)
    }
  }

  const readHint = async (): Promise<number | undefined> => {
    const bytes = await getBytes(prefix + HINT).catch(() => undefined)
    if (bytes === undefined) return undefined
    try {
      const size = (JSON.parse(bytes.toString('utf8')) as { size?: unknown }).size
      return typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : undefined
    } catch {
      return undefined
    }
  }

  /** The first missing seq, found by galloping from a guess and bisecting. */
  const findSize = async (): Promise<number> => {
    let guess = known.size
    if (guess === base.size && hintedSize < 0) guess = Math.max(guess, (await readHint()) ?? guess)
    if (await exists(guess)) {
      let lo = guess
      let step = 1
      let hi: number
      for (;;) {
        const probe = lo + step
        if (await exists(probe)) {
          lo = probe
          step *= 2
        } else {
          hi = probe
          break
        }
      }
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2)
        if (await exists(mid)) lo = mid
        else hi = mid
      }
      return hi
    }
    if (guess <= base.size || (await exists(guess - 1))) return Math.max(guess, base.size)
    // The guess was too high (a hint from elsewhere): gallop back, then bisect.
    let hi = guess - 1
    let lo = base.size - 1
    let step = 1
    for (;;) {
      const probe = hi - step
      if (probe <= lo) break
      if (await exists(probe)) {
        lo = probe
        break
      }
      hi = probe
      step *= 2
    }
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2)
      if (await exists(mid)) lo = mid
      else hi = mid
    }
    return hi
  }

  const head = async (): Promise<StoreHead> => {
    assertOpen()
    const size = await findSize()
    if (size === known.size) return known
    if (size === base.size) return base
    const bytes = await getBytes(keyOf(size - 1))
    if (bytes === undefined)
      throw new CorruptLedgerError(`${location}: receipt ${size - 1} vanished`)
    learn(size, leafHash(bytes))
    return known.size === size ? known : { size, hash: leafHash(bytes) }
  }

  const writeHint = async (): Promise<void> => {
    if (options.readOnly === true || known.size - Math.max(hintedSize, base.size) < hintEvery)
      return
    const size = known.size
    try {
      await s3(
        new PutObjectCommand({
          Bucket: bucket,
          Key: prefix + HINT,
          Body: JSON.stringify({ size, hash: known.hash }),
          ContentType: 'application/json',
        }),
        'PutObject',
      )
      hintedSize = Math.max(hintedSize, size)
    } catch {
      // Only a hint: head discovery is exact without it.
    }
  }

  /** Writes one receipt create-only; false when the seq is taken by another receipt. */
  const putReceipt = async (entry: EncodedReceipt): Promise<boolean> => {
    try {
      await s3(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyOf(entry.seq),
          Body: entry.bytes,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
        'PutObject',
      )
      return true
    } catch (error) {
      if (!isPreconditionFailed(error) && !isConditionalConflict(error)) {
        throw io(`writing receipt ${entry.seq}`, error)
      }
      // Taken, or our own earlier attempt landed and only its answer was lost.
      const stored = await getBytes(keyOf(entry.seq))
      if (stored === undefined) return false
      if (Buffer.from(entry.bytes).equals(stored)) return true
      // Another writer's receipt: receipts never change, so its hash is a
      // head the ledger's retry can start from without probing again.
      learn(entry.seq + 1, leafHash(stored))
      return false
    }
  }

  const store: S3LedgerStore = {
    location,
    ...(anchor === undefined ? {} : { anchor }),
    bucket,
    prefix,
    client,
    keyOf,
    head,
    async append(entries: readonly EncodedReceipt[]): Promise<void> {
      assertOpen()
      if (options.readOnly === true) throw new LedgerError('IO', `${location}: opened read-only`)
      if (entries.length === 0) return
      const first = checkAppendRange(entries, base.size)
      if (first > base.size && !(await exists(first - 1))) {
        throw new ConflictError(
          first,
          0,
          `seq ${first} would leave a gap: receipt ${first - 1} does not exist`,
        )
      }
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!
        if (!(await putReceipt(entry))) {
          await writeHint()
          throw new ConflictError(entry.seq, i, `seq ${entry.seq} is already taken`)
        }
        learn(entry.seq + 1, entry.hash)
      }
      await writeHint()
    },
    async *read(from = 0, to?: number): AsyncIterable<StoredLine> {
      assertOpen()
      const start = Math.max(from, base.size)
      const end = to ?? (await head()).size
      type Got = { ok: true; bytes: Buffer | undefined } | { ok: false; error: unknown }
      const inFlight: Promise<Got>[] = []
      let next = start
      const fill = (): void => {
        while (next < end && inFlight.length < concurrency) {
          const key = keyOf(next++)
          inFlight.push(
            getBytes(key).then(
              (bytes) => ({ ok: true as const, bytes }),
              (error: unknown) => ({ ok: false as const, error }),
            ),
          )
        }
      }
      for (let seq = start; seq < end; seq++) {
        fill()
        const got = await inFlight.shift()!
        if (!got.ok) throw got.error
        if (got.bytes === undefined) return // the end of the ledger
        assertOpen()
        yield { seq, bytes: new Uint8Array(got.bytes) }
      }
    },
    async close(): Promise<void> {
      if (closed) return
      closed = true
      if (owned) client.destroy()
    },
  }
  return store
}

function positiveInt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError(path, `must be a positive integer, got ${String(value)}`)
  }
  return value
}
