import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import {
  appendFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { Anchor } from '../src/anchor.js'
import { isBatonError } from '../src/errors.js'
import {
  DEFAULT_SEGMENT_BYTES,
  type FileStore,
  type FileStoreOptions,
  type FileStoreRecovery,
  initFileStore,
  openFileStore,
  segmentFileName,
} from '../src/file-store.js'
import { leafHash } from '../src/hash.js'
import { createLedger } from '../src/ledger.js'
import { envelopeText } from '../src/receipt.js'
import type { LedgerStore } from '../src/store.js'
import {
  describeLedgerStore,
  readStoreChain,
  spawnAppendWorker,
  type WorkerAck,
} from '../src/testing/index.js'
import { anchoredFixture, copyReceipts } from './support/anchors.js'

const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const DIST_WORKER = fileURLToPath(new URL('../dist/testing-worker.js', import.meta.url))

/** Tests that spawn processes run the built package: fail clearly when it is missing. */
function requireDist(): void {
  for (const file of [DIST_INDEX, DIST_WORKER]) {
    if (!existsSync(file)) {
      throw new Error(
        `${file} is missing: run pnpm build first (pnpm --filter @baton/ledger build)`,
      )
    }
  }
}

function conformance(name: string, segmentBytes?: number, anchor?: Anchor): void {
  describeLedgerStore(name, {
    async create() {
      const dir = await mkdtemp(join(tmpdir(), 'baton-fs-conf-'))
      return openFileStore(dir, {
        create: true,
        ...(segmentBytes === undefined ? {} : { segmentBytes }),
        ...(anchor === undefined ? {} : { anchor }),
      })
    },
    ...(anchor === undefined ? {} : { anchor }),
    reopen: (store: LedgerStore) => openFileStore((store as FileStore).dir),
    async dispose(store: LedgerStore) {
      await rm((store as FileStore).dir, { recursive: true, force: true })
    },
    processes: {
      module: DIST_INDEX,
      exportName: 'openFileStore',
      args: (store: LedgerStore) => {
        requireDist()
        return [(store as FileStore).dir]
      },
      workerPath: DIST_WORKER,
    },
  })
}

conformance('FileStore')
conformance('FileStore (tiny segments)', 600)
const fixture = await anchoredFixture(1200, 1029)
conformance('FileStore (anchored at 1029)', undefined, fixture.anchor)
conformance('FileStore (anchored at 1029, tiny segments)', 600, fixture.anchor)

describe('openFileStore: anchored ledgers', () => {
  const { anchor } = fixture

  it('records the anchor in baton-ledger.json, names the first segment by it, and reopens with it', async () => {
    const dir = await tempDir()
    const root = join(dir, 'ledger')
    const store = await open(root, { create: true, anchor })
    expect(store.anchor).toEqual(anchor)
    expect(await store.head()).toEqual({ size: 1029, hash: anchor.prev })
    expect(JSON.parse(await readFile(join(root, 'baton-ledger.json'), 'utf8'))).toEqual({
      anchor: { prev: anchor.prev, range: anchor.range, seq: 1029, source: 'test fixture' },
      format: 'baton-ledger',
      segmentBytes: DEFAULT_SEGMENT_BYTES,
      version: 1,
    })
    expect(await readdir(join(root, 'segments'))).toEqual([segmentFileName(1029)])
    await copyReceipts(fixture.full, store, 1029, 1100)
    expect(await store.head()).toEqual(await fixture.full.head().then(() => store.head()))
    const again = await open(root, { readOnly: true })
    expect(again.anchor).toEqual(anchor)
    expect((await again.head()).size).toBe(1100)
    const lines: number[] = []
    for await (const l of again.read(0, 1031)) lines.push(l.seq)
    expect(lines).toEqual([1029, 1030])
    // The same anchor may be given again; another one (or none on a new ledger) is refused.
    await (await open(root, { anchor })).close()
    const other = (await anchoredFixture(1200, 1030)).anchor
    expect(await caught(open(root, { anchor: other }))).toMatchObject({
      code: 'INVALID_INPUT',
      path: 'anchor',
      message: expect.stringMatching(/begins at another anchor \(seq 1029/),
    })
    const plain = await open(join(dir, 'plain'), { create: true })
    await plain.close()
    expect(await caught(open(join(dir, 'plain'), { anchor }))).toMatchObject({
      path: 'anchor',
      message: expect.stringMatching(/begins at receipt 0, not at an anchor/),
    })
    expect(
      await caught(initFileStore(join(dir, 'init'), { anchor: { ...anchor, seq: 0 } })),
    ).toMatchObject({
      path: 'anchor.seq',
    })
    const init = await initFileStore(join(dir, 'init'), { anchor })
    stores.push(init)
    expect(init.anchor?.seq).toBe(1029)
  })

  it('refuses a damaged anchor or a first segment that does not start at it', async () => {
    const dir = await tempDir()
    const root = join(dir, 'ledger')
    await (await openFileStore(root, { create: true, anchor })).close()
    const meta = join(root, 'baton-ledger.json')
    const text = await readFile(meta, 'utf8')
    await writeFile(meta, text.replace('"seq":1029', '"seq":1028'))
    expect(await caught(open(root))).toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/anchor is unusable: anchor\.range: must be the 2 hex hashes/),
    })
    await writeFile(meta, text)
    await rename(segPath(root, 1029), segPath(root, 0))
    expect(await caught(open(root))).toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/first segment starts at seq 0, not 1029 \(the anchor/),
    })
  })

  it('creates over an interrupted anchored creation', async () => {
    const dir = await tempDir()
    const root = join(dir, 'ledger')
    await mkdir(join(root, 'segments'), { recursive: true })
    await writeFile(segPath(root, 77), '')
    const store = await open(root, { create: true, anchor })
    expect(await readdir(join(root, 'segments'))).toEqual([segmentFileName(1029)])
    expect((await store.head()).size).toBe(1029)
  })
})

