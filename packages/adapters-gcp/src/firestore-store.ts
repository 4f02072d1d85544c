/**
 * A {@link LedgerStore} on Firestore: one document per receipt at
 * `<path>/receipts/<seq>` (the seq zero-padded to 20 digits), written with
 * `create()`, so a taken `seq` fails with `ALREADY_EXISTS` and becomes the
 * ledger's {@link ConflictError}. Each document keeps the receipt's
 * canonical bytes as the string field `receipt` (Firestore may return map
 * fields in any order; a string comes back byte for byte), its `seq` as an
 * integer for ordered range queries, and its leaf `hash`.
 *
 * The head is one query (`orderBy('seq', 'desc').limit(1)`), served by
 * Firestore's automatic single-field index: it never reads the ledger.
 * Correctness rests on `create()` alone, not on transactions: a batch's
 * first document is created only after the document before it was seen, so
 * documents never leave gaps and a batch can only conflict at its first
 * entry.
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
  type EncodedReceipt,
  InvalidInputError,
  LedgerError,
  type LedgerStore,
  leafHash,
  type StoredLine,
  type StoreHead,
  sameAnchor,
} from '@baton/ledger'
import type { Firestore } from '@google-cloud/firestore'
import { messageOf, receiptDocId } from './_common.js'
import {
  ALREADY_EXISTS,
  checkDocumentPath,
  type FirestoreConnectionOptions,
  firestoreClient,
  grpcCode,
  projectOf,
} from './_firestore-client.js'

/** Options for {@link openFirestoreStore}. */
export interface FirestoreStoreOptions extends FirestoreConnectionOptions {
  /**
   * Document path of the ledger, e.g. `ledgers/orders`: receipts are
   * `ledgers/orders/receipts/{seq}`; the document itself holds the anchor of
   * an anchored ledger (and nothing otherwise).
   */
  readonly path: string
  /**
   * Begin at this anchor (a ledger restored after retention). Recorded in the
   * ledger document, create-only, when the ledger is new; a ledger that
   * already has another anchor, or receipts, refuses it.
   */
  readonly anchor?: Anchor | undefined
  /** Receipts fetched per range query; default 500 (1–10 000). */
  readonly pageSize?: number
}

/** A Firestore ledger store. */
export interface FirestoreStore extends LedgerStore {
  /** The ledger's document path. */
  readonly path: string
  /** The Firestore client in use. */
  readonly client: Firestore
}

/** Firestore allows 500 writes per commit. */
const MAX_BATCH = 500
/** A document may hold 1 MiB; keep room for the other fields and the name. */
const MAX_RECEIPT_BYTES = 1_000_000

/**
 * Opens the Firestore ledger at `options.path` (creating nothing unless it
 * is a new anchored ledger).
 *
 * @throws {@link ConfigError} (`INVALID_CONFIG`) naming a bad option.
 * @throws {@link LedgerError} `ALREADY_EXISTS` when `anchor` disagrees with the ledger; `IO` when Firestore fails.
 *
 * @example
 * ```ts
 * const store = await openFirestoreStore({ projectId: 'acme', path: 'ledgers/orders' })
 * const ledger = createLedger({ store })
 * ```
 */
