/**
 * A {@link LedgerStore} on Cloud Storage (`gs://bucket/prefix`): one object
 * per receipt, `<prefix>/receipts/<seq>.json` (seq zero-padded to 20
 * digits) holding its canonical bytes, created with `ifGenerationMatch=0`,
 * so a taken `seq` answers 412 and becomes the ledger's
 * {@link ConflictError}. An entry is created only after the one before it
 * was seen, so receipts never leave gaps: the head is found with a few
 * metadata reads (galloping, then bisecting, from the last size seen), and
 * reads fetch objects by name with no listing.
 *
 * @module
 */
import { ConfigError } from '@baton/core'
import {
  type Anchor,
  anchorHead,
  ConflictError,
  CorruptLedgerError,
  checkAnchor,
  checkAppendRange,
  LedgerError,
  type LedgerStore,
  leafHash,
  type StoredLine,
  type StoreHead,
  sameAnchor,
} from '@baton/ledger'
import type { Bucket, Storage } from '@google-cloud/storage'
import { messageOf, receiptDocId } from './_common.js'
import {
  checkBucket,
  checkPrefix,
  type GcsConnectionOptions,
  httpStatus,
  storageClient,
  uploadCreateOnly,
} from './_gcs-client.js'

/** Options for {@link openGcsStore}. */
export interface GcsStoreOptions extends GcsConnectionOptions {
  /** The bucket. */
  readonly bucket: string
  /** Object name prefix of the ledger, e.g. `ledgers/orders`; default none. */
  readonly prefix?: string
  /**
   * Begin at this anchor (a ledger restored after retention). Recorded as
   * `<prefix>/anchor.json`, create-only, when the ledger is new; a ledger
   * that already has another anchor, or receipts, refuses it.
   */
  readonly anchor?: Anchor | undefined
  /** Objects fetched at once while reading; default 16 (1–128). */
  readonly readConcurrency?: number
}

/** A Cloud Storage ledger store. */
export interface GcsStore extends LedgerStore {
  /** The bucket. */
  readonly bucket: string
  /** The object name prefix (`''` for none). */
  readonly prefix: string
  /** The Storage client in use. */
  readonly client: Storage
}

/**
 * Opens the ledger at `gs://bucket/prefix` (creating nothing unless it is a
 * new anchored ledger).
 *
 * @throws {@link ConfigError} (`INVALID_CONFIG`) naming a bad option.
 * @throws {@link LedgerError} `ALREADY_EXISTS` when `anchor` disagrees with the ledger; `IO` when Storage fails.
 *
 * @example
 * ```ts
 * const store = await openGcsStore({ bucket: 'acme-ledgers', prefix: 'orders' })
 * const ledger = createLedger({ store })
 * ```
 */
