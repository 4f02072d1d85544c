import { describe, expect, it } from 'vitest'
import {
  type CheckpointField,
  CheckpointFormatError,
  formatCheckpoint,
  MAX_CHECKPOINT_SIZE,
  parseCheckpoint,
} from '../src/checkpoint-text.js'
import { InvalidInputError, isBatonError } from '../src/errors.js'
import { generateKeyPair, parseSignerKey, parseVerifierKey } from '../src/keys.js'
import { openNote, signNote } from '../src/note.js'

// The body of the example in c2sp.org/tlog-checkpoint.
const SPEC_BODY =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'
const SPEC_ROOT_B64 = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I='
// A signed tree head from sum.golang.org (origin "go.sum database tree").
const SUMDB_BODY = 'go.sum database tree\n63512409\nF7eHRPqN/cqPtqti14NKdGGaI1Giw8coWP3KxihFZbg=\n'

const ROOT = new Uint8Array(Buffer.from(SPEC_ROOT_B64, 'base64'))
const ROOT_HEX = Buffer.from(ROOT).toString('hex')

function formatError(text: string): CheckpointFormatError {
  try {
    parseCheckpoint(text)
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointFormatError)
    expect(isBatonError(error, 'BAD_SIGNATURE')).toBe(true)
    return error as CheckpointFormatError
  }
  throw new Error(`expected a CheckpointFormatError for ${JSON.stringify(text)}`)
}

function expectBadLine(text: string, line: number, field: CheckpointField, message: RegExp): void {
  const error = formatError(text)
  expect({ line: error.line, field: error.field }).toEqual({ line, field })
  expect(error.message).toMatch(new RegExp(`^checkpoint line ${line} \\(${field}\\): `))
  expect(error.message).toMatch(message)
}

describe('published examples', () => {
  it('parses the tlog-checkpoint spec example and formats it back byte for byte', () => {
    const cp = parseCheckpoint(SPEC_BODY)
    expect(cp.origin).toBe('example.com/behind-the-sofa')
    expect(cp.size).toBe(20852163)
    expect(Buffer.from(cp.root).toString('base64')).toBe(SPEC_ROOT_B64)
    expect(cp.extensions).toEqual([])
    expect(formatCheckpoint(cp)).toBe(SPEC_BODY)
  })

  it('parses a sum.golang.org tree head (an origin with spaces)', () => {
    const cp = parseCheckpoint(SUMDB_BODY)
    expect(cp.origin).toBe('go.sum database tree')
    expect(cp.size).toBe(63512409)
    expect(formatCheckpoint(cp)).toBe(SUMDB_BODY)
  })
})

describe('round trips', () => {
  it.each([
    ['an empty tree', { origin: 'example.com/log', size: 0, root: ROOT }],
    ['a hex root', { origin: 'example.com/log', size: 1, root: ROOT_HEX }],
    ['the largest size', { origin: 'o', size: MAX_CHECKPOINT_SIZE, root: ROOT }],
    ['extensions', { origin: 'example.com/log', size: 42, root: ROOT, extensions: ['a', 'b c'] }],
    ['a non-ASCII origin', { origin: 'ünï.example/名前', size: 7, root: ROOT }],
  ])('%s', (_what, fields) => {
    const text = formatCheckpoint(fields)
    expect(text.endsWith('\n')).toBe(true)
    const cp = parseCheckpoint(text)
    expect(cp.origin).toBe(fields.origin)
    expect(cp.size).toBe(fields.size)
    expect(Buffer.from(cp.root).toString('hex')).toBe(ROOT_HEX)
    expect(cp.extensions).toEqual('extensions' in fields ? fields.extensions : [])
    expect(formatCheckpoint(cp)).toBe(text)
  })

  it('formats exactly origin, size, base64 root and extension lines', () => {
    expect(formatCheckpoint({ origin: 'o', size: 0, root: ROOT, extensions: ['x'] })).toBe(
      `o\n0\n${SPEC_ROOT_B64}\nx\n`,
    )
  })

  it('returns a root that owns its bytes', () => {
    const cp = parseCheckpoint(SPEC_BODY)
    expect(cp.root.byteOffset).toBe(0)
    expect(cp.root.buffer.byteLength).toBe(32)
  })

  it('as the text of a signed note', () => {
    const { signerKey, verifierKey } = generateKeyPair('example.com/log')
    const body = formatCheckpoint({ origin: 'example.com/log', size: 3, root: ROOT })
    const note = signNote(body, [parseSignerKey(signerKey)])
    const cp = parseCheckpoint(openNote(note, [parseVerifierKey(verifierKey)]).text)
    expect(cp.size).toBe(3)
  })
})

