/** Builders of anchored ledgers for tests: a full ledger, an anchor in it, and a copy that begins there. */
import {
  type Anchor,
  createAnchor,
  createLedger,
  createMemoryStore,
  type EncodedReceipt,
  type LedgerStore,
  leafHash,
  type MemoryStore,
} from '../../src/index.js'
import { sampleInput, steppingClock } from './ledgers.js'

/** Copies receipts `[from, to)` of `source` into `into` (appended as they are). */
export async function copyReceipts(
  source: LedgerStore,
  into: LedgerStore,
  from: number,
  to?: number,
): Promise<void> {
  const batch: EncodedReceipt[] = []
  for await (const l of source.read(from, to)) {
    const bytes = new Uint8Array(l.bytes)
    batch.push({ seq: l.seq, bytes, hash: leafHash(bytes) })
  }
  if (batch.length > 0) await into.append(batch)
}

/**
 * A full memory ledger of `total` sample receipts, the anchor at `at`, and
 * an anchored memory store holding receipts `[at, total)` of it.
 */
export async function anchoredFixture(
  total: number,
  at: number,
): Promise<{ full: MemoryStore; anchor: Anchor; anchored: MemoryStore }> {
  const full = createMemoryStore({ name: 'full' })
  const ledger = createLedger({ store: full, clock: steppingClock() })
  await ledger.appendBatch(Array.from({ length: total }, (_, i) => sampleInput(i)))
  const anchor = await createAnchor(full, at, { source: 'test fixture' })
  const anchored = createMemoryStore({ name: 'anchored', anchor })
  await copyReceipts(full, anchored, at)
  return { full, anchor, anchored }
}