const dirs: string[] = []
const stores: FileStore[] = []
const children: ChildProcess[] = []

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-fs-'))
  dirs.push(dir)
  return dir
}

async function open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
  const store = await openFileStore(dir, options)
  stores.push(store)
  return store
}

afterEach(async () => {
  for (const c of children.splice(0))
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const s of stores.splice(0)) await s.close()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function appendSome(store: FileStore, n: number, tag = 't') {
  const ledger = createLedger({ store })
  return Promise.all(
    Array.from({ length: n }, (_, i) => ledger.append({ type: 'test.file', data: { i, tag } })),
  )
}

function segPath(dir: string, first: number): string {
  return join(dir, 'segments', segmentFileName(first))
}

async function caught(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof Error)) throw new Error(`expected a rejection, got ${String(error)}`)
  return error as Error & Record<string, unknown>
}

describe('openFileStore: layout and opening', () => {
  it('creates the marker file, the first segment and the lock, and writes one line per receipt', async () => {
    const dir = await tempDir()
    const store = await open(join(dir, 'ledger'), { create: true })
    const root = join(dir, 'ledger')
    expect(store.dir).toBe(root)
    expect(store.location).toBe(`file:${root}`)
    expect(store.segmentBytes).toBe(DEFAULT_SEGMENT_BYTES)
    expect(store.lockPath).toBe(join(root, 'baton-ledger.lock'))
    expect(JSON.parse(await readFile(join(root, 'baton-ledger.json'), 'utf8'))).toEqual({
      format: 'baton-ledger',
      segmentBytes: DEFAULT_SEGMENT_BYTES,
      version: 1,
    })
    expect((await readdir(root)).sort()).toEqual([
      'baton-ledger.json',
      'baton-ledger.lock',
      'segments',
    ])
    expect(await readdir(join(root, 'segments'))).toEqual(['00000000000000000000.jsonl'])
    const receipts = await appendSome(store, 3)
    const text = await readFile(segPath(root, 0), 'utf8')
    const lines = text.split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.map((l) => leafHash(l))).toEqual(receipts.map((r) => r.hash))
    expect(store.recovered).toEqual([])
  })

  it('fails with NOT_FOUND for a missing ledger without create, creating nothing', async () => {
    const dir = await tempDir()
    const missing = join(dir, 'nope')
    const e1 = await caught(openFileStore(missing))
    expect(isBatonError(e1, 'NOT_FOUND')).toBe(true)
    expect(e1.message).toContain(missing)
    expect(existsSync(missing)).toBe(false)
    const e2 = await caught(openFileStore(dir))
    expect(isBatonError(e2, 'NOT_FOUND')).toBe(true)
    expect(await readdir(dir)).toEqual([])
  })

  it('opens an existing ledger with or without create, keeping its segment size', async () => {
    const dir = await tempDir()
    const a = await open(dir, { create: true, segmentBytes: 1000 })
    await appendSome(a, 4)
    const b = await open(dir, { create: true, segmentBytes: 5 })
    expect(b.segmentBytes).toBe(1000)
    expect((await b.head()).size).toBe(4)
    expect((await (await open(dir)).head()).size).toBe(4)
  })

  it('initFileStore creates a ledger and refuses an existing one with ALREADY_EXISTS', async () => {
    const dir = await tempDir()
    const store = await initFileStore(dir)
    stores.push(store)
    expect(await store.head()).toMatchObject({ size: 0 })
    await appendSome(store, 2)
    const e = await caught(initFileStore(dir))
    expect(isBatonError(e, 'ALREADY_EXISTS')).toBe(true)
    expect(e.message).toContain(dir)
    expect((await store.head()).size).toBe(2)
  })

  it('refuses to create a ledger in a non-empty directory that is not one', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'notes.txt'), 'keep me')
    for (const attempt of [() => openFileStore(dir, { create: true }), () => initFileStore(dir)]) {
      const e = await caught(attempt())
      expect(isBatonError(e, 'INVALID_INPUT')).toBe(true)
      expect(e.path).toBe('dir')
      expect(e.message).toContain('notes.txt')
    }
    expect(await readdir(dir)).toEqual(['notes.txt'])
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('keep me')
  })

  it('finishes a creation that was interrupted before the marker file was written', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'segments'))
    await writeFile(segPath(dir, 0), '')
    await writeFile(join(dir, '.baton-ledger.json.123.abcd.tmp'), '{"form')
    const store = await open(dir, { create: true })
    expect((await store.head()).size).toBe(0)
    await appendSome(store, 1)
  })

  it.each([
    ['garbage', 'not json at all {'],
    ['an array', '[1,2]'],
    ['another format', '{"format":"something-else","version":1,"segmentBytes":10}'],
    ['a newer version', '{"format":"baton-ledger","version":2,"segmentBytes":10}'],
    ['a bad segment size', '{"format":"baton-ledger","version":1,"segmentBytes":-4}'],
  ])('fails with CORRUPT naming the marker file when it holds %s', async (_, text) => {
    const dir = await tempDir()
    const store = await openFileStore(dir, { create: true })
    await store.close()
    const marker = join(dir, 'baton-ledger.json')
    await writeFile(marker, text)
    for (const options of [{}, { create: true }]) {
      const e = await caught(openFileStore(dir, options))
      expect(isBatonError(e, 'CORRUPT')).toBe(true)
      expect(e.file).toBe(marker)
      expect(e.message).toContain(marker)
    }
    expect(await readFile(marker, 'utf8')).toBe(text)
  })

  it.each<[string, Record<string, unknown>]>([
    ['segmentBytes', { segmentBytes: 0 }],
    ['segmentBytes', { segmentBytes: -1 }],
    ['segmentBytes', { segmentBytes: 1.5 }],
    ['segmentBytes', { segmentBytes: '64' }],
    ['lockTimeoutMs', { lockTimeoutMs: -1 }],
    ['lockTimeoutMs', { lockTimeoutMs: Number.NaN }],
    ['create', { create: 'yes' }],
    ['onRecover', { onRecover: 'log' }],
    ['readOnly', { readOnly: 1 }],
  ])('rejects a bad %s option with InvalidInputError naming it (%j)', async (name, options) => {
    const dir = await tempDir()
    const e = await caught(openFileStore(dir, { create: true, ...options } as FileStoreOptions))
    expect(isBatonError(e, 'INVALID_INPUT')).toBe(true)
    expect(e.path).toBe(name)
    expect(await readdir(dir)).toEqual([])
  })

  it('rejects a bad directory argument with InvalidInputError naming dir', async () => {
    for (const dir of ['', 42, undefined]) {
      const e = await caught(openFileStore(dir as string, { create: true }))
      expect(e.path).toBe('dir')
    }
  })

  it('rejects entries holding a newline or non-consecutive seqs, writing nothing', async () => {
    const dir = await tempDir()
    const store = await open(dir, { create: true })
    const ok = Buffer.from('{}')
    const e1 = await caught(
      store.append([
        { seq: 0, bytes: ok, hash: leafHash(ok) },
        { seq: 1, bytes: Buffer.from('{\n}'), hash: leafHash('x') },
      ]),
    )
    expect(e1.path).toBe('entries[1].bytes')
    const e2 = await caught(
      store.append([
        { seq: 0, bytes: ok, hash: leafHash(ok) },
        { seq: 2, bytes: ok, hash: leafHash(ok) },
      ]),
    )
    expect(e2.path).toBe('entries[1].seq')
    await store.append([])
    expect((await stat(segPath(dir, 0))).size).toBe(0)
  })
})