describe('parse errors name the line', () => {
  const root = SPEC_ROOT_B64

  it('empty origin', () => {
    expectBadLine(`\n5\n${root}\n`, 1, 'origin', /origin must not be empty/)
  })

  it.each([
    ['leading zero', '0123', /leading zero/],
    ['leading zeros on zero', '00', /leading zero/],
    ['sign', '+5', /decimal number/],
    ['negative', '-1', /decimal number/],
    ['exponent', '1e3', /decimal number/],
    ['spaces', ' 5', /decimal number/],
    ['hex', '0x10', /decimal number/],
    ['empty', '', /decimal number/],
    ['too large', '9007199254740992', /exceeds 9007199254740991/],
    ['uint64 max', '18446744073709551615', /exceeds/],
  ])('size with %s', (_what, size, message) => {
    expectBadLine(`o\n${size}\n${root}\n`, 2, 'size', message)
  })

  it.each([
    ['missing padding', root.slice(0, -1), /not canonical padded base64/],
    ['url-safe alphabet', root.replace('/', '_'), /not canonical padded base64/],
    ['non-zero padding bits', `${root.slice(0, -2)}J=`, /not canonical padded base64/],
    ['a bad character', `*${root.slice(1)}`, /not canonical padded base64/],
    ['hex instead of base64', ROOT_HEX, /must be 32 bytes, got 48/],
    ['16 bytes', Buffer.alloc(16).toString('base64'), /must be 32 bytes, got 16/],
    ['33 bytes', Buffer.alloc(33).toString('base64'), /must be 32 bytes, got 33/],
    ['nothing', '', /must be 32 bytes, got 0/],
  ])('root with %s', (_what, rootLine, message) => {
    expectBadLine(`o\n5\n${rootLine}\n`, 3, 'root', message)
  })

  it('missing trailing newline, on whichever line is last', () => {
    expectBadLine(SPEC_BODY.slice(0, -1), 3, 'root', /missing trailing newline/)
    expectBadLine(`${SPEC_BODY}ext`, 4, 'extension', /missing trailing newline/)
    expectBadLine('', 1, 'origin', /missing trailing newline/)
  })

  it('too few lines', () => {
    expectBadLine('o\n5\n', 3, 'root', /got 2 line/)
    expectBadLine('o\n', 2, 'size', /got 1 line/)
  })

  it('empty extension line', () => {
    expectBadLine(`${SPEC_BODY}\n`, 4, 'extension', /must not be empty/)
    expectBadLine(`${SPEC_BODY}a\n\nb\n`, 5, 'extension', /must not be empty/)
  })

  it('CRLF and other control characters', () => {
    expectBadLine(SPEC_BODY.replaceAll('\n', '\r\n'), 1, 'origin', /carriage return/)
    expectBadLine(`o\n5\n${root}\r\n`, 3, 'root', /carriage return/)
    expectBadLine(`o\x00\n5\n${root}\n`, 1, 'origin', /control character U\+0000/)
    expectBadLine(`o\n5\n${root}\nx\ty\n`, 4, 'extension', /control character U\+0009/)
    expectBadLine(`\ud800\n5\n${root}\n`, 1, 'origin', /lone surrogate/)
  })

  it('rejects a non-string with InvalidInputError', () => {
    expect(() => parseCheckpoint(Buffer.from(SPEC_BODY) as unknown as string)).toThrow(
      InvalidInputError,
    )
  })
})

describe('format errors name the field', () => {
  const ok = { origin: 'o', size: 1, root: ROOT }

  it.each([
    ['origin', { ...ok, origin: '' }, /^origin: must not be empty/],
    ['origin', { ...ok, origin: 'a\nb' }, /^origin: must not contain a newline/],
    ['origin', { ...ok, origin: 'a\rb' }, /^origin: carriage return/],
    ['origin', { ...ok, origin: 5 as unknown as string }, /^origin: must be a string/],
    ['size', { ...ok, size: -1 }, /^size: must be a non-negative safe integer/],
    ['size', { ...ok, size: 1.5 }, /^size:/],
    ['size', { ...ok, size: 2 ** 53 }, /^size:/],
    ['size', { ...ok, size: Number.NaN }, /^size:/],
    ['root', { ...ok, root: new Uint8Array(31) }, /^root: must be 32 bytes/],
    [
      'root',
      { ...ok, root: ROOT_HEX.toUpperCase() },
      /^root: a string root must be 64 lowercase hex/,
    ],
    ['root', { ...ok, root: SPEC_ROOT_B64 }, /^root:/],
    ['extensions[1]', { ...ok, extensions: ['a', ''] }, /^extensions\[1\]: must not be empty/],
    ['extensions[0]', { ...ok, extensions: ['a\nb'] }, /^extensions\[0\]: must not contain a/],
  ])('%s', (path, fields, message) => {
    try {
      formatCheckpoint(fields)
      throw new Error('expected InvalidInputError')
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError)
      expect((error as InvalidInputError).path).toBe(path)
      expect((error as Error).message).toMatch(message)
    }
  })
})
