/**
 * C2SP signed notes (c2sp.org/signed-note), byte-compatible with
 * `golang.org/x/mod/sumdb/note`.
 *
 * A note is UTF-8 text ending in a newline, then a blank line, then one or
 * more signature lines `— <key name> <base64(4-byte key ID ‖ signature)>\n`.
 * Signatures are over the text's UTF-8 bytes (final newline included, blank
 * line excluded). Verifiers ignore signatures from keys they do not know (by
 * name *and* key ID), so keys rotate by signing with the old and the new key
 * during an overlap, and witnesses can co-sign.
 *
 * Strictness, where Go's implementation is looser: base64 must be canonical
 * (padded, zero trailing bits), and every distinct signature line from a
 * known key is verified, so a bad one fails the note even after a good one.
 *
 * @module
 */

import { decodeBase64, describeCharacter, findBadCharacter, lineOf } from './_text.js'
import { type BatonErrorOptions, InvalidInputError, LedgerError } from './errors.js'
import {
  type Ed25519Verifier,
  formatKeyHash,
  keyNameProblem,
  type NoteSigner,
  type NoteVerifier,
} from './keys.js'

/**
 * Most signature lines a note may carry; a note with more is malformed. The
 * same cap as Go's `sumdb/note` (the spec requires accepting at least 16).
 */
export const MAX_NOTE_SIGNATURES = 100

/** The prefix of every signature line: em dash (U+2014) and a space. */
export const SIGNATURE_LINE_PREFIX = '\u2014 '

/** One signature line of a note, verified or not. */
export interface NoteSignature {
  /** Key name. */
  readonly name: string
  /** Key ID: the first 4 bytes of the decoded signature, big-endian. */
  readonly hash: number
  /** The signature exactly as written: base64 of key ID ‖ signature bytes. */
  readonly base64: string
}

/** A note split into its text and signature lines, nothing verified. */
export interface ParsedNote {
  /** The signed text, ending in a newline (the separating blank line excluded). */
  readonly text: string
  /** Every signature line, in order, duplicates included. */
  readonly signatures: readonly NoteSignature[]
}

/** A note whose signatures were checked against known keys by {@link openNote}. */
export interface OpenedNote {
  /** The signed text, ending in a newline. Trust it only because `verified` is non-empty. */
  readonly text: string
  /** One valid signature per known key that signed, in note order. */
  readonly verified: readonly NoteSignature[]
  /** Signatures from unknown keys (ignored), identical lines listed once, in note order. */
  readonly unverified: readonly NoteSignature[]
}

/** Options for {@link openNote}. */
export interface OpenNoteOptions {
  /**
   * When true, every given verifier must have a valid signature in the note
   * (e.g. the log key and a quorum of witnesses). Default false: at least one.
   */
  readonly requireAll?: boolean
}

/** A note's bytes do not follow the signed-note format. Nothing was verified. */
export class MalformedNoteError extends LedgerError {
  /** 1-based line of the note where the problem is, when it has one. */
  readonly line: number | undefined

  constructor(message: string, line?: number, options?: BatonErrorOptions) {
    super('BAD_SIGNATURE', line === undefined ? message : `note line ${line}: ${message}`, options)
    this.line = line
  }
}

/** Why {@link openNote} rejected a well-formed note. */
export type NoteVerificationProblem =
  /** No signature from any known key (all were from unknown keys). */
  | 'no-known-signature'
  /** A known key's signature does not verify: the text or signature was altered. */
  | 'invalid-signature'
  /** Two different verifiers share the name and key ID a signature names. */
  | 'ambiguous-key'
  /** With `requireAll`, a known key did not sign the note. */
  | 'missing-signature'

/** A note is well-formed but does not verify against the known keys. */
export class NoteVerificationError extends LedgerError {
  /** What went wrong. */
  readonly problem: NoteVerificationProblem
  /** The key concerned (not set for `'no-known-signature'`). */
  readonly key: { readonly name: string; readonly hash: number } | undefined
  /**
   * For `'no-known-signature'` and `'missing-signature'`: the note as parsed,
   * to inspect (its text is NOT trustworthy). Undefined otherwise.
   */
  readonly note: OpenedNote | undefined

  constructor(
    problem: NoteVerificationProblem,
    message: string,
    details: {
      readonly key?: { readonly name: string; readonly hash: number }
      readonly note?: OpenedNote
    } = {},
    options?: BatonErrorOptions,
  ) {
    super('BAD_SIGNATURE', message, options)
    this.problem = problem
    this.key = details.key
    this.note = details.note
  }
}