describe('openFileStore: segments', () => {
  it('rolls to a new segment once the current one reaches segmentBytes, and reads across them', async () => {
    const dir = await tempDir()
    const store = await open(dir, { create: true, segmentBytes: 1500 })
    const ledger = createLedger({ store })
    const receipts = []
    for (let i = 0; receipts.length < 120; i++) {
      const n = 1 + (i % 7)
      receipts.push(
        ...(await ledger.appendBatch(
          Array.from({ length: n }, (_, k) => ({ type: 'test.roll', data: { i, k } })),
        )),
      )
    }
    // One batch far larger than a segment stays whole in one segment.
    const big = await ledger.appendBatch(
      Array.from({ length: 40 }, (_, k) => ({ type: 'test.big', data: { k } })),
    )
    receipts.push(...big)
    const names = (await readdir(join(dir, 'segments'))).sort()
    expect(names.length).toBeGreaterThan(10)
    const firsts = names.map((n) => Number(n.slice(0, 20)))
    expect(firsts[0]).toBe(0)
    for (const [i, name] of names.entries()) {
      const text = await readFile(join(dir, 'segments', name), 'utf8')
      expect(text.endsWith('\n')).toBe(true)
      const lines = text.slice(0, -1).split('\n')
      expect(JSON.parse(lines[0]!).seq).toBe(firsts[i])
      if (i < names.length - 1) {
        expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(1500)
        expect(firsts[i]! + lines.length).toBe(firsts[i + 1])
      }
    }
    expect(firsts).toContain(big[0]!.seq)
    expect(firsts).not.toContain(big[1]!.seq)
    const chain = await readStoreChain(store)
    expect(chain.map((c) => c.hash)).toEqual(receipts.map((r) => r.hash))
    for (const [from, to] of [
      [0, 5],
      [3, 60],
      [57, 58],
      [100, 200],
      [firsts[3]!, firsts[5]!],
      [firsts[3]! - 1, firsts[3]! + 1],
    ] as const) {
      const got = []
      for await (const line of store.read(from, to)) got.push(leafHash(line.bytes))
      expect(got).toEqual(chain.slice(from, to).map((c) => c.hash))
    }
    const reopened = await open(dir)
    expect(await reopened.head()).toEqual(await store.head())
    const next = await createLedger({ store: reopened }).append({ type: 'test.next', data: {} })
    expect(next.prev).toBe(receipts.at(-1)!.hash)
  })

  it('rawSegments yields every segment file byte for byte, in order', async () => {
    const dir = await tempDir()
    const store = await open(dir, { create: true, segmentBytes: 700 })
    await appendSome(store, 30)
    const names = (await readdir(join(dir, 'segments'))).sort()
    const seen: string[] = []
    for await (const seg of store.rawSegments()) {
      const parts: Buffer[] = []
      for await (const chunk of seg.chunks) parts.push(Buffer.from(chunk))
      expect(Buffer.concat(parts).equals(await readFile(seg.name))).toBe(true)
      seen.push(seg.name)
    }
    expect(seen).toEqual(names.map((n) => join(dir, 'segments', n)))
  })

  it('continues from an empty last segment left by a writer that died after creating it', async () => {
    const dir = await tempDir()
    const store = await open(dir, { create: true, segmentBytes: 300 })
    const receipts = await appendSome(store, 3)
    await store.close()
    await writeFile(segPath(dir, 3), '')
    const again = await open(dir)
    expect(await again.head()).toEqual({ size: 3, hash: receipts.at(-1)!.hash })
    const next = await createLedger({ store: again }).append({ type: 'test.next', data: {} })
    expect(next.prev).toBe(receipts.at(-1)!.hash)
    expect((await readFile(segPath(dir, 3), 'utf8')).split('\n')).toHaveLength(2)
  })
})

