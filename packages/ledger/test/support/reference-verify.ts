/**
 * A deliberately naive reference verifier for cross-checking `verify()`.
 *
 * It implements the rules documented in `src/_chain-check.ts` on whole
 * arrays, with none of the fast verifier's machinery: every line is decoded
 * with `JSON.parse`, canonical form is checked with the independent
 * `canonicalize` package, hashes come from `createHash`, and the ordering and
 * link rules run as separate passes over maps with no window.
 */
import { createHash } from 'node:crypto'
import canonicalizeRef from 'canonicalize'
import {
  bytesToHex,
  hexToBytes,
  merkleRoot,
  type NoteVerifier,
  openCheckpoint,
} from '../../src/index.js'

export interface RefProblem {
  kind: string
  seq?: number
  line?: number
}

export interface RefReport {
  status: 'VERIFIED' | 'FAILED'
  checked: number
  valid: number
  size: number
  head: string | null
  problems: RefProblem[]
}

const ZERO = '0'.repeat(64)
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const TYPE = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/
const HEX = /^[0-9a-f]{64}$/

function refHash(bytes: Buffer): string {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(bytes)
    .digest('hex')
}

function jsonOk(v: unknown, depth: number): boolean {
  if (depth > 128) return false
  if (typeof v === 'string') return v.isWellFormed()
  if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER
  if (v === null || typeof v === 'boolean') return true
  if (Array.isArray(v)) return v.every((x) => jsonOk(x, depth + 1))
  return Object.entries(v as object).every(([k, x]) => k.isWellFormed() && jsonOk(x, depth + 1))
}

interface Rec {
  seq: number
  hash: string
  prev: string
  line: number
}

/** Parses one line; returns the receipt or null when it is not a canonical receipt. */
export function refParse(bytes: Buffer, line: number): Rec | null {
  let text: string
  let v: Record<string, unknown>
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
  const keys = Object.keys(v).sort().join(',')
  if (keys !== 'data,id,prev,seq,ts,type,v') return null
  try {
    if (canonicalizeRef(v) !== text) return null
  } catch {
    return null // e.g. a lone surrogate
  }
  const { data, id, prev, seq, ts, type } = v as Record<string, never>
  if (v.v !== 1) return null
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null
  if (!jsonOk(data, 1)) return null
  if (typeof id !== 'string' || !UUID7.test(id)) return null
  if (typeof prev !== 'string' || !HEX.test(prev)) return null
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return null
  if (typeof ts !== 'string' || !TS.test(ts)) return null
  if (Number.isNaN(Date.parse(ts)) || new Date(ts).toISOString() !== ts) return null
  if (typeof type !== 'string' || !TYPE.test(type) || (type as string).length > 128) return null
  return { seq, hash: refHash(bytes), prev, line }
}

type Slot =
  | { state: 'normal'; rec: Rec }
  | { state: 'excluded'; rec: Rec }
  | { state: 'malformed' }
  | { state: 'missing' }

