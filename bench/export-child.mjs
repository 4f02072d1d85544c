/**
 * Child process for the export benchmarks' timings and peak RSS:
 * `node export-child.mjs <mode> <args…>`, printing one JSON line.
 *
 * - `export <ledgerDir> <targetDir> <signerKey> <gzip 0|1>`: exportLedger of the whole ledger
 * - `verify-export <targetDir> <verifierKey>`: verifyExport of that target
 * - `restore <targetDir> <verifierKey> <intoDir>`: restore of that target into a new file ledger
 * - `verify <ledgerDir>`: verify() of the ledger (baseline for verify-export)
 * - `floor <ledgerDir> <file>`: read the segments, SHA-256 each line, write them to one file,
 *   fsync: the least an export must do (baseline for export)
 * - `sha <ledgerDir>`: read the segments and SHA-256 them (the least verify-export must do)
 *
 * Plain JavaScript on purpose: a .ts child pays ~17 MB for Node's type
 * stripper, which the built `baton` CLI never does.
 */
import { createHash, hash } from 'node:crypto'
import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createDirectoryTarget,
  exportLedger,
  openFileStore,
  parseSignerKey,
  parseVerifierKey,
  restore,
  verify,
  verifyExport,
} from '@baton/ledger'

const [mode, ...args] = process.argv.slice(2)
const start = performance.now()
const out = { mode, count: 0, bytes: 0, status: 'n/a' }

async function* segmentChunks(dir) {
  const segDir = join(dir, 'segments')
  const buf = Buffer.allocUnsafe(1 << 20)
  for (const name of (await readdir(segDir)).sort()) {
    const fh = await open(join(segDir, name), 'r')
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null)
        if (bytesRead === 0) break
        yield buf.subarray(0, bytesRead)
      }
    } finally {
      await fh.close()
    }
  }
}

if (mode === 'export') {
  const [ledgerDir, targetDir, signerKey, gzip] = args
  const store = await openFileStore(ledgerDir, { readOnly: true })
  const r = await exportLedger(store, createDirectoryTarget(targetDir), {
    signers: [parseSignerKey(signerKey)],
    gzip: gzip === '1',
    retainDays: Number.POSITIVE_INFINITY,
  })
  await store.close()
  out.count = r.receipts
  out.bytes = r.entry?.bytes ?? 0
  out.status = r.status
} else if (mode === 'verify-export') {
  const [targetDir, verifierKey] = args
  const r = await verifyExport(createDirectoryTarget(targetDir), {
    keys: [parseVerifierKey(verifierKey)],
  })
  out.count = r.checked
  out.bytes = r.bytes
  out.status = r.status
} else if (mode === 'restore') {
  const [targetDir, verifierKey, into] = args
  const store = await openFileStore(into, { create: true })
  const r = await restore(createDirectoryTarget(targetDir), store, {
    keys: [parseVerifierKey(verifierKey)],
  })
  await store.close()
  out.count = r.restored
  out.status = r.status
} else if (mode === 'verify') {
  const store = await openFileStore(args[0], { readOnly: true })
  const r = await verify(store)
  await store.close()
  out.count = r.checked
  out.bytes = r.bytes
  out.status = r.status
} else if (mode === 'floor') {
  const fh = await open(args[1], 'wx')
  let pos = 0
  let rest = Buffer.alloc(0)
  for await (const chunk of segmentChunks(args[0])) {
    const buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk
    let at = 0
    for (let nl = buf.indexOf(10, at); nl >= 0; nl = buf.indexOf(10, at)) {
      hash('sha256', buf.subarray(at, nl), 'buffer')
      out.count++
      at = nl + 1
    }
    rest = Buffer.from(buf.subarray(at))
    for (let done = 0; done < chunk.length; ) {
      const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, pos)
      done += bytesWritten
      pos += bytesWritten
    }
  }
  await fh.sync()
  await fh.close()
  out.bytes = pos
} else if (mode === 'sha') {
  const hash = createHash('sha256')
  for await (const chunk of segmentChunks(args[0])) {
    hash.update(chunk)
    out.bytes += chunk.length
  }
  out.status = hash.digest('hex').slice(0, 12)
} else {
  throw new Error(`unknown mode ${mode}`)
}
out.seconds = (performance.now() - start) / 1000
out.maxRssMB = process.resourceUsage().maxRSS / 1024
process.stdout.write(`${JSON.stringify(out)}\n`)