/** The canonical text of a receipt that could follow `prev` at `seq`. */
function nextLine(seq: number, prev: string): string {
  return envelopeText(
    seq,
    '01968f0e-5f2a-7c3d-8e4f-0123456789ab',
    '2026-11-23T10:00:00.000Z',
    'test.torn',
    prev,
    '{"x":1}',
  )
}

describe('openFileStore: torn writes', () => {
  const shapes: [string, (seq: number, prev: string) => Buffer][] = [
    ['a partial line', (seq, prev) => Buffer.from(nextLine(seq, prev).slice(0, 57))],
    ['a complete receipt without its newline', (seq, prev) => Buffer.from(nextLine(seq, prev))],
    ['a run of zero bytes (as after a power cut)', () => Buffer.alloc(4096)],
    ['random garbage', () => Buffer.from('\u00ff\u0001garbage{{{"seq":9', 'latin1')],
  ]

  it.each(shapes)('truncates %s at the tail on open and reports it', async (_, make) => {
    const dir = await tempDir()
    const store = await open(dir, { create: true })
    const receipts = await appendSome(store, 5)
    await store.close()
    const file = segPath(dir, 0)
    const good = (await stat(file)).size
    const torn = make(5, receipts[4]!.hash)
    await appendFile(file, torn)
    const seen: FileStoreRecovery[] = []
    const again = await open(dir, { onRecover: (r) => seen.push(r) })
    const expected = { file, offset: good, bytesDropped: torn.length }
    expect(again.recovered).toEqual([expected])
    expect(seen).toEqual([expected])
    expect((await stat(file)).size).toBe(good)
    const chain = await readStoreChain(again)
    expect(chain.map((c) => c.hash)).toEqual(receipts.map((r) => r.hash))
    const next = await createLedger({ store: again }).append({ type: 'test.next', data: {} })
    expect(next).toMatchObject({ seq: 5, prev: receipts[4]!.hash })
  })

  it('truncates a segment that holds only a torn line back to empty', async () => {
    const dir = await tempDir()
    const store = await open(dir, { create: true, segmentBytes: 200 })
    const receipts = await appendSome(store, 2)
    await store.close()
    const file = segPath(dir, 2)
    await writeFile(file, nextLine(2, receipts[1]!.hash).slice(0, 30))
    const again = await open(dir)
    expect(again.recovered).toEqual([{ file, offset: 0, bytesDropped: 30 }])
    expect(await again.head()).toEqual({ size: 2, hash: receipts[1]!.hash })
  })

  it('never drops a complete line: a corrupt last line fails the open with CORRUPT', async () => {
    const dir = await tempDir()
    const store = await open(dir, { create: true })
    await appendSome(store, 2)
    await store.close()
    const file = segPath(dir, 0)
    await appendFile(file, 'this is not a receipt\n')
    const before = await readFile(file)
    const e = await caught(openFileStore(dir))
    expect(isBatonError(e, 'CORRUPT')).toBe(true)
    expect(e.file).toBe(file)
    expect((await readFile(file)).equals(before)).toBe(true)
  })

  it('truncates a torn tail another writer left behind when the next commit finds it', async () => {
    const dir = await tempDir()
    const seen: FileStoreRecovery[] = []
    const store = await open(dir, { create: true, onRecover: (r) => seen.push(r) })
    const receipts = await appendSome(store, 3)
    const file = segPath(dir, 0)
    const good = (await stat(file)).size
    await appendFile(file, nextLine(3, receipts[2]!.hash).slice(0, 40))
    const ledger = createLedger({ store })
    const next = await ledger.append({ type: 'test.next', data: {} })
    expect(next).toMatchObject({ seq: 3, prev: receipts[2]!.hash })
    expect(seen).toEqual([{ file, offset: good, bytesDropped: 40 }])
    expect(store.recovered).toEqual(seen)
    expect((await readStoreChain(store)).map((c) => c.hash)).toEqual([
      ...receipts.map((r) => r.hash),
      next.hash,
    ])
  })
})

