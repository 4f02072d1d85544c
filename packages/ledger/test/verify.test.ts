import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createLedger,
  createMemoryStore,
  generateKeyPair,
  hexToBytes,
  InvalidInputError,
  leafHash,
  merkleRoot,
  type NoteVerifier,
  openFileStore,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  type VerifyOptions,
  type VerifyReport,
  verify,
  ZERO_HASH,
} from '../src/index.js'
import { buildFork, buildLines, jsonl } from './support/ledgers.js'
import { type RefReport, referenceVerify } from './support/reference-verify.js'

const N = 12
let lines: Buffer[]
let hashes: string[]

beforeAll(async () => {
  lines = await buildLines(N)
  hashes = lines.map((l) => leafHash(l))
})

function fast(text: Buffer, options?: VerifyOptions): Promise<VerifyReport> {
  return verify([text], options)
}

interface Summary {
  status: string
  checked: number
  valid: number
  size: number
  head: string | null
  problems: string[]
}

function summarize(r: VerifyReport | RefReport): Summary {
  return {
    status: r.status,
    checked: r.checked,
    valid: r.valid,
    size: r.size,
    head: r.head,
    problems: r.problems
      .map((p) => `${p.kind}@${p.seq ?? '-'}@${p.line ?? '-'}`)
      .sort((a, b) => a.localeCompare(b)),
  }
}

/** Verifies with both verifiers, asserts they agree, returns the fast summary. */
async function both(text: Buffer, options: VerifyOptions = {}): Promise<Summary> {
  const f = summarize(await fast(text, options))
  const r = summarize(
    referenceVerify(text, {
      ...(options.start ? { start: options.start } : {}),
      ...(options.trusted ? { trusted: options.trusted } : {}),
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    }),
  )
  expect(f, `fast and reference verifiers disagree on:\n${text.toString()}`).toEqual(r)
  return f
}

describe('verify: intact ledgers', () => {
  it('verifies a clean ledger and reports its size and head', async () => {
    const report = await fast(jsonl(lines))
    expect(report.status).toBe('VERIFIED')
    expect(report.checked).toBe(N)
    expect(report.valid).toBe(N)
    expect(report.size).toBe(N)
    expect(report.head).toBe(hashes[N - 1])
    expect(report.problems).toEqual([])
    expect(Object.values(report.counts).every((c) => c === 0)).toBe(true)
    await both(jsonl(lines))
  })

  it('verifies an empty ledger', async () => {
    const report = await fast(Buffer.alloc(0))
    expect(report).toMatchObject({ status: 'VERIFIED', checked: 0, size: 0, head: ZERO_HASH })
  })

  it('gives the same report whatever the chunking', async () => {
    const text = jsonl(lines)
    const whole = await fast(text)
    for (const size of [1, 2, 7, 64, 333, 4096]) {
      const chunks: Buffer[] = []
      for (let i = 0; i < text.length; i += size) chunks.push(text.subarray(i, i + size))
      expect(await verify(chunks)).toEqual(whole)
    }
  })

  it('verifies a store through its read path', async () => {
    const store = createMemoryStore()
    const ledger = createLedger({ store })
    for (let i = 0; i < 5; i++) await ledger.append({ type: 'a.b', data: { i } })
    const report = await verify(store)
    expect(report).toMatchObject({ status: 'VERIFIED', checked: 5, size: 5 })
    expect(report.head).toBe((await store.head()).hash)
  })

  it('verifies a part of a ledger from an anchor', async () => {
    const part = jsonl(lines.slice(5))
    const ok = await both(part, { start: { seq: 5, prev: hashes[4]! } })
    expect(ok).toMatchObject({ status: 'VERIFIED', size: N, checked: N - 5 })
    const bad = await both(part, { start: { seq: 5, prev: hashes[3]! } })
    expect(bad.problems).toEqual(['broken-link@5@1'])
  })
})