export async function openFirestoreStore(options: FirestoreStoreOptions): Promise<FirestoreStore> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'must be an object')
  }
  const path = checkDocumentPath(options.path, 'path')
  const pageSize = options.pageSize ?? 500
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
    throw new ConfigError('pageSize', `must be an integer from 1 to 10000, got ${pageSize}`)
  }
  const wanted = options.anchor === undefined ? undefined : checkAnchor(options.anchor)
  const ref = firestoreClient(options)
  const db = ref.client
  let anchor: Anchor | undefined
  try {
    anchor = await settleAnchor(db, path, wanted, `firestore:${path}`)
  } catch (error) {
    await ref.release()
    throw error
  }
  const location = `firestore://${projectOf(db, options.projectId)}/${path}`
  const receipts = db.collection(`${path}/receipts`)
  const base = anchorHead(anchor)
  let closed = false

  const assertOpen = (): void => {
    if (closed) throw new LedgerError('CLOSED', `${location}: the store is closed`)
  }
  const io = (what: string, error: unknown): LedgerError =>
    new LedgerError('IO', `${location}: ${what} failed: ${messageOf(error)}`, { cause: error })

  // Receipts below `known` are stored (seen by a head read or written here):
  // documents are never deleted, so an append right after them needs no
  // gap check, which saves a read on every append of a busy writer.
  let known = base.size
  const head = async (): Promise<StoreHead> => {
    const snap = await receipts.orderBy('seq', 'desc').limit(1).get()
    const doc = snap.docs[0]
    if (doc === undefined) return base
    const line = lineOf(doc.id, doc.data(), location)
    known = Math.max(known, line.seq + 1)
    return { size: line.seq + 1, hash: leafHash(line.bytes) }
  }

  const writeBatch = async (batch: readonly EncodedReceipt[], texts: readonly string[]) => {
    const first = batch[0]!.seq
    const end = batch.at(-1)!.seq + 1
    if (first > known) {
      const before = await receipts.doc(receiptDocId(first - 1)).get()
      if (!before.exists) {
        throw new ConflictError(
          first,
          0,
          `seq ${first} would leave a gap: ${first - 1} is not stored`,
        )
      }
    }
    const wb = db.batch()
    batch.forEach((e, i) => {
      wb.create(receipts.doc(receiptDocId(e.seq)), { seq: e.seq, hash: e.hash, receipt: texts[i]! })
    })
    try {
      await wb.commit()
      known = Math.max(known, end)
      return
    } catch (error) {
      if (grpcCode(error) !== ALREADY_EXISTS) throw io(`writing seq ${first}`, error)
    }
    // Taken: by another writer, or by this very commit retried after a lost reply.
    // Count the leading entries that are ours, byte for byte.
    const snaps = await db.getAll(...batch.map((e) => receipts.doc(receiptDocId(e.seq))))
    let ours = 0
    while (ours < batch.length && snaps[ours]?.get('receipt') === texts[ours]) ours++
    if (ours === batch.length) {
      known = Math.max(known, end)
      return
    }
    throw new ConflictError(batch[ours]!.seq, ours, `seq ${batch[ours]!.seq} is already taken`)
  }

  return {
    location,
    path,
    client: db,
    ...(anchor === undefined ? {} : { anchor }),
    async head() {
      assertOpen()
      try {
        return await head()
      } catch (error) {
        if (error instanceof LedgerError) throw error
        throw io('reading the head', error)
      }
    },
    async append(entries) {
      assertOpen()
      if (entries.length === 0) return
      checkAppendRange(entries, base.size)
      const texts: string[] = []
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!
        if (e.bytes.length > MAX_RECEIPT_BYTES) {
          throw new InvalidInputError(
            `entries[${i}].bytes`,
            `${e.bytes.length} bytes is more than a Firestore document holds (${MAX_RECEIPT_BYTES})`,
          )
        }
        texts.push(Buffer.from(e.bytes).toString('utf8'))
      }
      let committed = 0
      for (let at = 0; at < entries.length; at += MAX_BATCH) {
        try {
          await writeBatch(entries.slice(at, at + MAX_BATCH), texts.slice(at, at + MAX_BATCH))
        } catch (error) {
          if (error instanceof ConflictError) {
            throw new ConflictError(error.seq, committed + error.committed, error.message)
          }
          throw error
        }
        committed = Math.min(entries.length, at + MAX_BATCH)
      }
    },
    read(from = 0, to?: number): AsyncIterable<StoredLine> {
      return {
        async *[Symbol.asyncIterator]() {
          assertOpen()
          let end: number
          try {
            end = to ?? (await head()).size
          } catch (error) {
            if (error instanceof LedgerError) throw error
            throw io('reading the head', error)
          }
          let cursor = Math.max(from, base.size)
          while (cursor < end) {
            assertOpen()
            let docs: { id: string; data(): unknown }[]
            try {
              const snap = await receipts
                .where('seq', '>=', cursor)
                .where('seq', '<', end)
                .orderBy('seq')
                .limit(pageSize)
                .get()
              docs = snap.docs
            } catch (error) {
              throw io(`reading from seq ${cursor}`, error)
            }
            for (const doc of docs) {
              const line = lineOf(doc.id, doc.data(), location)
              yield line
              cursor = line.seq + 1
            }
            if (docs.length < pageSize) break
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

/** Decodes a receipt document, refusing one this store did not write. */
function lineOf(id: string, data: unknown, location: string): StoredLine {
  const fields = data as { seq?: unknown; receipt?: unknown }
  const where = { file: `${location}/receipts/${id}` }
  if (typeof fields.receipt !== 'string') {
    throw new CorruptLedgerError('the document has no string field "receipt"', where)
  }
  if (!Number.isSafeInteger(fields.seq) || receiptDocId(fields.seq as number) !== id) {
    throw new CorruptLedgerError(
      `field "seq" (${JSON.stringify(fields.seq)}) does not match the document id`,
      where,
    )
  }
  return { seq: fields.seq as number, bytes: Buffer.from(fields.receipt, 'utf8') }
}

/** Reads (and for a new anchored ledger, creates) the ledger document holding the anchor. */
async function settleAnchor(
  db: Firestore,
  path: string,
  wanted: Anchor | undefined,
  location: string,
): Promise<Anchor | undefined> {
  const doc = db.doc(path)
  for (let attempt = 0; attempt < 3; attempt++) {
    let snap: Awaited<ReturnType<typeof doc.get>>
    try {
      snap = await doc.get()
    } catch (error) {
      throw new LedgerError(
        'IO',
        `${location}: reading the ledger document failed: ${messageOf(error)}`,
        {
          cause: error,
        },
      )
    }
    const raw = snap.exists ? snap.get('anchor') : undefined
    const stored =
      typeof raw === 'string'
        ? checkAnchor(JSON.parse(raw) as unknown, `${location} anchor`)
        : undefined
    if (snap.exists || wanted === undefined) {
      if (wanted !== undefined && !sameAnchor(stored, wanted)) {
        throw new LedgerError(
          'ALREADY_EXISTS',
          `${location}: the ledger exists and ${stored === undefined ? 'begins at receipt 0' : `begins at another anchor (seq ${stored.seq})`}`,
        )
      }
      return stored
    }
    const any = await db.collection(`${path}/receipts`).limit(1).get()
    if (!any.empty) {
      throw new LedgerError(
        'ALREADY_EXISTS',
        `${location}: the ledger already holds receipts from 0; it cannot begin at an anchor`,
      )
    }
    try {
      await doc.create({ format: 'baton.ledger', anchor: JSON.stringify(wanted) })
      return wanted
    } catch (error) {
      if (grpcCode(error) !== ALREADY_EXISTS) {
        throw new LedgerError(
          'IO',
          `${location}: creating the ledger document failed: ${messageOf(error)}`,
          {
            cause: error,
          },
        )
      }
    }
  }
  throw new LedgerError('IO', `${location}: the ledger document kept changing while it was opened`)
}
