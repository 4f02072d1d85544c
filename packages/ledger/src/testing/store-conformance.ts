/**
 * The store conformance suite: the behaviour every {@link LedgerStore} must
 * show, as vitest tests, plus the helpers it uses to spawn append workers in
 * other processes and to check chains.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { type Anchor, anchorHead, sameAnchor } from '../anchor.js'
import { canonicalizeObject } from '../canonical.js'
import { isBatonError } from '../errors.js'
import { leafHash, ZERO_HASH } from '../hash.js'
import { createLedger, type Ledger } from '../ledger.js'
import { decodeReceipt, envelopeText, formatTimestamp, newReceiptId } from '../receipt.js'
import type { EncodedReceipt, LedgerStore, StoredLine, StoreHead } from '../store.js'

/** What the append worker (`dist/testing-worker.js`) is told to do, passed as JSON in `argv[2]`. */
export interface AppendWorkerConfig {
  /** Absolute file path or URL of the module that opens the store. */
  readonly module: string
  /** Name of the module's export that opens the store (may return a promise). */
  readonly exportName: string
  /** JSON-serialisable arguments for that export. */
  readonly args: readonly unknown[]
  /** Receipts to append; omitted: append until killed. */
  readonly count?: number
  /** Appends kept in flight at once, so the ledger forms batches; default 8. */
  readonly concurrency?: number
  /** Written into every receipt's `data.worker`; default `pid-<pid>`. */
  readonly tag?: string
  /** The worker ledger's `maxRetries`; default 10 000 (contention is the point). */
  readonly maxRetries?: number
  /** Print `{"ready":true}` once open, then wait for a line on stdin before appending. */
  readonly waitForGo?: boolean
}

/** One receipt a worker reported as acknowledged. */
export interface WorkerAck {
  /** Its position. */
  readonly seq: number
  /** Its leaf hash. */
  readonly hash: string
  /** Its id. */
  readonly id: string
}

/** How a worker ended. */
export interface AppendWorkerExit {
  /** Exit code, or `null` when killed by a signal. */
  readonly code: number | null
  /** The signal that ended it, if any. */
  readonly signal: NodeJS.Signals | null
  /** True if it was killed for running past its time limit. */
  readonly timedOut: boolean
}

/** A running append worker. */
export interface AppendWorker {
  /** The child process. */
  readonly child: ChildProcess
  /** Acknowledged receipts reported so far, in the order printed. */
  readonly acks: readonly WorkerAck[]
  /** Everything the worker wrote to stderr so far. */
  stderr(): string
  /** Store appends that lost a race (`CONFLICT`), reported when the worker finishes its `count`. */
  conflicts(): number | undefined
  /** Resolves once `n` acks have been printed; rejects if the worker exits first. */
  waitForAcks(n: number): Promise<void>
  /** With `waitForGo`: resolves once the worker has opened the store; rejects if it exits first. */
  ready(): Promise<void>
  /** With `waitForGo`: tells the worker to start appending. */
  go(): void
  /** Resolves when the process has exited. */
  readonly exited: Promise<AppendWorkerExit>
  /** Sends `signal` (default `SIGKILL`) if it is still running. */
  kill(signal?: NodeJS.Signals): void
}

/** Options for {@link spawnAppendWorker}. */
export interface SpawnAppendWorkerOptions {
  /** Path of the built worker; default found by {@link resolveAppendWorker}. */
  readonly workerPath?: string
  /** Kill the worker (SIGKILL) after this many milliseconds; default 60 000. */
  readonly timeoutMs?: number
}

/** This module's file path, in ESM, CommonJS and under vitest alike (no `import.meta`, which CommonJS cannot parse). */
function thisFile(): string | undefined {
  if (typeof __filename === 'string') return __filename
  const original = Error.prepareStackTrace
  try {
    Error.prepareStackTrace = (_error, sites) => sites
    const sites = new Error().stack as unknown as NodeJS.CallSite[] | undefined
    const name = sites?.[0]?.getFileName() ?? undefined
    if (name === undefined) return undefined
    return name.startsWith('file:') ? fileURLToPath(name) : name
  } catch {
    return undefined
  } finally {
    Error.prepareStackTrace = original
  }
}

