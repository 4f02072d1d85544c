/** Builders of small ledgers (as JSONL lines) for tests. */
import {
  createLedger,
  createMemoryStore,
  type EncodedReceipt,
  leafHash,
  type ReceiptInput,
} from '../../src/index.js'

const NL = Buffer.from('\n')

/** A deterministic clock stepping 1 s per reading from 2026-11-23T00:00:00Z. */
export function steppingClock(startMs = Date.UTC(2026, 10, 23)): { now(): number } {
  let t = startMs
  return {
    now: () => {
      t += 1000
      return t
    },
  }
}

/** Varied receipt inputs: nested data, numbers, unicode, escapes. */
export function sampleInput(i: number): ReceiptInput {
  const kinds = ['health.sampled', 'failover.started', 'step.succeeded', 'state.changed']
  return {
    type: kinds[i % kinds.length]!,
    data: {
      i,
      region: i % 2 === 0 ? 'eu-west-1' : 'us-east-1',
      probes: [
        { ms: 10 + (i % 7) * 1.5, ok: i % 5 !== 0 },
        { ms: i, ok: true },
      ],
      note: i % 3 === 0 ? 'café ☕ "quoted"\n\ttab' : `plain ${i}`,
      nested: { deep: { list: [null, true, false, -i, 0.25] } },
    },
  }
}

/** Appends `n` sample receipts to a fresh memory store; returns the canonical lines. */
export async function buildLines(
  n: number,
  input: (i: number) => ReceiptInput = sampleInput,
): Promise<Buffer[]> {
  const store = createMemoryStore()
  const ledger = createLedger({ store, clock: steppingClock() })
  await ledger.appendBatch(Array.from({ length: n }, (_, i) => input(i)))
  const lines: Buffer[] = []
  for await (const l of store.read()) lines.push(Buffer.from(l.bytes))
  return lines
}

/**
 * Builds a fork: the first `shared` lines of `lines`, then `extra` different
 * receipts that link correctly onto them.
 */
export async function buildFork(lines: Buffer[], shared: number, extra: number): Promise<Buffer[]> {
  const store = createMemoryStore()
  const entries: EncodedReceipt[] = lines
    .slice(0, shared)
    .map((bytes, seq) => ({ seq, bytes, hash: leafHash(bytes) }))
  await store.append(entries)
  const ledger = createLedger({ store, clock: steppingClock(Date.UTC(2027, 0, 1)) })
  await ledger.appendBatch(
    Array.from({ length: extra }, (_, i) => ({ type: 'fork.receipt', data: { i } })),
  )
  const out: Buffer[] = []
  for await (const l of store.read(shared)) out.push(Buffer.from(l.bytes))
  return out
}

/** Joins lines into JSONL text (each line followed by a newline). */
export function jsonl(lines: readonly Buffer[]): Buffer {
  return Buffer.concat(lines.flatMap((l) => [l, NL]))
}
