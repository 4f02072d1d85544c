/**
 * The body of a C2SP transparency-log checkpoint (c2sp.org/tlog-checkpoint):
 * the text that a signed note carries.
 *
 * ```text
 * example.com/log42                              ← origin (non-empty)
 * 20852163                                       ← tree size, decimal, no leading zeros
 * CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=   ← RFC 6962/9162 root hash, base64
 * (optional non-empty extension lines)
 * ```
 *
 * Every line ends in a newline, including the last. Parsing is strict: a
 * checkpoint is accepted only if formatting its fields gives back exactly the
 * same text.
 *
 * @module
 */

import { decodeBase64, describeCharacter, findBadCharacter, lineOf, toBase64 } from './_text.js'
import { type BatonErrorOptions, InvalidInputError, LedgerError } from './errors.js'
import { HASH_BYTES, hexToBytes } from './hash.js'

/** A parsed checkpoint. */
export interface Checkpoint {
  /** The log's identity, e.g. `example.com/log42`. Usually also the signing key's name. */
  readonly origin: string
  /** Number of leaves in the tree. */
  readonly size: number
  /** RFC 9162 Merkle tree root over the first `size` leaves: 32 bytes. */
  readonly root: Uint8Array
  /** Extension lines after the root, without their newlines; usually empty. */
  readonly extensions: readonly string[]
}

/** The fields to format into a checkpoint. */
export interface CheckpointFields {
  /** The log's identity: non-empty, no newline or other control characters. */
  readonly origin: string
  /** Number of leaves in the tree: a non-negative safe integer. */
  readonly size: number
  /** Tree root: 32 bytes, or 64 lowercase hex characters. */
  readonly root: Uint8Array | string
  /** Optional extension lines: each non-empty, without newlines or control characters. */
  readonly extensions?: readonly string[]
}

/** Which part of a checkpoint's text is wrong, carried by {@link CheckpointFormatError}. */
export type CheckpointField = 'origin' | 'size' | 'root' | 'extension'

/**
 * Checkpoint text is malformed. `line` (1-based) and `field` locate the bad
 * line; the message says what is wrong with it.
 */
export class CheckpointFormatError extends LedgerError {
  /** 1-based line number of the bad line. */
  readonly line: number
  /** What that line should have held. */
  readonly field: CheckpointField

  constructor(line: number, field: CheckpointField, message: string, options?: BatonErrorOptions) {
    super('BAD_SIGNATURE', `checkpoint line ${line} (${field}): ${message}`, options)
    this.line = line
    this.field = field
  }
}

/** Largest tree size accepted: sizes are JavaScript numbers. */
export const MAX_CHECKPOINT_SIZE = Number.MAX_SAFE_INTEGER

const DECIMAL = /^(?:0|[1-9][0-9]*)$/

/**
 * Formats checkpoint text: origin, size and base64 root lines, then any
 * extension lines, each ending in a newline.
 *
 * @throws InvalidInputError naming the bad field (`origin`, `size`, `root`, `extensions[i]`).
 */
export function formatCheckpoint(fields: CheckpointFields): string {
  if (typeof fields !== 'object' || fields === null) {
    throw new InvalidInputError('', 'checkpoint fields must be an object')
  }
  const { origin, size, root, extensions = [] } = fields
  checkLineValue(origin, 'origin')
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new InvalidInputError('size', 'must be a non-negative safe integer')
  }
  let rootBytes: Uint8Array
  if (typeof root === 'string') {
    if (!/^[0-9a-f]{64}$/.test(root)) {
      throw new InvalidInputError('root', 'a string root must be 64 lowercase hex characters')
    }
    rootBytes = hexToBytes(root)
  } else if (root instanceof Uint8Array && root.length === HASH_BYTES) {
    rootBytes = root
  } else {
    throw new InvalidInputError('root', `must be ${HASH_BYTES} bytes`)
  }
  if (!Array.isArray(extensions)) throw new InvalidInputError('extensions', 'must be an array')
  extensions.forEach((line, i) => {
    checkLineValue(line, `extensions[${i}]`)
  })
  const lines = [origin, String(size), toBase64(rootBytes), ...extensions]
  return `${lines.join('\n')}\n`
}

/**
 * Parses checkpoint text strictly: at least three lines, each ending in a
 * newline; a non-empty origin; a decimal size without leading zeros (at
 * most {@link MAX_CHECKPOINT_SIZE}); a root that is canonical padded base64
 * of 32 bytes; non-empty extension lines. No carriage returns or other
 * control characters anywhere.
 *
 * @throws CheckpointFormatError naming the bad line.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw new InvalidInputError('text', 'must be a string')
  const bad = findBadCharacter(text)
  const rows = text.split('\n')
  if (bad >= 0) {
    const line = lineOf(text, bad)
    throw new CheckpointFormatError(
      line,
      fieldOf(line),
      describeCharacter(text, bad, 'checkpoints'),
    )
  }
  if (!text.endsWith('\n')) {
    const line = rows.length
    throw new CheckpointFormatError(line, fieldOf(line), 'missing trailing newline')
  }
  rows.pop()
  if (rows.length < 3) {
    const line = rows.length + 1
    throw new CheckpointFormatError(
      line,
      fieldOf(line),
      `missing: a checkpoint has origin, size and root lines, got ${rows.length} line(s)`,
    )
  }
  const [origin, sizeText, rootText] = rows as [string, string, string]
  if (origin === '') throw new CheckpointFormatError(1, 'origin', 'origin must not be empty')

  if (!DECIMAL.test(sizeText)) {
    const why = /^0[0-9]+$/.test(sizeText)
      ? 'tree size has a leading zero'
      : `tree size must be a decimal number, got ${JSON.stringify(truncate(sizeText))}`
    throw new CheckpointFormatError(2, 'size', why)
  }
  const size = Number(sizeText)
  if (!Number.isSafeInteger(size)) {
    throw new CheckpointFormatError(2, 'size', `tree size exceeds ${MAX_CHECKPOINT_SIZE}`)
  }

  const root = decodeBase64(rootText)
  if (root === undefined) {
    throw new CheckpointFormatError(3, 'root', 'root hash is not canonical padded base64')
  }
  if (root.length !== HASH_BYTES) {
    throw new CheckpointFormatError(
      3,
      'root',
      `root hash must be ${HASH_BYTES} bytes, got ${root.length}`,
    )
  }

  const extensions = rows.slice(3)
  const empty = extensions.indexOf('')
  if (empty >= 0) {
    throw new CheckpointFormatError(empty + 4, 'extension', 'extension lines must not be empty')
  }
  return { origin, size, root, extensions }
}

function checkLineValue(value: unknown, path: string): asserts value is string {
  if (typeof value !== 'string') throw new InvalidInputError(path, 'must be a string')
  if (value === '') throw new InvalidInputError(path, 'must not be empty')
  const bad = findBadCharacter(value)
  if (bad >= 0 || value.includes('\n')) {
    const at = bad >= 0 ? bad : value.indexOf('\n')
    throw new InvalidInputError(
      path,
      value.charCodeAt(at) === 0x0a
        ? 'must not contain a newline'
        : describeCharacter(value, at, 'checkpoints'),
    )
  }
}

function fieldOf(line: number): CheckpointField {
  return line === 1 ? 'origin' : line === 2 ? 'size' : line === 3 ? 'root' : 'extension'
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}