interface ParsedLine {
  readonly signature: NoteSignature
  /** Signature bytes after the 4-byte key ID. */
  readonly bytes: Uint8Array
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Splits a signed note into text and signature lines, checking the syntax
 * only (no signature is verified; use {@link openNote} for that).
 *
 * @param note - the note as text, or as bytes (which must be valid UTF-8).
 * @throws MalformedNoteError naming the problem and, where it has one, the line.
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  const parsed = parseLines(note)
  return { text: parsed.text, signatures: parsed.lines.map((line) => line.signature) }
}

/**
 * Opens a signed note: parses it and verifies its signatures against the
 * known keys. A signature counts as from a known key when both its name and
 * key ID match a verifier; others are ignored (listed in `unverified`).
 *
 * @param note - the note as text or UTF-8 bytes.
 * @param verifiers - the trusted keys (at least one).
 * @throws MalformedNoteError when the note is not well-formed.
 * @throws NoteVerificationError when a known key's signature is bad, when no
 *   known key signed, or (with `requireAll`) when some known key did not sign.
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: OpenNoteOptions = {},
): OpenedNote {
  const known = indexVerifiers(verifiers)
  const { text, lines } = parseLines(note)
  const message = Buffer.from(text, 'utf8')
  const verified: NoteSignature[] = []
  const unverified: NoteSignature[] = []
  const checked = new Set<string>()
  const signedBy = new Set<string>()
  const seenUnknown = new Set<string>()

  for (const { signature, bytes } of lines) {
    const id = keyId(signature.name, signature.hash)
    const candidates = known.get(id)
    if (candidates === undefined) {
      const line = `${id} ${signature.base64}`
      if (!seenUnknown.has(line)) {
        seenUnknown.add(line)
        unverified.push(signature)
      }
      continue
    }
    const key = { name: signature.name, hash: signature.hash }
    if (candidates.length > 1) {
      throw new NoteVerificationError(
        'ambiguous-key',
        `ambiguous key ${displayKey(key)}: ${candidates.length} different verifiers have this name and key ID`,
        { key },
      )
    }
    const line = `${id} ${signature.base64}`
    if (checked.has(line)) continue
    checked.add(line)
    let ok: boolean
    let cause: unknown
    try {
      ok = candidates[0]!.verify(message, bytes) === true
    } catch (error) {
      ok = false
      cause = error
    }
    if (!ok) {
      throw new NoteVerificationError(
        'invalid-signature',
        `invalid signature for key ${displayKey(key)}: the note text or signature was altered`,
        { key },
        cause === undefined ? undefined : { cause },
      )
    }
    if (!signedBy.has(id)) {
      signedBy.add(id)
      verified.push(signature)
    }
  }

  const opened: OpenedNote = { text, verified, unverified }
  if (verified.length === 0) {
    const signers = summarize(unverified.map(displayKey))
    const trusted = summarize([...known.values()].map((list) => displayVerifier(list[0]!)))
    throw new NoteVerificationError(
      'no-known-signature',
      `note has no signature from a known key (signed by ${signers}; known keys: ${trusted})`,
      { note: opened },
    )
  }
  if (options.requireAll === true) {
    for (const [id, list] of known) {
      if (!signedBy.has(id)) {
        const v = list[0]!
        throw new NoteVerificationError(
          'missing-signature',
          `note is not signed by required key ${displayVerifier(v)}`,
          { key: { name: v.name, hash: v.keyHash }, note: opened },
        )
      }
    }
  }
  return opened
}

/**
 * Signs `text` with every signer and returns the signed note. Several
 * signers at once let a key rotate: sign with the old and the new key while
 * verifiers move over.
 *
 * @param text - the note text: valid Unicode, ending in a newline, with no
 *   control characters other than newline.
 * @param signers - at least one, with distinct name and key ID pairs.
 * @throws InvalidInputError when the text or a signer is unusable.
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text, 'text')
  if (!Array.isArray(signers) || signers.length === 0) {
    throw new InvalidInputError('signers', 'at least one signer is required')
  }
  return formatNote(text, makeSignatures(text, signers))
}

/**
 * Adds signatures to an already-signed note (co-signing, or adding a new
 * key during rotation). Existing lines are kept, except those from a key
 * that signs again here, which are replaced; new lines go last.
 *
 * Existing signatures are not verified: {@link openNote} the note first if
 * they must be trusted.
 *
 * @throws MalformedNoteError when `note` is not well-formed.
 * @throws InvalidInputError when a signer is unusable or the result would
 *   exceed {@link MAX_NOTE_SIGNATURES}.
 */