/**
 * Finds the built append worker: `explicit` if given, else
 * `testing-worker.js` next to this module (running from `dist/`) or in the
 * package's `dist/` (running from source).
 *
 * @throws Error saying to build first when it is missing.
 */
export function resolveAppendWorker(explicit?: string): string {
  const here = thisFile()
  const candidates =
    explicit !== undefined
      ? [explicit]
      : here === undefined
        ? []
        : [
            join(dirname(here), 'testing-worker.js'),
            join(dirname(here), '..', '..', 'dist', 'testing-worker.js'),
          ]
  const found = candidates.find((p) => existsSync(p))
  if (found === undefined) {
    throw new Error(
      `the append worker (dist/testing-worker.js) is missing (looked at ${candidates.join(', ') || 'nothing'}): run pnpm build first (pnpm --filter @baton/ledger build)`,
    )
  }
  return found
}

/** Starts an append worker in a new Node.js process (`process.execPath`). */
export function spawnAppendWorker(
  config: AppendWorkerConfig,
  options: SpawnAppendWorkerOptions = {},
): AppendWorker {
  const workerPath = resolveAppendWorker(options.workerPath)
  const child = spawn(process.execPath, [workerPath, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin?.on('error', () => undefined)
  const acks: WorkerAck[] = []
  let err = ''
  let partial = ''
  let isReady = false
  let conflicts: number | undefined
  let timedOut = false
  let exit: AppendWorkerExit | undefined
  const waiters = new Set<() => void>()
  const notify = (): void => {
    for (const w of waiters) w()
  }
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line === '') continue
      const value = JSON.parse(line) as WorkerAck | { ready: true } | { conflicts: number }
      if ('ready' in value) isReady = true
      else if ('conflicts' in value) conflicts = value.conflicts
      else acks.push(value)
    }
    notify()
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    if (err.length < 100_000) err += text
  })
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 60_000)
  const exited = new Promise<AppendWorkerExit>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      exit = { code, signal, timedOut }
      notify()
      resolve(exit)
    })
  })
  const until = (done: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (done()) {
          waiters.delete(check)
          resolve()
        } else if (exit !== undefined) {
          waiters.delete(check)
          reject(
            new Error(
              `worker exited (${JSON.stringify(exit)}) before ${what}, after ${acks.length} acks: ${err}`,
            ),
          )
        }
      }
      waiters.add(check)
      check()
    })
  return {
    child,
    acks,
    stderr: () => err,
    conflicts: () => conflicts,
    exited,
    waitForAcks: (n) => until(() => acks.length >= n, `${n} acks`),
    ready: () => until(() => isReady, 'it was ready'),
    go() {
      child.stdin?.end('go\n')
    },
    kill(signal = 'SIGKILL') {
      if (exit === undefined && child.exitCode === null && child.signalCode === null) {
        child.kill(signal)
      }
    },
  }
}

/** One receipt of a chain checked by {@link readStoreChain}. */
export interface ChainEntry {
  /** Position. */
  readonly seq: number
  /** Receipt id. */
  readonly id: string
  /** Receipt type. */
  readonly type: string
  /** Leaf hash of its bytes. */
  readonly hash: string
  /** Its `prev`. */
  readonly prev: string
  /** Its canonical bytes. */
  readonly bytes: Uint8Array
}

/**
 * Reads a whole store and checks it is a chain: positions are 0, 1, 2, …
 * (from the anchor's `seq` in an anchored store), every line decodes as a
 * canonical receipt whose `seq` is its position, and every `prev` is the
 * leaf hash of the receipt before (64 zeros for receipt 0, the anchor's
 * `prev` for the first receipt of an anchored store). Throws an Error naming
 * the first problem. Entry `i` of the result is receipt `anchor.seq + i`.
 */
