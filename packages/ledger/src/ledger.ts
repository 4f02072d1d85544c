/**
 * The ledger: appends receipts to a {@link LedgerStore} and reads them back.
 *
 * Appends are **group-committed**: every `append` made while a write is in
 * flight joins the next batch, and the whole batch goes to the store as one
 * `append` call (for the file store: one write and one fdatasync). Each
 * caller's promise resolves only once its receipt is durable.
 *
 * The ledger assigns `seq`, `prev`, `id` and `ts`. When the store reports a
 * {@link ConflictError} (another writer took the `seq`), the ledger re-reads
 * the head and rebuilds the rest of the batch on top of it, up to
 * `maxRetries` times with jittered backoff.
 *
 * @module
 */
import { canonicalizeObject, type JsonObject } from './canonical.js'
import { CorruptLedgerError, InvalidInputError, isBatonError, LedgerError } from './errors.js'
import { leafHash, leafHashInPlace } from './hash.js'
import {
  assertReceiptType,
  decodeReceipt,
  envelopeText,
  formatTimestamp,
  isReceiptId,
  newReceiptId,
  type ReceiptInput,
  type StoredReceipt,
} from './receipt.js'
import type { EncodedReceipt, LedgerStore, StoreHead } from './store.js'

/** A source of wall-clock time. `@baton/core`'s clocks satisfy it. */
export interface Clock {
  /** Milliseconds since the Unix epoch (whole numbers). */
  now(): number
}

/** Options for {@link createLedger}. */
export interface LedgerOptions {
  /** Where receipts are kept. */
  readonly store: LedgerStore
  /** Time source for `ts` and for ids; default the system clock. */
  readonly clock?: Clock
  /** Id source: returns a lowercase UUIDv7 for a timestamp; default a monotonic UUIDv7 generator. */
  readonly newId?: (ms: number) => string
  /** Conflicts retried per batch before giving up with `RETRIES_EXHAUSTED`; default 32. */
  readonly maxRetries?: number
  /** Most receipts written in one store call; default 4096. */
  readonly maxBatch?: number
}

/** Options for {@link Ledger.read}. */
export interface ReadOptions {
  /** First `seq` to read (default 0). */
  readonly from?: number
  /** Read up to, not including, this `seq` (default: the head). */
  readonly to?: number
}

/** The receipt ledger. Create one with {@link createLedger}. */
export interface Ledger {
  /** The store this ledger writes to. */
  readonly store: LedgerStore
  /**
   * Appends one receipt and resolves once it is durable. The stored
   * receipt's `data` is the object you passed (validated, not copied): what
   * was stored is its canonical form, which `read` returns.
   *
   * @throws {@link InvalidInputError} (nothing written) when `type` or `data` is invalid.
   * @throws {@link LedgerError} `RETRIES_EXHAUSTED`, `CLOSED`, `IO` or `LOCKED`.
   */
  append<TType extends string, TData extends object>(
    input: ReceiptInput<TType, TData>,
  ): Promise<StoredReceipt<TType, TData>>
  /**
   * Appends receipts in order and resolves once all are durable. Every input
   * is validated before anything is written. With a single writer the
   * receipts get consecutive `seq`s in one store call (atomic in the file and
   * memory stores).
   */
  appendBatch(inputs: readonly ReceiptInput<string, object>[]): Promise<StoredReceipt[]>
  /** The store's current head (size and last leaf hash). */
  head(): Promise<StoreHead>
  /** Reads and decodes receipts in `seq` order. */
  read(options?: ReadOptions): AsyncIterable<StoredReceipt>
  /** Reads one receipt, or `undefined` past the end. */
  get(seq: number): Promise<StoredReceipt | undefined>
  /** Waits for pending appends, then closes the store. */
  close(): Promise<void>
}

interface Item {
  readonly type: string
  /** The caller's data: returned in the stored receipt (validated, not copied). */
  readonly data: object
  readonly dataJson: string
  /** UTF-8 length of `dataJson`. */
  readonly dataBytes: number
  id: string | undefined
  result: StoredReceipt | undefined
}