export async function openGcsStore(options: GcsStoreOptions): Promise<GcsStore> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'must be an object')
  }
  const bucketName = checkBucket(options.bucket)
  const prefix = checkPrefix(options.prefix)
  const concurrency = options.readConcurrency ?? 16
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 128) {
    throw new ConfigError('readConcurrency', `must be an integer from 1 to 128, got ${concurrency}`)
  }
  const wanted = options.anchor === undefined ? undefined : checkAnchor(options.anchor)
  const ref = storageClient(options)
  const storage = ref.client
  const bucket: Bucket = storage.bucket(bucketName)
  const location = `gs://${bucketName}${prefix === '' ? '' : `/${prefix}`}`
  const base = prefix === '' ? '' : `${prefix}/`
  const nameOf = (seq: number): string => `${base}receipts/${receiptDocId(seq)}.json`
  const io = (what: string, error: unknown): LedgerError =>
    new LedgerError('IO', `${location}: ${what} failed: ${messageOf(error)}`, { cause: error })

  const exists = async (seq: number): Promise<boolean> => {
    try {
      await bucket.file(nameOf(seq)).getMetadata()
      return true
    } catch (error) {
      if (httpStatus(error) === 404) return false
      throw io(`reading the metadata of seq ${seq}`, error)
    }
  }
  const fetch = async (seq: number): Promise<Buffer | undefined> => {
    try {
      const [bytes] = await bucket.file(nameOf(seq)).download({ validation: false })
      return bytes
    } catch (error) {
      if (httpStatus(error) === 404) return undefined
      throw io(`reading seq ${seq}`, error)
    }
  }

  let anchor: Anchor | undefined
  try {
    anchor = await settleAnchor()
  } catch (error) {
    await ref.release()
    throw error
  }
  const start = anchorHead(anchor)
  /** A size seen before: the ledger never shrinks, so the head is at least this. */
  let known = start.size
  let closed = false
  const assertOpen = (): void => {
    if (closed) throw new LedgerError('CLOSED', `${location}: the store is closed`)
  }

  async function settleAnchor(): Promise<Anchor | undefined> {
    const file = bucket.file(`${base}anchor.json`)
    const read = async (): Promise<Anchor | undefined> => {
      let bytes: Buffer
      try {
        ;[bytes] = await file.download({ validation: false })
      } catch (error) {
        if (httpStatus(error) === 404) return undefined
        throw io('reading the anchor', error)
      }
      return checkAnchor(JSON.parse(bytes.toString('utf8')) as unknown, `${location} anchor`)
    }
    const stored = await read()
    if (wanted === undefined) return stored
    if (stored !== undefined) {
      if (!sameAnchor(stored, wanted)) {
        throw new LedgerError(
          'ALREADY_EXISTS',
          `${location}: the ledger begins at another anchor (seq ${stored.seq})`,
        )
      }
      return stored
    }
    if (await exists(0)) {
      throw new LedgerError(
        'ALREADY_EXISTS',
        `${location}: the ledger already holds receipts from 0; it cannot begin at an anchor`,
      )
    }
    try {
      await uploadCreateOnly(
        storage,
        bucketName,
        `${base}anchor.json`,
        [Buffer.from(JSON.stringify(wanted))],
        { contentType: 'application/json' },
      )
      return wanted
    } catch (error) {
      if (httpStatus(error) !== 412) throw io('creating the anchor', error)
    }
    const other = await read()
    if (!sameAnchor(other, wanted)) {
      throw new LedgerError('ALREADY_EXISTS', `${location}: another anchor was recorded first`)
    }
    return other
  }

  const size = async (): Promise<number> => {
    let low = known
    if (!(await exists(low))) return low
    // Gallop: low exists; find a high that does not.
    let step = 1
    let high = low + step
    while (await exists(high)) {
      low = high
      step *= 2
      high = low + step
    }
    // Bisect: low exists, high does not.
    while (high - low > 1) {
      const mid = low + Math.floor((high - low) / 2)
      if (await exists(mid)) low = mid
      else high = mid
    }
    known = Math.max(known, high)
    return high
  }

  const head = async (): Promise<StoreHead> => {
    const n = await size()
    if (n === start.size) return start
    const bytes = await fetch(n - 1)
    if (bytes === undefined) {
      throw new CorruptLedgerError(`receipt ${n - 1} vanished while the head was read`, {
        file: `${location}/${nameOf(n - 1)}`,
      })
    }
    return { size: n, hash: leafHash(bytes) }
  }

  return {
    location,
    bucket: bucketName,
    prefix,
    client: storage,
    ...(anchor === undefined ? {} : { anchor }),
    async head() {
      assertOpen()
      return head()
    },
    async append(entries) {
      assertOpen()
      if (entries.length === 0) return
      const first = checkAppendRange(entries, start.size)
      if (first > start.size && first > known && !(await exists(first - 1))) {
        throw new ConflictError(
          first,
          0,
          `seq ${first} would leave a gap: ${first - 1} is not stored`,
        )
      }
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!
        try {
          await uploadCreateOnly(storage, bucketName, nameOf(e.seq), [e.bytes], {
            contentType: 'application/json',
          })
          known = Math.max(known, e.seq + 1)
          continue
        } catch (error) {
          if (httpStatus(error) !== 412) throw io(`writing seq ${e.seq}`, error)
        }
        // Taken: by another writer, or by this very request after a lost reply.
        const stored = await fetch(e.seq)
        if (stored !== undefined && Buffer.compare(stored, Buffer.from(e.bytes)) === 0) {
          known = Math.max(known, e.seq + 1)
          continue
        }
        throw new ConflictError(e.seq, i, `seq ${e.seq} is already taken`)
      }
    },
    read(from = 0, to?: number): AsyncIterable<StoredLine> {
      return {
        async *[Symbol.asyncIterator]() {
          assertOpen()
          const end = to ?? (await size())
          let cursor = Math.max(from, start.size)
          while (cursor < end) {
            assertOpen()
            const batch = Array.from(
              { length: Math.min(concurrency, end - cursor) },
              (_, i) => cursor + i,
            )
            const fetched = await Promise.all(batch.map(fetch))
            for (let i = 0; i < batch.length; i++) {
              const bytes = fetched[i]
              if (bytes === undefined) return
              yield { seq: batch[i]!, bytes }
            }
            cursor += batch.length
          }
        },
      }
    },
    async close() {
      if (closed) return
      closed = true
      await ref.release()
    },
  }
}