export async function readStoreChain(store: LedgerStore): Promise<ChainEntry[]> {
  const out: ChainEntry[] = []
  const start = anchorHead(store.anchor)
  let prev = start.hash
  for await (const line of store.read()) {
    const at = start.size + out.length
    if (line.seq !== at) throw new Error(`read yielded seq ${line.seq} at position ${at}`)
    const r = decodeReceipt(line.bytes, { file: `${store.location} seq ${at}` })
    if (r.seq !== at) throw new Error(`receipt ${r.seq} is stored at position ${at}`)
    if (r.prev !== prev) {
      throw new Error(
        `broken link at seq ${at}: prev is ${r.prev}, receipt ${at - 1} hashes to ${prev}`,
      )
    }
    const hash = leafHash(line.bytes)
    out.push({ seq: at, id: r.id, type: r.type, hash, prev: r.prev, bytes: line.bytes })
    prev = hash
  }
  return out
}

/** Options for {@link describeLedgerStore}. */
export interface LedgerStoreSuiteOptions {
  /** Returns a fresh, empty store. */
  create(): Promise<LedgerStore>
  /** Returns a new instance over the same data as `store` (which stays open). */
  reopen?(store: LedgerStore): Promise<LedgerStore>
  /** Called once per store from {@link create} after its test (and after closing it), e.g. to delete files. */
  dispose?(store: LedgerStore): Promise<void>
  /** Open the same ledger in other processes; enables the multi-process test. */
  readonly processes?: StoreProcessOptions
  /**
   * The anchor every store from {@link create} begins at (create them with
   * it): the suite then expects heads, reads, conflicts and chains to start
   * at `anchor.seq` and link to `anchor.prev`, and `store.anchor` to be it.
   */
  readonly anchor?: Anchor
}

/** How child processes open the store under test (see {@link AppendWorkerConfig}). */
export interface StoreProcessOptions {
  /** Absolute file path or URL of a module, e.g. the built `dist/index.js`. */
  readonly module: string
  /** Its export that opens the store, e.g. `openFileStore`. */
  readonly exportName: string
  /** JSON-serialisable arguments for it, or a function deriving them from the store under test. */
  readonly args: readonly unknown[] | ((store: LedgerStore) => readonly unknown[])
  /** Path of the built worker; default found by {@link resolveAppendWorker}. */
  readonly workerPath?: string
  /** Child processes to run at once; default 4. */
  readonly workers?: number
  /** Receipts each child appends; default 100. */
  readonly receiptsPerWorker?: number
  /** Time limit for the whole test in milliseconds; children are killed after it; default 60 000. */
  readonly timeoutMs?: number
}

function entriesAfter(head: StoreHead, count: number, tag: string): EncodedReceipt[] {
  const out: EncodedReceipt[] = []
  let prev = head.hash
  for (let k = 0; k < count; k++) {
    const ms = Date.now()
    const seq = head.size + k
    const data = canonicalizeObject({ k, tag })
    const bytes = Buffer.from(
      envelopeText(seq, newReceiptId(ms), formatTimestamp(ms), 'test.entry', prev, data),
    )
    const hash = leafHash(bytes)
    out.push({ seq, bytes, hash })
    prev = hash
  }
  return out
}

async function readAll(store: LedgerStore, from?: number, to?: number): Promise<StoredLine[]> {
  const out: StoredLine[] = []
  for await (const line of store.read(from, to)) out.push({ seq: line.seq, bytes: line.bytes })
  return out
}

function textOf(lines: readonly { readonly bytes: Uint8Array }[]): string[] {
  return lines.map((l) => Buffer.from(l.bytes).toString('utf8'))
}

async function expectSameContent(store: LedgerStore, expected: readonly EncodedReceipt[]) {
  const lines = await readAll(store)
  expect(lines.map((l) => l.seq)).toEqual(expected.map((e) => e.seq))
  expect(textOf(lines)).toEqual(textOf(expected))
  const last = expected.at(-1)
  const start = anchorHead(store.anchor)
  expect(await store.head()).toEqual({
    size: start.size + expected.length,
    hash: last?.hash ?? start.hash,
  })
}