describe('openFileStore: readOnly', () => {
  it('reads without writing anything: a torn tail is left in place and shown raw, no lock is made', async () => {
    const dir = await tempDir()
    const writer = await openFileStore(dir, { create: true })
    const receipts = await appendSome(writer, 3)
    await writer.close()
    await rm(join(dir, 'baton-ledger.lock'))
    const file = segPath(dir, 0)
    await appendFile(file, '{"data":{},"id":"torn')
    const before = await readFile(file)
    const reader = await open(dir, { readOnly: true })
    expect(await reader.head()).toEqual({ size: 3, hash: receipts[2]!.hash })
    expect((await readStoreChain(reader)).map((c) => c.hash)).toEqual(receipts.map((r) => r.hash))
    expect(reader.recovered).toEqual([])
    const raw: Buffer[] = []
    for await (const seg of reader.rawSegments()) {
      expect(seg.size).toBe(before.length)
      for await (const chunk of seg.chunks) raw.push(Buffer.from(chunk))
    }
    expect(Buffer.concat(raw).equals(before)).toBe(true)
    const e = await caught(createLedger({ store: reader }).append({ type: 'test.no', data: {} }))
    expect(isBatonError(e, 'IO')).toBe(true)
    expect(e.message).toContain('read-only')
    expect((await readFile(file)).equals(before)).toBe(true)
    expect(existsSync(join(dir, 'baton-ledger.lock'))).toBe(false)
  })

  it('follows appends made by a writer, and ignores a writer holding the lock', async () => {
    const dir = await tempDir()
    const writer = await open(dir, { create: true, segmentBytes: 400 })
    const reader = await open(dir, { readOnly: true })
    expect((await reader.head()).size).toBe(0)
    const receipts = await appendSome(writer, 12)
    expect(await reader.head()).toEqual({ size: 12, hash: receipts.at(-1)!.hash })
    const holder = await holdLock(writer.lockPath)
    const again = await open(dir, { readOnly: true, lockTimeoutMs: 50 })
    expect(await readStoreChain(again)).toHaveLength(12)
    await killAndWait(holder)
  })

  it('opens a ledger whose last complete line is corrupt, so it can be verified', async () => {
    const dir = await tempDir()
    const writer = await open(dir, { create: true })
    await appendSome(writer, 3)
    await writer.close()
    const file = segPath(dir, 0)
    await appendFile(file, 'not a receipt\n')
    const before = await readFile(file)
    const reader = await open(dir, { readOnly: true })
    const raw: Buffer[] = []
    for await (const seg of reader.rawSegments()) {
      for await (const chunk of seg.chunks) raw.push(Buffer.from(chunk))
    }
    expect(Buffer.concat(raw).equals(before)).toBe(true)
    expect(isBatonError(await caught(reader.head()), 'CORRUPT')).toBe(true)
    // A writer refuses the same ledger rather than guessing its head.
    expect(isBatonError(await caught(openFileStore(dir)), 'CORRUPT')).toBe(true)
    expect((await readFile(file)).equals(before)).toBe(true)
  })

  it('refuses readOnly with create, and a missing ledger with NOT_FOUND', async () => {
    const dir = await tempDir()
    const e1 = await caught(openFileStore(dir, { readOnly: true, create: true }))
    expect(e1.path).toBe('readOnly')
    const e2 = await caught(initFileStore(dir, { readOnly: true }))
    expect(e2.path).toBe('readOnly')
    const e3 = await caught(openFileStore(dir, { readOnly: true }))
    expect(isBatonError(e3, 'NOT_FOUND')).toBe(true)
    expect(await readdir(dir)).toEqual([])
  })
})

