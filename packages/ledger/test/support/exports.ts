/** Builders for export, verify-export and restore tests: ledgers spread over days, keys, tampering. */
import { gunzipSync, gzipSync } from 'node:zlib'
import {
  createLedger,
  createMemoryStore,
  generateKeyPair,
  type Ledger,
  type ManifestEntry,
  type MemoryStore,
  type MemoryTarget,
  parseManifestEntry,
  parseSignerKey,
} from '../../src/index.js'

/** A signer from a fixed seed (`n` picks the seed), and its verifier. */
export function testKeys(name = 'baton.test/exports', n = 1) {
  const { signerKey, verifierKey } = generateKeyPair(name, { seed: new Uint8Array(32).fill(n) })
  const signer = parseSignerKey(signerKey)
  return { signer, verifier: signer.verifier(), signerKey, verifierKey }
}

/** A ledger whose clock the test sets: `at(day)` moves it to 01:00 UTC that day; each receipt is 1 min later. */
export function dayLedger(store: MemoryStore = createMemoryStore()) {
  let t = Date.UTC(2026, 0, 1)
  const ledger: Ledger = createLedger({
    store,
    clock: {
      now: () => {
        t += 60_000
        return t
      },
    },
  })
  return {
    store,
    ledger,
    /** Appends `count` receipts on `day` (YYYY-MM-DD), from 01:00 UTC. */
    async day(day: string, count: number, tag = 'a'): Promise<void> {
      t = Date.parse(`${day}T01:00:00.000Z`)
      await ledger.appendBatch(
        Array.from({ length: count }, (_, i) => ({
          type: 'probe.sampled',
          data: { day, i, tag, region: i % 2 === 0 ? 'us-central1' : 'europe-west1' },
        })),
      )
    },
  }
}

/** Noon UTC of a day, as epoch ms. */
export const noon = (day: string): number => Date.parse(`${day}T12:00:00.000Z`)

/** The canonical lines of a store. */
export async function linesOf(store: {
  read(from?: number, to?: number): AsyncIterable<{ bytes: Uint8Array }>
}): Promise<string[]> {
  const out: string[] = []
  for await (const l of store.read()) out.push(Buffer.from(l.bytes).toString('utf8'))
  return out
}

/** The manifest entries of a memory target, in key order. */
export function entriesOf(target: MemoryTarget): ManifestEntry[] {
  return [...target.objects.keys()]
    .filter((k) => k.startsWith('manifest/'))
    .sort()
    .map((k) => parseManifestEntry(target.objects.get(k)!, k))
}

/** A bundle's JSONL text (gunzipped if needed). */
export function bundleText(target: MemoryTarget, entry: ManifestEntry): string {
  const bytes = target.objects.get(entry.key)!
  return Buffer.from(entry.encoding === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8')
}

/** Replaces a bundle's JSONL text (re-gzipping if needed), keeping the manifest as it is. */
export function setBundleText(target: MemoryTarget, entry: ManifestEntry, text: string): void {
  const bytes = Buffer.from(text, 'utf8')
  target.objects.set(entry.key, entry.encoding === 'gzip' ? gzipSync(bytes) : bytes)
}