/** Appends `perLedger` receipts through each ledger concurrently; returns every ack. */
async function race(ledgers: readonly Ledger[], perLedger: number): Promise<WorkerAck[]> {
  const acks = await Promise.all(
    ledgers.flatMap((ledger, l) =>
      Array.from({ length: perLedger }, (_, i) =>
        ledger.append({ type: 'test.race', data: { i, ledger: l } }),
      ),
    ),
  )
  return acks.map((r) => ({ seq: r.seq, hash: r.hash, id: r.id }))
}

function expectAcksPresent(chain: readonly ChainEntry[], acks: readonly WorkerAck[]): void {
  const base = chain[0]?.seq ?? 0
  const at = (seq: number): ChainEntry | undefined => chain[seq - base]
  const missing = acks.filter((a) => at(a.seq)?.hash !== a.hash || at(a.seq)?.id !== a.id)
  expect(missing, 'acknowledged receipts missing or changed').toEqual([])
  expect(new Set(acks.map((a) => a.seq)).size, 'acks with the same seq').toBe(acks.length)
  expect(new Set(chain.map((c) => c.id)).size, 'receipt ids stored twice').toBe(chain.length)
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isBatonError(error, code), `expected a ${code} error, got ${String(error)}`).toBe(true)
  return error
}

/**
 * Registers the conformance tests for a {@link LedgerStore} implementation.
 *
 * @example
 * ```ts
 * describeLedgerStore('memory', { create: async () => createMemoryStore() })
 * ```
 */