describe('verify: tampering', () => {
  it('finds a changed receipt as a hash mismatch on that receipt', async () => {
    const t = lines.map((l) => Buffer.from(l))
    const i = t[4]!.indexOf('plain 4')
    t[4]![i] = 'P'.charCodeAt(0)
    const s = await both(jsonl(t))
    expect(s.status).toBe('FAILED')
    expect(s.problems).toEqual(['hash-mismatch@4@5'])
    expect(s.valid).toBe(N - 1)
  })

  it('finds an edited prev as a broken link on that receipt, not two problems', async () => {
    const t = lines.map((l) => Buffer.from(l))
    const at = t[6]!.indexOf('"prev":"') + 8
    t[6]![at] = t[6]![at] === 0x61 ? 0x62 : 0x61
    expect((await both(jsonl(t))).problems).toEqual(['broken-link@6@7'])
  })

  it('finds a deleted receipt as a gap', async () => {
    const t = lines.filter((_, i) => i !== 3)
    expect((await both(jsonl(t))).problems).toEqual(['gap@3@-'])
    const t2 = lines.filter((_, i) => i < 3 || i > 6)
    expect((await both(jsonl(t2))).problems).toEqual(['gap@3@-'])
  })

  it('finds a duplicated receipt', async () => {
    const t = [...lines.slice(0, 5), lines[4]!, ...lines.slice(5)]
    expect((await both(jsonl(t))).problems).toEqual(['duplicate@4@6'])
    const far = [...lines, lines[2]!]
    expect((await both(jsonl(far))).problems).toEqual([`duplicate@2@${N + 1}`])
  })

  it('finds swapped receipts as one reorder', async () => {
    const t = [...lines]
    ;[t[5], t[6]] = [t[6]!, t[5]!]
    expect((await both(jsonl(t))).problems).toEqual(['reorder@6@6'])
  })

  it('finds a receipt moved later as one reorder', async () => {
    const t = [...lines.slice(0, 3), ...lines.slice(4, 7), lines[3]!, ...lines.slice(7)]
    expect((await both(jsonl(t))).problems).toEqual(['reorder@3@7'])
  })

  it('finds a torn last line, trailing garbage and an empty line as malformed', async () => {
    const torn = Buffer.concat([jsonl(lines.slice(0, -1)), lines[N - 1]!.subarray(0, 40)])
    const s1 = await both(torn)
    expect(s1.problems).toEqual([`malformed@${N - 1}@${N}`])
    const complete = Buffer.concat([jsonl(lines.slice(0, -1)), lines[N - 1]!])
    expect((await both(complete)).problems).toEqual([`malformed@${N - 1}@${N}`])
    const garbage = Buffer.concat([jsonl(lines), Buffer.from('garbage\n{"x":1}\n')])
    expect((await both(garbage)).problems).toEqual([
      `malformed@${N}@${N + 1}`,
      `malformed@${N + 1}@${N + 2}`,
    ])
    const empty = jsonl([...lines.slice(0, 2), Buffer.alloc(0), ...lines.slice(2)])
    const r = await fast(empty)
    expect(r.problems[0]).toMatchObject({ kind: 'malformed', line: 3 })
    expect(r.problems[0]!.message).toContain('empty line')
    await both(empty)
  })

  it('finds a fork', async () => {
    const fork = await buildFork(lines, 8, 3)
    const s = await both(jsonl([...lines, ...fork]))
    expect(s.problems).toEqual([`fork@10@${N + 3}`, `fork@8@${N + 1}`, `fork@9@${N + 2}`])
  })

  it('finds truncation and divergence only against a trusted head', async () => {
    const short = jsonl(lines.slice(0, 9))
    expect((await both(short)).status).toBe('VERIFIED')
    const trusted = { size: N, hash: hashes[N - 1]! }
    expect((await both(short, { trusted })).problems).toEqual(['truncated@9@-'])
    expect((await both(jsonl(lines), { trusted })).status).toBe('VERIFIED')
    const fork = await buildFork(lines, 8, 4)
    const diverged = jsonl([...lines.slice(0, 8), ...fork])
    expect((await both(diverged)).status).toBe('VERIFIED')
    expect((await both(diverged, { trusted })).problems).toEqual([`fork@${N - 1}@-`])
  })

  it('catches every single-byte change in a middle receipt, agreeing with the reference', async () => {
    const k = 5
    let failed = 0
    for (let at = 0; at < lines[k]!.length; at++) {
      for (const mask of [0x01, 0x20, 0x80]) {
        const t = lines.map((l) => Buffer.from(l))
        t[k]![at]! ^= mask
        const s = await both(jsonl(t))
        expect(s.status, `byte ${at} ^ ${mask}`).toBe('FAILED')
        failed++
      }
    }
    expect(failed).toBe(lines[k]!.length * 3)
  })

  it('counts a line torn inside prev (a byte changed into a newline) as two lines', async () => {
    for (const k of [0, 5, N - 1]) {
      for (const offset of [0, 17, 63]) {
        const t = lines.map((l) => Buffer.from(l))
        t[k]![t[k]!.indexOf('"prev":"') + 8 + offset] = 10
        const s = await both(jsonl(t))
        expect(s.status).toBe('FAILED')
        expect((await fast(jsonl(t))).checked, `line ${k}, prev byte ${offset}`).toBe(N + 1)
      }
    }
  })

  it('catches every single-byte change in the last receipt given a trusted head', async () => {
    const trusted = { size: N, hash: hashes[N - 1]! }
    for (let at = 0; at < lines[N - 1]!.length; at++) {
      const t = lines.map((l) => Buffer.from(l))
      t[N - 1]![at]! ^= 0x01
      expect((await both(jsonl(t), { trusted })).status, `byte ${at}`).toBe('FAILED')
    }
  })

  it('agrees with the reference on random combinations of tampering', async () => {
    const fork = await buildFork(lines, 4, 6)
    const op = fc.oneof(
      fc.record({ kind: fc.constant('delete'), i: fc.nat() }),
      fc.record({ kind: fc.constant('duplicate'), i: fc.nat(), to: fc.nat() }),
      fc.record({ kind: fc.constant('swap'), i: fc.nat() }),
      fc.record({ kind: fc.constant('move'), i: fc.nat(), to: fc.nat() }),
      fc.record({
        kind: fc.constant('flip'),
        i: fc.nat(),
        at: fc.nat(),
        mask: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({ kind: fc.constant('garbage'), i: fc.nat(), text: fc.string({ maxLength: 12 }) }),
      fc.record({ kind: fc.constant('fork'), i: fc.nat(), j: fc.nat() }),
      fc.record({ kind: fc.constant('truncate'), i: fc.nat() }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (ops, tear) => {
          let t = lines.map((l) => Buffer.from(l))
          for (const o of ops) {
            if (t.length === 0) break
            const i = o.i % t.length
            switch (o.kind) {
              case 'delete':
                t.splice(i, 1)
                break
              case 'duplicate':
                t.splice(o.to % (t.length + 1), 0, Buffer.from(t[i]!))
                break
              case 'swap':
                if (i + 1 < t.length) [t[i], t[i + 1]] = [t[i + 1]!, t[i]!]
                break
              case 'move': {
                const [x] = t.splice(i, 1)
                t.splice(o.to % (t.length + 1), 0, x!)
                break
              }
              case 'flip':
                if (t[i]!.length > 0) t[i]![o.at % t[i]!.length]! ^= o.mask
                break
              case 'garbage':
                t.splice(i, 0, Buffer.from(o.text.replaceAll('\n', ' ')))
                break
              case 'fork':
                t.splice(i, 0, Buffer.from(fork[o.j % fork.length]!))
                break
              case 'truncate':
                t = t.slice(0, i)
                break
            }
          }
          let text = jsonl(t)
          if (tear && text.length > 10) text = text.subarray(0, text.length - 5)
          await both(text)
          await both(text, { trusted: { size: N, hash: hashes[N - 1]! } })
          await both(text, { checkpoint: checkpointOf(N) })
          await both(text, { checkpoint: checkpointOf(7) })
        },
      ),
      { numRuns: 400 },
    )
  })
})

const seed = (b: number): Uint8Array => new Uint8Array(32).fill(b)
const logKey = generateKeyPair('example.com/log', { seed: seed(1) })
const newKey = generateKeyPair('example.com/log-2027', { seed: seed(2) })
const otherKey = generateKeyPair('example.com/log', { seed: seed(3) })
const logSigner = parseSignerKey(logKey.signerKey)
const logVerifier: NoteVerifier = parseVerifierKey(logKey.verifierKey)

/** A checkpoint of the first `size` intact receipts, signed by the log key. */
function checkpointOf(size: number, signers = [logSigner]) {
  const root = merkleRoot(hashes.slice(0, size).map((h) => hexToBytes(h)))
  return {
    note: signCheckpoint({ origin: 'example.com/log', size, root }, signers),
    keys: [logVerifier],
  }
}

describe('verify: against a signed checkpoint', () => {
  it('verifies an intact ledger against checkpoints of any prefix', async () => {
    for (const size of [0, 1, 7, N]) {
      const report = await fast(jsonl(lines), { checkpoint: checkpointOf(size) })
      expect(report.status, `size ${size}`).toBe('VERIFIED')
      expect(report.checkpoint).toMatchObject({
        status: 'matches',
        origin: 'example.com/log',
        size,
        signedBy: ['example.com/log'],
      })
      expect(report.checkpoint!.ledgerRoot).toBe(report.checkpoint!.root)
      await both(jsonl(lines), { checkpoint: checkpointOf(size) })
    }
  })

  it('reports a tampered prefix as a fork of the checkpoint, a later change not', async () => {
    const t = lines.map((l) => Buffer.from(l))
    t[4]![t[4]!.indexOf('plain 4')] = 'P'.charCodeAt(0)
    const s = await both(jsonl(t), { checkpoint: checkpointOf(7) })
    expect(s.problems).toEqual(['fork@6@-', 'hash-mismatch@4@5'])
    const r = await fast(jsonl(t), { checkpoint: checkpointOf(7) })
    expect(r.checkpoint?.status).toBe('fork')
    expect(r.checkpoint?.ledgerRoot).not.toBe(r.checkpoint?.root)
    expect((await both(jsonl(t), { checkpoint: checkpointOf(4) })).problems).toEqual([
      'hash-mismatch@4@5',
    ])
    // The last receipt changed: nothing links to it, only the checkpoint catches it.
    const last = lines.map((l) => Buffer.from(l))
    last[N - 1]![last[N - 1]!.indexOf(`plain ${N - 1}`)] = 'P'.charCodeAt(0)
    expect((await both(jsonl(last))).status).toBe('VERIFIED')
    expect((await both(jsonl(last), { checkpoint: checkpointOf(N) })).problems).toEqual([
      `fork@${N - 1}@-`,
    ])
  })

  it('reports a truncated ledger, and a missing receipt inside the prefix', async () => {
    const short = await both(jsonl(lines.slice(0, 5)), { checkpoint: checkpointOf(7) })
    expect(short.problems).toEqual(['truncated@5@-'])
    const r = await fast(jsonl(lines.slice(0, 5)), { checkpoint: checkpointOf(7) })
    expect(r.checkpoint).toMatchObject({ status: 'truncated', size: 7, ledgerRoot: null })
    const gap = lines.filter((_, i) => i !== 2)
    const g = await both(jsonl(gap), { checkpoint: checkpointOf(7) })
    expect(g.problems).toEqual(['fork@6@-', 'gap@2@-'])
    const m = await fast(jsonl(gap), { checkpoint: checkpointOf(7) })
    expect(m.problems.find((p) => p.kind === 'fork')!.message).toMatch(/receipt 2 is missing/)
  })

  it('reports a forked ledger', async () => {
    const fork = await buildFork(lines, 8, 4)
    const diverged = jsonl([...lines.slice(0, 8), ...fork])
    expect((await both(diverged)).status).toBe('VERIFIED')
    expect((await both(diverged, { checkpoint: checkpointOf(N) })).problems).toEqual([
      `fork@${N - 1}@-`,
    ])
    expect((await both(diverged, { checkpoint: checkpointOf(8) })).status).toBe('VERIFIED')
    expect((await both(diverged, { checkpoint: checkpointOf(9) })).problems).toEqual(['fork@8@-'])
  })

  it('reports a checkpoint signed by an unknown key, or altered, as a bad signature', async () => {
    const foreign = {
      note: checkpointOf(N, [parseSignerKey(otherKey.signerKey)]).note,
      keys: [logVerifier],
    }
    const r = await fast(jsonl(lines.slice(0, 3)), { checkpoint: foreign })
    expect(r.status).toBe('FAILED')
    expect(r.problems.map((p) => p.kind)).toEqual(['bad-signature']) // no size or root check
    expect(r.problems[0]!.message).toMatch(/the checkpoint does not verify: .*no signature/)
    expect(r.checkpoint).toEqual({
      status: 'bad-signature',
      origin: null,
      size: null,
      root: null,
      ledgerRoot: null,
      signedBy: [],
    })
    await both(jsonl(lines), { checkpoint: foreign })
    const good = checkpointOf(N)
    const altered = { ...good, note: good.note.replace(`\n${N}\n`, `\n${N - 1}\n`) }
    expect(altered.note).not.toBe(good.note)
    expect((await both(jsonl(lines), { checkpoint: altered })).problems).toEqual([
      'bad-signature@-@-',
    ])
    const garbage = { ...good, note: 'not a note' }
    expect((await both(jsonl(lines), { checkpoint: garbage })).problems).toEqual([
      'bad-signature@-@-',
    ])
  })

  it('accepts a note signed with old and new keys by a verifier that knows one', async () => {
    const rotated = checkpointOf(N, [logSigner, parseSignerKey(newKey.signerKey)])
    for (const key of [logKey.verifierKey, newKey.verifierKey]) {
      const r = await fast(jsonl(lines), {
        checkpoint: { note: rotated.note, keys: [parseVerifierKey(key)] },
      })
      expect(r.status).toBe('VERIFIED')
      expect(r.checkpoint?.signedBy).toEqual([parseVerifierKey(key).name])
    }
    const both2 = await fast(jsonl(lines), {
      checkpoint: {
        note: rotated.note,
        keys: [logVerifier, parseVerifierKey(newKey.verifierKey)],
      },
    })
    expect(both2.checkpoint?.signedBy).toEqual(['example.com/log', 'example.com/log-2027'])
  })

  it('checks a file store against a checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-verify-cp-'))
    try {
      const store = await openFileStore(dir, { create: true, segmentBytes: 1500 })
      const ledger = createLedger({ store })
      for (let i = 0; i < 30; i++) await ledger.append({ type: 'a.b', data: { i } })
      const leaves: Uint8Array[] = []
      for await (const l of store.read()) leaves.push(hexToBytes(leafHash(l.bytes)))
      await ledger.close()
      const note = signCheckpoint(
        { origin: 'o', size: 25, root: merkleRoot(leaves.slice(0, 25)) },
        [logSigner],
      )
      const reader = await openFileStore(dir, { readOnly: true })
      const r = await verify(reader, { checkpoint: { note, keys: [logVerifier] } })
      await reader.close()
      expect(r.status).toBe('VERIFIED')
      expect(r.checkpoint?.status).toBe('matches')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('verify: a file store', () => {
  it('locates problems by segment file and line, and knows the total size up front', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-verify-'))
    try {
      const store = await openFileStore(dir, { create: true, segmentBytes: 1500 })
      const ledger = createLedger({ store })
      for (let i = 0; i < 40; i++) await ledger.append({ type: 'a.b', data: { i } })
      await ledger.close()
      const segs = (await readdir(join(dir, 'segments'))).sort()
      expect(segs.length).toBeGreaterThan(2)
      // Change receipt 1 of the second segment.
      const second = join(dir, 'segments', segs[1]!)
      const text = await readFile(second, 'utf8')
      const first = Number(segs[1]!.slice(0, 20))
      await writeFile(second, text.replace(`{"i":${first + 1}}`, `{"i":${first + 100}}`))
      const sizes = await Promise.all(
        segs.map(async (f) => (await stat(join(dir, 'segments', f))).size),
      )
      const total = sizes.reduce((a, b) => a + b, 0)
      const reader = await openFileStore(dir, { readOnly: true })
      const totals: (number | undefined)[] = []
      const report = await verify(reader, {
        progressEvery: 5,
        onProgress: (p) => totals.push(p.totalBytes),
      })
      await reader.close()
      expect(new Set(totals)).toEqual(new Set([total]))
      expect(report.problems).toHaveLength(1)
      expect(report.problems[0]).toMatchObject({
        kind: 'hash-mismatch',
        seq: first + 1,
        line: 2,
        file: second,
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('verify: options and reporting', () => {
  it('lists at most maxProblems but counts them all', async () => {
    const garbage = Buffer.from(Array.from({ length: 50 }, (_, i) => `bad ${i}\n`).join(''))
    const r = await fast(garbage, { maxProblems: 10 })
    expect(r.problems).toHaveLength(10)
    expect(r.problemsOmitted).toBe(40)
    expect(r.counts.malformed).toBe(50)
    expect(r.valid).toBe(0)
  })

  it('reports a duplicate beyond the comparison window as out of order', async () => {
    const t = [...lines, lines[1]!]
    const r = await fast(jsonl(t), { window: 4 })
    expect(r.problems.map((p) => p.kind)).toEqual(['reorder'])
    expect(r.problems[0]!.message).toContain('too far back')
  })

  it('names the line and explains malformed lines', async () => {
    const t = lines.map((l) => Buffer.from(l))
    t[2] = Buffer.from(t[2]!.toString().replace('"v":1', '"v":2'))
    t[3] = Buffer.from(t[3]!.toString().replace('{"data":{', '{"data": {'))
    const r = await fast(jsonl(t))
    const byLine = new Map(r.problems.map((p) => [p.line, p]))
    expect(byLine.get(3)).toMatchObject({ kind: 'malformed', seq: 2 })
    expect(byLine.get(3)!.message).toMatch(/line 3 .*v: must be 1/)
    expect(byLine.get(4)!.message).toMatch(/line 4 .*not in canonical form/)
  })

  it('reports progress and honours an abort signal', async () => {
    const seen: number[] = []
    await fast(jsonl(lines), { progressEvery: 5, onProgress: (p) => seen.push(p.checked) })
    expect(seen).toEqual([5, 10, N])
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(fast(jsonl(lines), { signal: controller.signal })).rejects.toThrow('stop')
  })

  it('rejects bad options naming them', async () => {
    const cases: [VerifyOptions, string][] = [
      [{ start: { seq: -1, prev: ZERO_HASH } }, 'start.seq'],
      [{ start: { seq: 0, prev: 'xyz' } }, 'start.prev'],
      [{ trusted: { size: 1.5, hash: ZERO_HASH } }, 'trusted.size'],
      [{ trusted: { size: 1, hash: 'nope' } }, 'trusted.hash'],
      [{ window: 1 }, 'window'],
      [{ checkpoint: { note: 'x', keys: [] } }, 'checkpoint.keys'],
      [{ checkpoint: { note: 5 as never, keys: [logVerifier] } }, 'checkpoint.note'],
      [{ checkpoint: checkpointOf(3), start: { seq: 1, prev: ZERO_HASH } }, 'checkpoint'],
    ]
    for (const [options, path] of cases) {
      const error = await fast(jsonl(lines), options).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidInputError)
      expect((error as InvalidInputError).path).toBe(path)
    }
  })
})