export function addSignatures(note: string | Uint8Array, signers: readonly NoteSigner[]): string {
  const parsed = parseNote(note)
  if (!Array.isArray(signers) || signers.length === 0) {
    throw new InvalidInputError('signers', 'at least one signer is required')
  }
  const added = makeSignatures(parsed.text, signers)
  const replaced = new Set(added.map((s) => keyId(s.name, s.hash)))
  const kept = parsed.signatures.filter((s) => !replaced.has(keyId(s.name, s.hash)))
  return formatNote(parsed.text, [...kept, ...added])
}

/**
 * Serializes a note from its text and signature lines, checking both. Use
 * {@link signNote} to make signatures; this only writes existing ones out.
 *
 * @throws InvalidInputError when the text or a signature is malformed.
 */
export function formatNote(text: string, signatures: readonly NoteSignature[]): string {
  checkText(text, 'text')
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw new InvalidInputError('signatures', 'a note needs at least one signature')
  }
  if (signatures.length > MAX_NOTE_SIGNATURES) {
    throw new InvalidInputError('signatures', `a note may carry at most ${MAX_NOTE_SIGNATURES}`)
  }
  let out = `${text}\n`
  signatures.forEach((signature, i) => {
    const path = `signatures[${i}]`
    const nameProblem = keyNameProblem(signature.name)
    if (nameProblem !== undefined) throw new InvalidInputError(`${path}.name`, nameProblem)
    const raw = decodeBase64(signature.base64)
    if (raw === undefined || raw.length < 5) {
      throw new InvalidInputError(
        `${path}.base64`,
        'must be canonical base64 of a 4-byte key ID and a signature',
      )
    }
    if (readUint32(raw) !== signature.hash) {
      throw new InvalidInputError(`${path}.hash`, 'does not match the key ID inside the signature')
    }
    out += `${SIGNATURE_LINE_PREFIX}${signature.name} ${signature.base64}\n`
  })
  return out
}

function makeSignatures(text: string, signers: readonly NoteSigner[]): NoteSignature[] {
  const message = Buffer.from(text, 'utf8')
  const seen = new Set<string>()
  return signers.map((signer, i) => {
    const path = `signers[${i}]`
    if (typeof signer !== 'object' || signer === null || typeof signer.sign !== 'function') {
      throw new InvalidInputError(path, 'must be a signer with name, keyHash and sign()')
    }
    const nameProblem = keyNameProblem(signer.name)
    if (nameProblem !== undefined) throw new InvalidInputError(`${path}.name`, nameProblem)
    const hash = signer.keyHash
    if (!Number.isInteger(hash) || hash < 0 || hash > 0xffffffff) {
      throw new InvalidInputError(`${path}.keyHash`, 'must be an unsigned 32-bit integer')
    }
    const id = keyId(signer.name, hash)
    if (seen.has(id)) throw new InvalidInputError(path, `duplicate signer ${id}`)
    seen.add(id)
    const sig = signer.sign(message)
    if (!(sig instanceof Uint8Array) || sig.length === 0) {
      throw new InvalidInputError(path, 'sign() must return a non-empty Uint8Array')
    }
    const raw = new Uint8Array(4 + sig.length)
    new DataView(raw.buffer).setUint32(0, hash, false)
    raw.set(sig, 4)
    return { name: signer.name, hash, base64: Buffer.from(raw).toString('base64') }
  })
}

function parseLines(note: string | Uint8Array): {
  readonly text: string
  readonly lines: readonly ParsedLine[]
} {
  let s: string
  if (typeof note === 'string') {
    s = note
  } else if (note instanceof Uint8Array) {
    try {
      s = utf8Decoder.decode(note)
    } catch (error) {
      throw new MalformedNoteError('note is not valid UTF-8', undefined, { cause: error })
    }
  } else {
    throw new InvalidInputError('note', 'must be a string or a Uint8Array')
  }

  const bad = findBadCharacter(s)
  if (bad >= 0) throw new MalformedNoteError(describeCharacter(s, bad, 'notes'), lineOf(s, bad))
  if (!s.endsWith('\n')) {
    throw new MalformedNoteError('note does not end with a newline', lineOf(s, s.length))
  }
  const split = s.lastIndexOf('\n\n')
  if (split < 0) {
    throw new MalformedNoteError('no blank line separating the text from the signatures')
  }
  const text = s.slice(0, split + 1)
  const block = s.slice(split + 2)
  if (block === '') {
    throw new MalformedNoteError('no signature lines after the last blank line')
  }
  const rows = block.slice(0, -1).split('\n')
  if (rows.length > MAX_NOTE_SIGNATURES) {
    throw new MalformedNoteError(
      `too many signature lines: ${rows.length} (at most ${MAX_NOTE_SIGNATURES})`,
    )
  }
  const firstLine = lineOf(s, split) + 2
  const lines = rows.map((row, i) => parseSignatureLine(row, firstLine + i))
  return { text, lines }
}

