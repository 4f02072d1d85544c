/**
 * Scenario 3, a corrupted receipt ledger, as a drill on a simulated clock
 * over a real file store: governors append receipts all morning; at
 * 12:00 UTC the daily export writes a bundle and a signed, hash-chained
 * manifest entry with the bundle's SHA-256; governors keep appending; a bit
 * flips on disk in a receipt written after the export; the hourly verifier
 * finds the hash mismatch; the ledger is restored from the export and
 * verified, and the receipts written after the export are reported lost —
 * in a `ggen.receipt_corruption_detected` receipt matching the runbook's
 * contract, appended to the restored ledger.
 *
 * @module
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createLedger,
  createMemoryStore,
  createMemoryTarget,
  type ExportResult,
  type ExportTarget,
  exportLedger,
  generateKeyPair,
  openFileStore,
  parseSignerKey,
  parseVerifierKey,
  type RestoreResult,
  restore,
  type StoredReceipt,
  type VerifyReport,
  verify,
} from '@baton/ledger'
import { type CorruptionContract, contractType } from './contracts.ts'

const MINUTE = 60_000

/** Options of {@link runCorruptedLedgerDrill}. */
export interface CorruptedLedgerOptions {
  /** An empty directory for the live ledger (a file store). */
  readonly dir: string
  /** Start of the simulated day. Default `2026-01-25T00:00:00Z`. */
  readonly day?: string
  /** Receipts before the 12:00 export, one every 10 minutes from midnight. Default 72. */
  readonly before?: number
  /** Receipts after the export, 50 s apart. Default 47 (the runbook's). */
  readonly after?: number
  /** Which receipt after the export gets the bit flip (0 = the first). Default 0. */
  readonly corruptAt?: number
  /** Seed of the export signing key (32 bytes), for repeatable runs. */
  readonly keySeed?: Uint8Array
}

/** What the drill found and did. */
export interface CorruptedLedgerResult {
  /** The export at 12:00. */
  readonly export: ExportResult
  /** Where it went (the daily export bucket). */
  readonly target: ExportTarget
  /** The key that verifies its manifest's checkpoints. */
  readonly verifierKey: string
  /** The hourly verifier's report on the live ledger. */
  readonly detected: VerifyReport
  /** When it ran (ms). */
  readonly detectedAt: number
  /** The restore from the export. */
  readonly restore: RestoreResult
  /** The restored ledger verified, with its contract receipt. */
  readonly verified: VerifyReport
  /** Every receipt of the restored ledger. */
  readonly receipts: readonly StoredReceipt[]
  /** The contract receipt. */
  readonly contract: StoredReceipt<string, CorruptionContract>
  /** Receipts the live ledger had after the export: lost. */
  readonly lost: { readonly count: number; readonly fromTs: string; readonly toTs: string }
  /**
   * From detection to a verified restored ledger: the alert's 5 minutes on
   * the simulated clock plus the real time the restore and verification took.
   */
  readonly rtoMs: number
}

/** Reads the live ledger's lines leniently (a corrupted line still shows its seq and ts). */
async function rawReceipts(dir: string): Promise<{ seq: number; ts: string }[]> {
  const out: { seq: number; ts: string }[] = []
  const segments = (await readdir(join(dir, 'segments'))).sort()
  for (const name of segments) {
    for (const line of (await readFile(join(dir, 'segments', name), 'utf8')).split('\n')) {
      if (line === '') continue
      try {
        const r = JSON.parse(line) as { seq: number; ts: string }
        out.push({ seq: r.seq, ts: r.ts })
      } catch {
        // A line damaged beyond parsing: its seq follows the one before.
        out.push({ seq: (out.at(-1)?.seq ?? -1) + 1, ts: '' })
      }
    }
  }
  return out
}

/** Flips one digit of receipt `seq`'s data on disk, keeping the line's length. */
async function flipBit(dir: string, seq: number): Promise<void> {
  for (const name of (await readdir(join(dir, 'segments'))).sort()) {
    const path = join(dir, 'segments', name)
    const lines = (await readFile(path, 'utf8')).split('\n')
    const i = lines.findIndex((l) => l.includes(`"seq":${seq},`))
    if (i < 0) continue
    lines[i] = lines[i]!.replace(
      /"value":(\d)/,
      (_, d: string) => `"value":${(Number(d) + 1) % 10}`,
    )
    await writeFile(path, lines.join('\n'))
    return
  }
  throw new Error(`no receipt ${seq} on disk`)
}