export function describeLedgerStore(name: string, options: LedgerStoreSuiteOptions): void {
  const empty = anchorHead(options.anchor)
  /** The first seq stores hold, and the head of an empty one. */
  const B = empty.size
  describe(`LedgerStore conformance: ${name}`, () => {
    const created: LedgerStore[] = []
    const open: LedgerStore[] = []
    const fresh = async (): Promise<LedgerStore> => {
      const store = await options.create()
      created.push(store)
      open.push(store)
      return store
    }
    const reopen = async (store: LedgerStore): Promise<LedgerStore> => {
      const again = await options.reopen!(store)
      open.push(again)
      return again
    }
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined)
      for (const s of created.splice(0)) await options.dispose?.(s)
    })

    it('starts empty', async () => {
      const store = await fresh()
      expect(await store.head()).toEqual(empty)
      expect(await readAll(store)).toEqual([])
      expect(typeof store.location).toBe('string')
      expect(sameAnchor(store.anchor, options.anchor), 'store.anchor').toBe(true)
    })

    if (options.anchor !== undefined) {
      it('begins at its anchor: retired seqs read as nothing and cannot be written', async () => {
        const store = await fresh()
        expect(store.anchor?.seq).toBe(B)
        const a = entriesAfter(empty, 3, 'a')
        await store.append(a)
        const seqs = async (from?: number, to?: number) =>
          (await readAll(store, from, to)).map((l) => l.seq)
        expect(await seqs(0)).toEqual([B, B + 1, B + 2])
        expect(await seqs(0, B)).toEqual([])
        expect(await seqs(0, B + 1)).toEqual([B])
        expect(await seqs(B - 1, B + 2)).toEqual([B, B + 1])
        const retired = entriesAfter({ size: B - 1, hash: ZERO_HASH }, 1, 'retired')
        await expectCode(store.append(retired), 'CONFLICT')
        await expectSameContent(store, a)
      })
    }

    it('appends batches and reads back the exact bytes in seq order', async () => {
      const store = await fresh()
      const a = entriesAfter(empty, 3, 'a')
      await store.append(a)
      const b = entriesAfter({ size: B + 3, hash: a[2]!.hash }, 2, 'b')
      await store.append(b)
      const c = entriesAfter({ size: B + 5, hash: b[1]!.hash }, 1, 'c')
      await store.append(c)
      await expectSameContent(store, [...a, ...b, ...c])
    })

    it('reports the head after every append', async () => {
      const store = await fresh()
      let head = await store.head()
      for (let i = 0; i < 5; i++) {
        const batch = entriesAfter(head, i + 1, `h${i}`)
        await store.append(batch)
        head = await store.head()
        expect(head).toEqual({ size: batch.at(-1)!.seq + 1, hash: batch.at(-1)!.hash })
      }
      expect(head.size).toBe(B + 15)
    })

    it('reads ranges: from/to, past the end, empty', async () => {
      const store = await fresh()
      const all = entriesAfter(empty, 10, 'r')
      await store.append(all.slice(0, 4))
      await store.append(all.slice(4))
      // Seqs relative to the first held one (B: the anchor, or 0).
      const seqs = async (from?: number, to?: number) =>
        (await readAll(store, from, to)).map((l) => l.seq - B)
      const at = (n: number) => B + n
      expect(await seqs()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(await seqs(at(3))).toEqual([3, 4, 5, 6, 7, 8, 9])
      expect(await seqs(at(2), at(6))).toEqual([2, 3, 4, 5])
      expect(await seqs(at(0), at(1))).toEqual([0])
      expect(await seqs(at(9), at(10))).toEqual([9])
      expect(await seqs(at(7), at(100))).toEqual([7, 8, 9])
      expect(await seqs(at(10))).toEqual([])
      expect(await seqs(at(50), at(60))).toEqual([])
      expect(await seqs(at(4), at(4))).toEqual([])
      expect(await seqs(at(6), at(2))).toEqual([])
      const mid = await readAll(store, at(5), at(8))
      expect(textOf(mid)).toEqual(textOf(all.slice(5, 8)))
    })

    it('refuses a taken seq with a ConflictError and changes nothing', async () => {
      const store = await fresh()
      const first = entriesAfter(empty, 3, 'x')
      await store.append(first)
      const rival = entriesAfter({ size: B + 1, hash: first[0]!.hash }, 1, 'rival')
      const e1 = (await expectCode(store.append(rival), 'CONFLICT')) as { seq: number }
      expect(e1.seq).toBe(B + 1)
      // A batch straddling the head: its first seq is taken, so none of it is written.
      const straddle = entriesAfter({ size: B + 2, hash: first[1]!.hash }, 3, 'straddle')
      const e2 = (await expectCode(store.append(straddle), 'CONFLICT')) as { committed: number }
      expect(e2.committed).toBe(0)
      const again = entriesAfter(empty, 1, 'zero')
      await expectCode(store.append(again), 'CONFLICT')
      await expectSameContent(store, first)
    })

    it('refuses a batch that would leave a gap and changes nothing', async () => {
      const store = await fresh()
      const first = entriesAfter(empty, 2, 'g')
      await store.append(first)
      const gap = entriesAfter({ size: B + 3, hash: first[1]!.hash }, 2, 'gap')
      await expect(store.append(gap)).rejects.toSatisfy((e: unknown) => isBatonError(e))
      await expectSameContent(store, first)
      const next = entriesAfter({ size: B + 2, hash: first[1]!.hash }, 1, 'next')
      await store.append(next)
      await expectSameContent(store, [...first, ...next])
    })

    it('keeps one valid chain when many Ledgers race on one store', async () => {
      const store = await fresh()
      const ledgers = Array.from({ length: 6 }, () => createLedger({ store, maxRetries: 10_000 }))
      const acks = await race(ledgers, 40)
      const chain = await readStoreChain(store)
      expect(chain).toHaveLength(240)
      expectAcksPresent(chain, acks)
      expect(await store.head()).toEqual({ size: B + 240, hash: chain.at(-1)!.hash })
    })

    if (options.reopen !== undefined) {
      it('keeps everything when reopened, and appends link to the head', async () => {
        const store = await fresh()
        const ledger = createLedger({ store })
        const acks = await race([ledger], 25)
        const before = await readAll(store)
        const again = await reopen(store)
        expect(sameAnchor(again.anchor, options.anchor), 'reopened store.anchor').toBe(true)
        expect(await again.head()).toEqual(await store.head())
        expect(textOf(await readAll(again))).toEqual(textOf(before))
        const next = await createLedger({ store: again }).append({ type: 'test.next', data: {} })
        expect(next.seq).toBe(B + 25)
        const chain = await readStoreChain(again)
        expect(next.prev).toBe(chain[24]!.hash)
        expectAcksPresent(chain, acks)
        // The first instance sees the other instance's append too.
        expect(await store.head()).toEqual({ size: B + 26, hash: next.hash })
      })

      it('keeps one valid chain when Ledgers on two instances race', async () => {
        const store = await fresh()
        const other = await reopen(store)
        const ledgers = [store, other, store, other].map((s) =>
          createLedger({ store: s, maxRetries: 10_000 }),
        )
        const acks = await race(ledgers, 30)
        const chain = await readStoreChain(store)
        expect(chain).toHaveLength(120)
        expectAcksPresent(chain, acks)
        expect(await other.head()).toEqual(await store.head())
      })
    }

    it('rejects every call with CLOSED after close', async () => {
      const store = await fresh()
      await store.append(entriesAfter(empty, 1, 'c'))
      await store.close()
      await expectCode(store.head(), 'CLOSED')
      await expectCode(
        store.append(entriesAfter({ size: B + 1, hash: ZERO_HASH }, 1, 'c')),
        'CLOSED',
      )
      await expectCode(readAll(store), 'CLOSED')
      await store.close()
    })

    const proc = options.processes
    if (proc !== undefined) {
      const timeoutMs = proc.timeoutMs ?? 60_000
      it(
        'keeps every acknowledged receipt when several processes append at once',
        async () => {
          const store = await fresh()
          const seed = await race([createLedger({ store })], 5)
          const args = typeof proc.args === 'function' ? proc.args(store) : proc.args
          const perWorker = proc.receiptsPerWorker ?? 100
          const workerCount = proc.workers ?? 4
          const workerPath = resolveAppendWorker(proc.workerPath)
          const workers = Array.from({ length: workerCount }, (_, w) =>
            spawnAppendWorker(
              {
                module: proc.module,
                exportName: proc.exportName,
                args,
                count: perWorker,
                tag: `w${w}`,
                waitForGo: true,
              },
              { workerPath, timeoutMs },
            ),
          )
          try {
            // Start everyone at once; this process appends too, through its own ledger.
            await Promise.all(workers.map((w) => w.ready()))
            for (const w of workers) w.go()
            const mine = await race([createLedger({ store, maxRetries: 10_000 })], perWorker)
            const exits = await Promise.all(workers.map((w) => w.exited))
            exits.forEach((exit, w) => {
              expect(exit, `worker ${w} stderr: ${workers[w]!.stderr()}`).toEqual({
                code: 0,
                signal: null,
                timedOut: false,
              })
              expect(workers[w]!.acks).toHaveLength(perWorker)
            })
            const acks = [...seed, ...mine, ...workers.flatMap((w) => w.acks)]
            const chain = await readStoreChain(store)
            expect(chain).toHaveLength(5 + perWorker * (workerCount + 1))
            expectAcksPresent(chain, acks)
            expect(await store.head()).toEqual({
              size: B + chain.length,
              hash: chain.at(-1)!.hash,
            })
            // The processes really raced: some appends lost to another writer.
            const conflicts = workers.map((w) => w.conflicts() ?? 0)
            expect(
              conflicts.reduce((a, b) => a + b, 0),
              `conflicts per worker ${conflicts}`,
            ).toBeGreaterThan(0)
          } finally {
            for (const w of workers) w.kill()
          }
        },
        timeoutMs + 15_000,
      )
    }
  })
}