function parseSignatureLine(row: string, line: number): ParsedLine {
  if (!row.startsWith(SIGNATURE_LINE_PREFIX)) {
    throw new MalformedNoteError(
      'signature line must start with an em dash (U+2014) and a space',
      line,
    )
  }
  const rest = row.slice(SIGNATURE_LINE_PREFIX.length)
  const space = rest.indexOf(' ')
  const name = space < 0 ? rest : rest.slice(0, space)
  const base64 = space < 0 ? '' : rest.slice(space + 1)
  const nameProblem = keyNameProblem(name)
  if (nameProblem !== undefined) throw new MalformedNoteError(`key name ${nameProblem}`, line)
  if (base64 === '') throw new MalformedNoteError('no signature after the key name', line)
  const raw = decodeBase64(base64)
  if (raw === undefined) throw new MalformedNoteError('signature is not canonical base64', line)
  if (raw.length < 5) {
    throw new MalformedNoteError('signature is shorter than a 4-byte key ID plus a signature', line)
  }
  return { signature: { name, hash: readUint32(raw), base64 }, bytes: raw.subarray(4) }
}

/** Verifiers by `name+hash`; different keys under one ID are kept apart to report ambiguity. */
function indexVerifiers(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier[]> {
  if (!Array.isArray(verifiers) || verifiers.length === 0) {
    throw new InvalidInputError('verifiers', 'at least one verifier is required')
  }
  const known = new Map<string, NoteVerifier[]>()
  verifiers.forEach((v, i) => {
    if (typeof v !== 'object' || v === null || typeof v.verify !== 'function') {
      throw new InvalidInputError(
        `verifiers[${i}]`,
        'must be a verifier with name, keyHash and verify()',
      )
    }
    const nameProblem = keyNameProblem(v.name)
    if (nameProblem !== undefined) throw new InvalidInputError(`verifiers[${i}].name`, nameProblem)
    if (!Number.isInteger(v.keyHash) || v.keyHash < 0 || v.keyHash > 0xffffffff) {
      throw new InvalidInputError(`verifiers[${i}].keyHash`, 'must be an unsigned 32-bit integer')
    }
    const id = keyId(v.name, v.keyHash)
    const list = known.get(id)
    if (list === undefined) known.set(id, [v])
    else if (!list.some((w) => sameKey(w, v))) list.push(v)
  })
  return known
}

/** The same verifier object, or two Ed25519 verifiers of the same public key. */
function sameKey(a: NoteVerifier, b: NoteVerifier): boolean {
  if (a === b) return true
  const pa = (a as Partial<Ed25519Verifier>).publicKey
  const pb = (b as Partial<Ed25519Verifier>).publicKey
  return pa instanceof Uint8Array && pb instanceof Uint8Array && Buffer.from(pa).equals(pb)
}

function checkText(text: string, path: string): void {
  if (typeof text !== 'string') throw new InvalidInputError(path, 'must be a string')
  if (!text.endsWith('\n')) throw new InvalidInputError(path, 'must end with a newline')
  const bad = findBadCharacter(text)
  if (bad >= 0) {
    throw new InvalidInputError(
      path,
      `line ${lineOf(text, bad)}: ${describeCharacter(text, bad, 'notes')}`,
    )
  }
}

function readUint32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false)
}

function keyId(name: string, hash: number): string {
  return `${name}+${formatKeyHash(hash)}`
}

function displayKey(key: { readonly name: string; readonly hash: number }): string {
  return keyId(key.name, key.hash)
}

function displayVerifier(v: NoteVerifier): string {
  return keyId(v.name, v.keyHash)
}

function summarize(items: readonly string[]): string {
  if (items.length === 0) return 'nobody'
  const shown = items.slice(0, 5).join(', ')
  return items.length > 5 ? `${shown} and ${items.length - 5} more` : shown
}