/** Runs scenario 3. */
export async function runCorruptedLedgerDrill(
  options: CorruptedLedgerOptions,
): Promise<CorruptedLedgerResult> {
  const day = Date.parse(options.day ?? '2026-01-25T00:00:00Z')
  const before = options.before ?? 72
  const after = options.after ?? 47
  let now = day
  const clock = { now: () => now }
  const keys = generateKeyPair('ggen.example/receipts', {
    ...(options.keySeed === undefined ? {} : { seed: options.keySeed }),
  })

  // The morning: governors append receipts.
  const live = await openFileStore(options.dir, { create: true })
  const ledger = createLedger({ store: live, clock })
  const emit = (i: number) =>
    ledger.append({
      type: 'ggen.governor.decision',
      data: {
        governor: `gov-${i % 5}`,
        account: `acct-${i % 17}`,
        signal: 'usage',
        value: 100 + i,
      },
    })
  for (let i = 0; i < before; i++) {
    now = day + i * 10 * MINUTE
    await emit(i)
  }

  // 12:00 UTC: the daily export (bundle + signed manifest entry with its SHA-256).
  now = day + 12 * 60 * MINUTE
  const target = createMemoryTarget({ name: 'gs://ggen-audit/receipt-exports' })
  const exported = await exportLedger(live, target, {
    signers: [parseSignerKey(keys.signerKey)],
    now,
    origin: 'ggen.example/receipts',
  })
  const backupAt = now

  // 12:00–12:40: more receipts.
  for (let i = 0; i < after; i++) {
    now = backupAt + (i + 1) * 50_000
    await emit(before + i)
  }
  await ledger.close()

  // A bit flips on disk.
  now = day + (12 * 60 + 40) * MINUTE + 56_000
  await flipBit(options.dir, before + (options.corruptAt ?? 0))

  // 13:00: the hourly verifier.
  now = day + 13 * 60 * MINUTE
  const detectedAt = now
  const readOnly = await openFileStore(options.dir, { readOnly: true })
  const detected = await verify(readOnly)
  await readOnly.close()
  if (detected.status === 'VERIFIED') throw new Error('the corruption was not detected')
  const firstBad = Math.min(...detected.problems.map((p) => p.seq ?? Number.POSITIVE_INFINITY))

  // Restore from the export, verify, report the loss.
  now += 5 * MINUTE // the alert email reaches the operator
  // The restore and the verification take what they really take.
  const started = performance.now()
  const restoredStore = createMemoryStore({ name: 'ggen-receipts-restored' })
  const restored = await restore(target, restoredStore, {
    keys: [parseVerifierKey(keys.verifierKey)],
    clock,
  })
  const lines = await rawReceipts(options.dir)
  const lostLines = lines.filter((l) => l.seq >= restored.exportSize)
  const lost = {
    count: lostLines.length,
    fromTs: lostLines[0]?.ts ?? '',
    toTs: lostLines.at(-1)?.ts ?? '',
  }
  const data: CorruptionContract = {
    operation: 'receipt_corruption_detected',
    corrupted_count: lines.length - Math.min(firstBad, lines.length),
    affected_timespan: `${lost.fromTs} to ${lost.toTs}`,
    recovery_method: 'backup_restore',
    backup_source: `${target.location}/${exported.entry?.key ?? '?'}`,
    backup_timestamp: new Date(backupAt).toISOString(),
    data_loss_minutes:
      lost.count === 0 ? 0 : Math.ceil((Date.parse(lost.toTs) - backupAt) / MINUTE),
    status: 'restored',
  }
  const after2 = createLedger({ store: restoredStore, clock })
  const contract = await after2.append({
    type: contractType(data.operation),
    data,
  })
  const verified = await verify(restoredStore)
  now += Math.ceil(performance.now() - started)
  const receipts: StoredReceipt[] = []
  for await (const r of after2.read()) receipts.push(r)
  await after2.close()
  return {
    export: exported,
    target,
    verifierKey: keys.verifierKey,
    detected,
    detectedAt,
    restore: restored,
    verified,
    receipts,
    contract,
    lost,
    rtoMs: now - detectedAt,
  }
}
