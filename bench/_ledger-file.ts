/** Writes large, valid JSONL ledgers quickly for the benchmarks. */
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import {
  canonicalize,
  envelopeText,
  formatTimestamp,
  initFileStore,
  leafHash,
  newReceiptId,
  segmentFileName,
  ZERO_HASH,
} from '@baton/ledger'
import { sampleData } from './primitives.ts'

/** Scratch directory for benchmark data (git-ignored). */
export const DATA_DIR = join(import.meta.dirname, '..', '.bench-data')

/** Path of a ledger file with `n` receipts, generated on first use. */
export async function ledgerFile(n: number): Promise<string> {
  mkdirSync(DATA_DIR, { recursive: true })
  const path = join(DATA_DIR, `ledger-${n}.jsonl`)
  if (existsSync(path)) return path
  const tmp = `${path}.tmp`
  const out = createWriteStream(tmp, { highWaterMark: 1 << 22 })
  let prev = ZERO_HASH
  let ms = Date.UTC(2026, 10, 23)
  let chunk: string[] = []
  for (let seq = 0; seq < n; seq++) {
    ms += 7
    const text = envelopeText(
      seq,
      newReceiptId(ms),
      formatTimestamp(ms),
      'probe.sampled',
      prev,
      canonicalize(sampleData(seq)),
    )
    prev = leafHash(text)
    chunk.push(text)
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await new Promise((r) => out.once('drain', r))
      chunk = []
    }
  }
  if (chunk.length > 0) out.write(`${chunk.join('\n')}\n`)
  await new Promise<void>((resolve, reject) =>
    out.end((e?: Error | null) => (e ? reject(e) : resolve())),
  )
  renameSync(tmp, path)
  return path
}

/**
 * A file-store ledger directory with the receipts of `ledgerFile(n)`, split
 * into segments exactly as the FileStore would (generated on first use).
 */
export async function ledgerDir(n: number): Promise<string> {
  const dir = join(DATA_DIR, `store-${n}`)
  if (existsSync(join(dir, 'complete'))) return dir
  const source = await ledgerFile(n)
  rmSync(dir, { recursive: true, force: true })
  const store = await initFileStore(dir)
  const segmentBytes = store.segmentBytes
  await store.close()
  let seq = 0
  let out: WriteStream | undefined
  let written = 0
  let rest = Buffer.alloc(0)
  for await (const chunk of createReadStream(source, { highWaterMark: 1 << 22 })) {
    const buf: Buffer = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer)
    let pos = 0
    for (let nl = buf.indexOf(10, pos); nl >= 0; nl = buf.indexOf(10, pos)) {
      if (out === undefined || written >= segmentBytes) {
        if (out !== undefined) await new Promise((r) => out!.end(r))
        out = createWriteStream(join(dir, 'segments', segmentFileName(seq)))
        written = 0
      }
      const line = buf.subarray(pos, nl + 1)
      if (!out.write(line)) await new Promise((r) => out!.once('drain', r))
      written += line.length
      seq++
      pos = nl + 1
    }
    rest = Buffer.from(buf.subarray(pos))
  }
  if (out !== undefined) await new Promise((r) => out!.end(r))
  writeFileSync(join(dir, 'complete'), '')
  return dir
}
