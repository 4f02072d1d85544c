/**
 * Child process for peak-RSS measurements: `node verify-child.mjs <mode> <path>`
 * where mode is `verify` (the real verifier on a file-store directory, as
 * `baton verify` runs it) or `floor` (read + split + hash of a JSONL file).
 * Prints one JSON line with the figures. Plain JavaScript on purpose: running
 * a .ts file makes Node load its TypeScript stripper, ~17 MB of extra RSS
 * that `baton verify` (built JavaScript) never pays.
 */
import { hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { openFileStore, verify } from '@baton/ledger'

const [mode, path] = process.argv.slice(2)
const start = performance.now()
let count = 0
let status = 'n/a'
if (mode === 'verify') {
  const store = await openFileStore(path, { readOnly: true })
  const report = await verify(store)
  await store.close()
  count = report.checked
  status = report.status
} else {
  let rest = Buffer.alloc(0)
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk
    let pos = 0
    for (let nl = buf.indexOf(10, pos); nl >= 0; nl = buf.indexOf(10, pos)) {
      hash('sha256', buf.subarray(pos, nl), 'hex')
      count++
      pos = nl + 1
    }
    rest = buf.subarray(pos)
  }
}
const seconds = (performance.now() - start) / 1000
process.stdout.write(
  `${JSON.stringify({ mode, count, status, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`,
)