/** Verifies the JSONL `text` by the documented rules. */
export function referenceVerify(
  text: Buffer,
  options: {
    start?: { seq: number; prev: string }
    trusted?: { size: number; hash: string }
    checkpoint?: { note: string | Uint8Array; keys: readonly NoteVerifier[] }
  } = {},
): RefReport {
  const start = options.start ?? { seq: 0, prev: ZERO }
  const problems: RefProblem[] = []
  const lineProblem = new Set<number>()
  const lineReport = (p: RefProblem): void => {
    problems.push(p)
    lineProblem.add(p.line!)
  }

  // Split into lines; a last piece without newline is a torn line.
  const lines: { bytes: Buffer; torn: boolean }[] = []
  let pos = 0
  while (pos < text.length) {
    const nl = text.indexOf(10, pos)
    if (nl < 0) {
      lines.push({ bytes: text.subarray(pos), torn: true })
      break
    }
    lines.push({ bytes: text.subarray(pos, nl), torn: false })
    pos = nl + 1
  }

  // Pass 1: placement.
  const slots = new Map<number, Slot>()
  const early = new Map<number, Rec>()
  const lateFilled = new Set<number>()
  let expected = start.seq
  let held: Rec | null = null

  const place = (seq: number, slot: Slot): void => {
    slots.set(seq, slot)
    expected = seq + 1
    while (early.has(expected)) {
      const r = early.get(expected)!
      early.delete(expected)
      slots.set(expected, { state: 'excluded', rec: r })
      expected++
    }
  }
  const skipTo = (to: number): void => {
    // Seqs [expected, to) that never arrived (set-aside early ones take their place).
    while (expected < to) {
      const r = early.get(expected)
      if (r !== undefined) {
        early.delete(expected)
        slots.set(expected, { state: 'excluded', rec: r })
      } else {
        slots.set(expected, { state: 'missing' })
      }
      expected++
    }
  }
  const resolveHeld = (next: Rec | null): void => {
    const h = held!
    held = null
    const e = expected
    if (next !== null && (next.seq === e || (next.seq === e + 1 && h.seq > e + 1))) {
      lineReport({ kind: 'reorder', seq: h.seq, line: h.line })
      early.set(h.seq, h)
      return
    }
    skipTo(h.seq)
    place(h.seq, { state: 'normal', rec: h })
  }
  const sameSeq = (r: Rec, first: Rec): void => {
    lineReport({ kind: r.hash === first.hash ? 'duplicate' : 'fork', seq: r.seq, line: r.line })
  }

  lines.forEach((l, i) => {
    const lineNo = i + 1
    const rec = l.torn ? null : refParse(l.bytes, lineNo)
    if (rec === null) {
      if (held !== null) resolveHeld(null)
      lineReport({ kind: 'malformed', seq: expected, line: lineNo })
      place(expected, { state: 'malformed' })
      return
    }
    if (held !== null) resolveHeld(rec)
    if (rec.seq < expected) {
      const slot = slots.get(rec.seq)
      if (slot !== undefined && (slot.state === 'normal' || slot.state === 'excluded')) {
        sameSeq(rec, slot.rec)
      } else {
        if (slot?.state === 'missing') lateFilled.add(rec.seq)
        lineReport({ kind: 'reorder', seq: rec.seq, line: lineNo })
      }
      return
    }
    const e = early.get(rec.seq)
    if (e !== undefined) {
      sameSeq(rec, e)
      return
    }
    if (rec.seq === expected) place(rec.seq, { state: 'normal', rec })
    else held = rec
  })
  if (held !== null) resolveHeld(null)
  while (early.size > 0) {
    const m = Math.min(...early.keys())
    skipTo(m)
    const r = early.get(m)!
    early.delete(m)
    place(m, { state: 'excluded', rec: r })
  }

  // Pass 2: links in seq order, then the pairing rule.
  const size = expected
  type Link = 'ok' | 'broken' | 'unknown'
  const link = (x: number): Link => {
    const s = slots.get(x)
    if (s?.state !== 'normal') return 'unknown'
    if (x === start.seq) return s.rec.prev === start.prev ? 'ok' : 'broken'
    const p = slots.get(x - 1)
    if (p?.state !== 'normal') return 'unknown'
    return s.rec.prev === p.rec.hash ? 'ok' : 'broken'
  }
  for (let x = start.seq; x < size; x++) {
    if (link(x) !== 'broken') continue
    const next: Link = x + 1 < size ? link(x + 1) : 'unknown'
    const rec = (slots.get(x) as { rec: Rec }).rec
    const before = slots.get(x - 1)
    if (next === 'ok' && x > start.seq && before?.state === 'normal') {
      lineReport({ kind: 'hash-mismatch', seq: x - 1, line: before.rec.line })
    } else {
      lineReport({ kind: 'broken-link', seq: x, line: rec.line })
      if (next === 'broken') x++ // explained by this one
    }
  }

  // Gaps: maximal runs of missing seqs that no late receipt filled.
  let run: number | null = null
  for (let x = start.seq; x <= size; x++) {
    const isGap = x < size && slots.get(x)?.state === 'missing' && !lateFilled.has(x)
    if (isGap && run === null) run = x
    if (!isGap && run !== null) {
      problems.push({ kind: 'gap', seq: run })
      run = null
    }
  }

  const headSlot = slots.get(size - 1)
  let head: string | null =
    headSlot?.state === 'normal' || headSlot?.state === 'excluded' ? headSlot.rec.hash : null
  if (size === start.seq) head = start.prev
  if (size === 0) head = ZERO

  const trusted = options.trusted
  if (trusted !== undefined) {
    if (size < trusted.size) problems.push({ kind: 'truncated', seq: size })
    else if (trusted.size > 0) {
      const s = slots.get(trusted.size - 1)
      const h = s?.state === 'normal' || s?.state === 'excluded' ? s.rec.hash : null
      if (h !== trusted.hash) problems.push({ kind: 'fork', seq: trusted.size - 1 })
    }
  }

  // A checkpoint: signature first; then size; then the root of the first
  // `size` receipts in place (none if one of them is missing or malformed).
  if (options.checkpoint !== undefined) {
    let cp: { size: number; root: Uint8Array } | undefined
    try {
      cp = openCheckpoint(options.checkpoint.note, options.checkpoint.keys)
    } catch {
      problems.push({ kind: 'bad-signature' })
    }
    if (cp !== undefined) {
      if (size < cp.size) problems.push({ kind: 'truncated', seq: size })
      else {
        const leaves: Uint8Array[] = []
        for (let x = 0; x < cp.size; x++) {
          const s = slots.get(x)
          if (s?.state !== 'normal' && s?.state !== 'excluded') break
          leaves.push(hexToBytes(s.rec.hash))
        }
        const root = leaves.length === cp.size ? bytesToHex(merkleRoot(leaves)) : null
        if (root !== bytesToHex(cp.root)) {
          problems.push(cp.size > 0 ? { kind: 'fork', seq: cp.size - 1 } : { kind: 'fork' })
        }
      }
    }
  }

  return {
    status: problems.length === 0 ? 'VERIFIED' : 'FAILED',
    checked: lines.length,
    valid: lines.length - lineProblem.size,
    size,
    head,
    problems,
  }
}