/**
 * Bytes of an envelope besides its data, seq digits and type:
 * `{"data":` `,"id":"` + 36 + `","prev":"` + 64 + `","seq":` `,"ts":"` + 24 +
 * `","type":"` `","v":1}`.
 */
const ENVELOPE_BYTES = 8 + 7 + 36 + 10 + 64 + 8 + 7 + 24 + 10 + 8

interface Pending {
  readonly items: Item[]
  readonly resolve: (receipts: StoredReceipt[]) => void
  readonly reject: (error: unknown) => void
}

const systemClock: Clock = { now: () => Date.now() }

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function prepare(input: ReceiptInput<string, object>, path: string): Item {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidInputError(path, 'must be an object with type and data')
  }
  assertReceiptType(input.type, path === '' ? 'type' : `${path}.type`)
  const dataJson = canonicalizeObject(input.data, path === '' ? 'data' : `${path}.data`)
  return {
    type: input.type,
    data: input.data,
    dataJson,
    dataBytes: Buffer.byteLength(dataJson),
    id: undefined,
    result: undefined,
  }
}

/**
 * Creates a ledger over `store`. The head is read lazily on the first append.
 *
 * @example
 * ```ts
 * const ledger = createLedger({ store: await openFileStore('./ledger', { create: true }) })
 * const r = await ledger.append({ type: 'drill.started', data: { scenario: 'region-outage' } })
 * console.log(r.seq, r.hash)
 * ```
 */
