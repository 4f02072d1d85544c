/**
 * The append worker: a child process, spawned by the store conformance suite
 * (built to `dist/testing-worker.js`), that opens a ledger store through a
 * module export and appends receipts through its own {@link createLedger},
 * printing one JSON line `{"seq":…,"hash":"…","id":"…"}` to stdout for every
 * receipt once it is acknowledged (durable).
 *
 * Usage: `node dist/testing-worker.js '<AppendWorkerConfig as JSON>'`.
 * With `waitForGo`, it prints `{"ready":true}` once the store is open and
 * starts appending when a line arrives on stdin, so that several workers
 * start at the same moment.
 * After `count` receipts it prints `{"done":true,"conflicts":n}` (how many
 * store appends lost a race) and exits 0; on any error it exits 1 with the
 * message on stderr; without `count` it runs until killed.
 *
 * @module
 */
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isBatonError } from '../errors.js'
import { createLedger } from '../ledger.js'
import type { LedgerStore } from '../store.js'
import type { AppendWorkerConfig } from './store-conformance.js'

let pending: string[] = []

function flush(): void {
  if (pending.length === 0) return
  const text = pending.join('')
  pending = []
  process.stdout.write(text)
}

function emit(line: string): void {
  pending.push(line)
  if (pending.length === 1) setImmediate(flush)
}

function parseConfig(raw: string | undefined): AppendWorkerConfig {
  if (raw === undefined) throw new Error('usage: testing-worker <config JSON>')
  const config = JSON.parse(raw) as AppendWorkerConfig
  if (typeof config.module !== 'string' || typeof config.exportName !== 'string') {
    throw new Error('config needs module and exportName strings')
  }
  if (!Array.isArray(config.args)) throw new Error('config.args must be an array')
  return config
}

async function main(): Promise<void> {
  const config = parseConfig(process.argv[2])
  const specifier = isAbsolute(config.module) ? pathToFileURL(config.module).href : config.module
  const mod = (await import(specifier)) as Record<string, unknown>
  const open = mod[config.exportName]
  if (typeof open !== 'function') {
    throw new Error(`${config.module} has no function export ${config.exportName}`)
  }
  const inner = (await open(...config.args)) as LedgerStore
  let conflicts = 0
  const store: LedgerStore = {
    location: inner.location,
    anchor: inner.anchor,
    head: () => inner.head(),
    append: (entries) =>
      inner.append(entries).catch((error: unknown) => {
        if (isBatonError(error, 'CONFLICT')) conflicts++
        throw error
      }),
    read: (from, to) => inner.read(from, to),
    close: () => inner.close(),
  }
  const ledger = createLedger({ store, maxRetries: config.maxRetries ?? 10_000 })
  if (config.waitForGo === true) {
    process.stdout.write('{"ready":true}\n')
    await new Promise<void>((resolve, reject) => {
      process.stdin.once('data', () => resolve())
      process.stdin.once('end', () => reject(new Error('stdin closed before go')))
    })
    process.stdin.pause()
  }
  const count = config.count ?? Number.POSITIVE_INFINITY
  const tag = config.tag ?? `pid-${process.pid}`
  let next = 0
  const loop = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      const r = await ledger.append({ type: 'test.worker', data: { i, worker: tag } })
      emit(`${JSON.stringify({ seq: r.seq, hash: r.hash, id: r.id })}\n`)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, config.concurrency ?? 8) }, loop))
  emit(`${JSON.stringify({ done: true, conflicts })}\n`)
  flush()
  await ledger.close()
}

main().then(
  () => {
    flush()
  },
  (error: unknown) => {
    flush()
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
    process.stderr.write(`append-worker: ${text}\n`)
    process.exit(1)
  },
)