/** Starts a process that takes the writer lock the way the store does, optionally writes torn bytes, and hangs. */
function holdLock(lockPath: string, file?: string, torn?: string): Promise<ChildProcess> {
  const code = `
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite')
    const [lockPath, file, torn] = process.argv.slice(1)
    const db = new DatabaseSync(lockPath, { timeout: 0 })
    db.exec('BEGIN EXCLUSIVE')
    if (file) require('node:fs').appendFileSync(file, torn)
    process.stdout.write('locked\\n')
    setInterval(() => {}, 1000)
  `
  const args = ['-e', code, lockPath, ...(file === undefined ? [] : [file, torn ?? ''])]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the lock holder did not start')), 10_000)
    child.stdout.once('data', () => {
      clearTimeout(timer)
      resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)))
  })
}

function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

describe('openFileStore: writer lock and crashes', () => {
  it('waits for a live lock holder, fails with LOCKED naming the lock after the bound, and recovers at once when the holder is SIGKILLed mid-commit', async () => {
    const dir = await tempDir()
    const store = await open(dir, { create: true, lockTimeoutMs: 300 })
    const receipts = await appendSome(store, 4)
    const file = segPath(dir, 0)
    const good = (await stat(file)).size
    const torn = nextLine(4, receipts[3]!.hash).slice(0, 70)
    const holder = await holdLock(store.lockPath, file, torn)

    const ledger = createLedger({ store })
    let t = performance.now()
    const e = await caught(ledger.append({ type: 'test.blocked', data: {} }))
    const waited = performance.now() - t
    expect(isBatonError(e, 'LOCKED')).toBe(true)
    expect(e.message).toContain(store.lockPath)
    expect(waited).toBeGreaterThanOrEqual(250)
    expect(waited).toBeLessThan(5_000)
    const e2 = await caught(openFileStore(dir, { lockTimeoutMs: 100 }))
    expect(isBatonError(e2, 'LOCKED')).toBe(true)

    await killAndWait(holder)
    t = performance.now()
    const next = await ledger.append({ type: 'test.after', data: {} })
    expect(performance.now() - t).toBeLessThan(2_000)
    expect(next).toMatchObject({ seq: 4, prev: receipts[3]!.hash })
    expect(store.recovered).toEqual([{ file, offset: good, bytesDropped: torn.length }])
    expect(await readStoreChain(store)).toHaveLength(5)
  })

  it('loses no acknowledged receipt when appending processes are SIGKILLed at random moments', async () => {
    requireDist()
    const dir = await tempDir()
    const first = await open(dir, { create: true, segmentBytes: 8192 })
    await first.close()
    const acked: WorkerAck[] = []
    for (let round = 0; round < 3; round++) {
      const workers = [0, 1].map((w) =>
        spawnAppendWorker(
          {
            module: DIST_INDEX,
            exportName: 'openFileStore',
            args: [dir],
            concurrency: 16,
            tag: `r${round}w${w}`,
          },
          { workerPath: DIST_WORKER, timeoutMs: 30_000 },
        ),
      )
      try {
        await Promise.all(workers.map((w) => w.waitForAcks(1 + Math.floor(Math.random() * 50))))
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 150))
        workers[0]!.kill('SIGKILL')
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 30))
        workers[1]!.kill('SIGKILL')
        const exits = await Promise.all(workers.map((w) => w.exited))
        for (const exit of exits) expect(exit).toMatchObject({ signal: 'SIGKILL', timedOut: false })
      } finally {
        for (const w of workers) w.kill()
      }
      acked.push(...workers.flatMap((w) => w.acks))
      const store = await open(dir)
      const chain = await readStoreChain(store)
      const lost = acked.filter((a) => chain[a.seq]?.hash !== a.hash || chain[a.seq]?.id !== a.id)
      expect(lost).toEqual([])
      expect(new Set(chain.map((c) => c.id)).size).toBe(chain.length)
      const next = await createLedger({ store }).append({
        type: 'test.after-crash',
        data: { round },
      })
      expect(next).toMatchObject({ seq: chain.length, prev: chain.at(-1)!.hash })
      await store.close()
    }
    expect(acked.length).toBeGreaterThan(6)
  }, 120_000)
})