export function createLedger(options: LedgerOptions): Ledger {
  const { store } = options
  const clock = options.clock ?? systemClock
  const newId = options.newId ?? newReceiptId
  const maxRetries = options.maxRetries ?? 32
  const maxBatch = options.maxBatch ?? 4096
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new InvalidInputError('maxBatch', 'must be a positive integer')
  }

  const queue: Pending[] = []
  let cachedHead: StoreHead | undefined
  let flushing: Promise<void> | undefined
  let closed = false

  let tsMs = Number.NaN
  let tsText = ''
  const timestamp = (ms: number): string => {
    if (ms !== tsMs) {
      tsText = formatTimestamp(ms)
      tsMs = ms
    }
    return tsText
  }

  /**
   * Encodes `items` on top of `head` into one buffer of newline-separated
   * lines (what the file store writes, without another copy), hashing each
   * line in place: the byte before a line serves as the 0x00 leaf prefix.
   */
  const build = (items: readonly Item[], head: StoreHead): EncodedReceipt[] => {
    const sizes = new Array<number>(items.length)
    let total = 1
    for (let k = 0; k < items.length; k++) {
      const item = items[k]!
      sizes[k] = ENVELOPE_BYTES + item.dataBytes + String(head.size + k).length + item.type.length
      total += sizes[k]! + 1
    }
    const buf = Buffer.allocUnsafe(total)
    buf[0] = 10
    let at = 1
    const out: EncodedReceipt[] = new Array(items.length)
    let prev = head.hash
    for (let k = 0; k < items.length; k++) {
      const item = items[k]!
      const ms = clock.now()
      const ts = timestamp(ms)
      if (item.id === undefined) {
        const id = newId(ms)
        if (options.newId !== undefined && !isReceiptId(id)) {
          throw new InvalidInputError('newId', `returned ${id}, not a UUIDv7`)
        }
        item.id = id
      }
      const seq = head.size + k
      const len = buf.write(envelopeText(seq, item.id, ts, item.type, prev, item.dataJson), at)
      if (len !== sizes[k])
        throw new Error(`internal: receipt ${seq} encoded to ${len} bytes, not ${sizes[k]}`)
      const hash = leafHashInPlace(buf, at, at + len)
      out[k] = { seq, bytes: buf.subarray(at, at + len), hash }
      buf[at + len] = 10
      at += len + 1
      item.result = {
        v: 1,
        seq,
        id: item.id,
        ts,
        type: item.type,
        data: item.data as JsonObject,
        prev,
        hash,
      }
      prev = hash
    }
    return out
  }

  /** Writes `items` (already ordered), retrying on conflicts. */
  const commit = async (items: Item[]): Promise<void> => {
    let rest = items
    for (let attempt = 0; ; attempt++) {
      const head = cachedHead ?? (await store.head())
      const encoded = build(rest, head)
      try {
        await store.append(encoded)
        const last = encoded.at(-1)!
        cachedHead = { size: last.seq + 1, hash: last.hash }
        return
      } catch (error) {
        cachedHead = undefined
        if (!isBatonError(error, 'CONFLICT')) throw error
        const committed = (error as { committed?: number }).committed ?? 0
        rest = rest.slice(committed)
        for (const item of rest) item.result = undefined
        if (attempt >= maxRetries) {
          throw new LedgerError(
            'RETRIES_EXHAUSTED',
            `append still conflicting after ${maxRetries} retries on ${store.location}`,
            { cause: error },
          )
        }
        // Jittered exponential backoff, capped, so racing writers spread out.
        await sleep(Math.random() * Math.min(100, 2 ** attempt))
      }
    }
  }

  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch: Pending[] = [queue.shift()!]
      let count = batch[0]!.items.length
      while (queue.length > 0 && count + queue[0]!.items.length <= maxBatch) {
        const next = queue.shift()!
        count += next.items.length
        batch.push(next)
      }
      const items = batch.flatMap((p) => p.items)
      try {
        await commit(items)
        for (const p of batch) p.resolve(p.items.map((i) => i.result!))
      } catch (error) {
        for (const p of batch) {
          const done = p.items.filter((i) => i.result !== undefined).length
          p.reject(
            done === 0 || !(error instanceof Error)
              ? error
              : Object.assign(error, { committed: done }),
          )
        }
      }
    }
  }

  const kick = (): void => {
    if (flushing !== undefined) return
    // Start the flush on the next macrotask, not now: callers woken by the
    // previous commit re-append in microtasks, and should join one batch
    // instead of the first of them committing alone.
    flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(flush).finally(() => {
      flushing = undefined
      if (queue.length > 0) kick()
    })
  }

  const enqueue = (items: Item[]): Promise<StoredReceipt[]> => {
    if (closed) return Promise.reject(new LedgerError('CLOSED', 'the ledger is closed'))
    if (items.length === 0) return Promise.resolve([])
    return new Promise((resolve, reject) => {
      queue.push({ items, resolve, reject })
      kick()
    })
  }

  return {
    store,
    async append<TType extends string, TData extends object>(
      input: ReceiptInput<TType, TData>,
    ): Promise<StoredReceipt<TType, TData>> {
      const [r] = await enqueue([prepare(input, '')])
      return r as unknown as StoredReceipt<TType, TData>
    },
    async appendBatch(inputs) {
      if (!Array.isArray(inputs)) throw new InvalidInputError('inputs', 'must be an array')
      return enqueue(inputs.map((input, i) => prepare(input, `[${i}]`)))
    },
    head: () => store.head(),
    async *read(options: ReadOptions = {}) {
      for await (const line of store.read(options.from ?? 0, options.to)) {
        const receipt = decodeReceipt(line.bytes, { file: `${store.location} seq ${line.seq}` })
        if (receipt.seq !== line.seq) {
          throw new CorruptLedgerError(`receipt ${receipt.seq} is stored at position ${line.seq}`, {
            file: store.location,
          })
        }
        yield { ...receipt, hash: leafHash(line.bytes) }
      }
    },
    async get(seq: number) {
      if (!Number.isSafeInteger(seq) || seq < 0) {
        throw new InvalidInputError('seq', 'must be a non-negative integer')
      }
      for await (const r of this.read({ from: seq, to: seq + 1 })) return r
      return undefined
    },
    async close() {
      closed = true
      while (flushing !== undefined) await flushing
      await store.close()
    },
  }
}
