import { describe, expect, it } from 'vitest'
import { InvalidInputError, isBatonError } from '../src/errors.js'
import {
  type Ed25519Backend,
  generateKeyPair,
  type NoteSigner,
  type NoteVerifier,
  parseSignerKey,
  parseVerifierKey,
} from '../src/keys.js'
import {
  addSignatures,
  formatNote,
  MAX_NOTE_SIGNATURES,
  MalformedNoteError,
  NoteVerificationError,
  type NoteVerificationProblem,
  openNote,
  parseNote,
  signNote,
} from '../src/note.js'

// Published vectors from golang.org/x/mod/sumdb/note (note.go docs and note_test.go).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop'
const TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n"
const PETER_B64 =
  'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM='
const ENOCH_B64 =
  'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ='
const PETER_SIG = `— PeterNeumann ${PETER_B64}\n`
const ENOCH_SIG = `— EnochRoot ${ENOCH_B64}\n`
const PETER_NOTE = `${TEXT}\n${PETER_SIG}`
const PETER = { name: 'PeterNeumann', hash: 0xc74f20a3, base64: PETER_B64 }
const ENOCH = { name: 'EnochRoot', hash: 0xaf0cfe78, base64: ENOCH_B64 }

// The Go checksum database: its public key and signed tree heads it served.
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8'
const SUMDB_NOTES = [
  'go.sum database tree\n63512409\nF7eHRPqN/cqPtqti14NKdGGaI1Giw8coWP3KxihFZbg=\n\n— sum.golang.org Az3gri1OBHKT87Xj8UXU8zjoHGy/X+7Nl94f8TZkELVaasolmGApUsWqwVG9vE6hgqYb/ph/w2vdkLIVRH7bMB/FPQ4=\n',
  'go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n— sum.golang.org Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/akvkMdlUErfcZz7l/R3cVtYspg3dxXABkGZZKdsQ8=\n',
]

// Examples from the C2SP specs (keys not published, so these only parse).
const C2SP_NOTE =
  'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n' +
  '— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n'
const C2SP_CHECKPOINT =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
  '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n'

const BACKENDS: readonly Ed25519Backend[] = ['node', 'noble']
const peter = parseVerifierKey(PETER_VKEY)
const enoch = parseVerifierKey(ENOCH_VKEY)

function malformed(fn: () => unknown): MalformedNoteError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedNoteError)
    expect(isBatonError(error, 'BAD_SIGNATURE')).toBe(true)
    return error as MalformedNoteError
  }
  throw new Error('expected a MalformedNoteError')
}

function rejected(fn: () => unknown, problem: NoteVerificationProblem): NoteVerificationError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(NoteVerificationError)
    expect(isBatonError(error, 'BAD_SIGNATURE')).toBe(true)
    expect((error as NoteVerificationError).problem).toBe(problem)
    return error as NoteVerificationError
  }
  throw new Error(`expected a NoteVerificationError (${problem})`)
}

/** Replaces the character at `index` with another base64 character. */
function flipChar(s: string, index: number): string {
  const c = s[index]
  return s.slice(0, index) + (c === 'A' ? 'B' : 'A') + s.slice(index + 1)
}

describe('published vectors', () => {
  it.each(BACKENDS)('signing the Go example text gives the published bytes (%s)', (backend) => {
    const signer = parseSignerKey(PETER_SKEY, { backend })
    expect(signNote(TEXT, [signer])).toBe(PETER_NOTE)
  })

  it.each(BACKENDS)('opens the Go example note (%s)', (backend) => {
    const opened = openNote(PETER_NOTE, [parseVerifierKey(PETER_VKEY, { backend })])
    expect(opened).toEqual({ text: TEXT, verified: [PETER], unverified: [] })
  })

  it('one known, one unknown key: unknown is carried but ignored (Go vector)', () => {
    const opened = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter])
    expect(opened.verified).toEqual([PETER])
    expect(opened.unverified).toEqual([ENOCH])
  })

  it('both keys known: both verified (Go vector)', () => {
    const opened = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter, enoch])
    expect(opened.verified).toEqual([PETER, ENOCH])
    expect(opened.unverified).toEqual([])
  })

  it('duplicated verified and unverified signatures are listed once (Go vector)', () => {
    const enochABCD = `${ENOCH_B64.slice(0, 46)}ABCD${ENOCH_B64.slice(46)}`
    const note = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}— EnochRoot ${enochABCD}\n`
    const opened = openNote(note, [peter])
    expect(opened.verified).toEqual([PETER])
    expect(opened.unverified).toEqual([ENOCH, { ...ENOCH, base64: enochABCD }])
  })

  it('bytes in, same result; a Go-style note as Uint8Array', () => {
    const opened = openNote(new TextEncoder().encode(PETER_NOTE), [peter])
    expect(opened.text).toBe(TEXT)
  })

  it.each(SUMDB_NOTES.map((n, i) => [i, n] as const))(
    'verifies a signed tree head from sum.golang.org (#%i)',
    (_i, note) => {
      const opened = openNote(note, [parseVerifierKey(SUMDB_VKEY)])
      expect(opened.verified.map((s) => s.name)).toEqual(['sum.golang.org'])
      expect(opened.text.startsWith('go.sum database tree\n')).toBe(true)
      const tampered = note.replace(/\n(\d)/, (_m, d: string) => `\n${(Number(d) + 1) % 10}`)
      rejected(() => openNote(tampered, [parseVerifierKey(SUMDB_VKEY)]), 'invalid-signature')
    },
  )

  it('parses the C2SP example, whose text holds a blank line', () => {
    const parsed = parseNote(C2SP_NOTE)
    expect(parsed.text).toBe(
      'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n',
    )
    expect(parsed.signatures).toHaveLength(1)
    expect(parsed.signatures[0]!.name).toBe('quasimodo.example/salvatore')
    expect(formatNote(parsed.text, parsed.signatures)).toBe(C2SP_NOTE)
  })

  it('the C2SP checkpoint example shares sum.golang.org’s key ID but not its name: ignored', () => {
    const parsed = parseNote(C2SP_CHECKPOINT)
    expect(parsed.signatures[0]!.hash).toBe(0x033de0ae)
    const error = rejected(
      () => openNote(C2SP_CHECKPOINT, [parseVerifierKey(SUMDB_VKEY)]),
      'no-known-signature',
    )
    expect(error.note?.unverified).toHaveLength(1)
  })
})

describe('round trips', () => {
  it('sign, parse, format, open', () => {
    const { signerKey, verifierKey } = generateKeyPair('example.com/log')
    const text = 'example.com/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'
    const note = signNote(text, [parseSignerKey(signerKey)])
    const parsed = parseNote(note)
    expect(parsed.text).toBe(text)
    expect(formatNote(parsed.text, parsed.signatures)).toBe(note)
    expect(openNote(note, [parseVerifierKey(verifierKey)]).text).toBe(text)
  })

  it.each([
    ['a single newline', '\n'],
    ['empty lines inside and at the end', 'a\n\nb\n\n'],
    ['a line that looks like a signature', '— fake abcd\n'],
    ['non-ASCII and a leading BOM', '\ufeffünï 名前 😀\n'],
  ])('text with %s', (_what, text) => {
    const { signerKey, verifierKey } = generateKeyPair('k')
    const note = signNote(text, [parseSignerKey(signerKey)])
    expect(openNote(note, [parseVerifierKey(verifierKey)]).text).toBe(text)
    expect(openNote(Buffer.from(note, 'utf8'), [parseVerifierKey(verifierKey)]).text).toBe(text)
  })

  it('signs with noble, verifies with node, and back', () => {
    const { signerKey, verifierKey } = generateKeyPair('cross')
    const a = signNote(TEXT, [parseSignerKey(signerKey, { backend: 'noble' })])
    const b = signNote(TEXT, [parseSignerKey(signerKey, { backend: 'node' })])
    expect(a).toBe(b)
    expect(openNote(a, [parseVerifierKey(verifierKey, { backend: 'node' })]).verified).toHaveLength(
      1,
    )
    expect(
      openNote(b, [parseVerifierKey(verifierKey, { backend: 'noble' })]).verified,
    ).toHaveLength(1)
  })
})

describe('tampering', () => {
  it('a flipped byte in the text', () => {
    const error = rejected(() => openNote(`X${PETER_NOTE.slice(1)}`, [peter]), 'invalid-signature')
    expect(error.key).toEqual({ name: 'PeterNeumann', hash: 0xc74f20a3 })
    expect(error.message).toMatch(/PeterNeumann\+c74f20a3/)
  })

  it('a flipped byte in the signature', () => {
    const at = PETER_NOTE.indexOf(PETER_B64) + 20
    rejected(() => openNote(flipChar(PETER_NOTE, at), [peter]), 'invalid-signature')
  })

  it('a longer signature from a known key (Go vector)', () => {
    const note = `${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`
    const error = rejected(() => openNote(note, [peter]), 'invalid-signature')
    expect(error.message).toBe(
      'invalid signature for key PeterNeumann+c74f20a3: the note text or signature was altered',
    )
  })

  it('a flipped byte in the key ID makes it an unknown key', () => {
    const at = PETER_NOTE.indexOf(PETER_B64) + 2
    const error = rejected(() => openNote(flipChar(PETER_NOTE, at), [peter]), 'no-known-signature')
    expect(error.note?.verified).toEqual([])
    expect(error.note?.unverified).toHaveLength(1)
  })

  it('a renamed signer is an unknown key', () => {
    const note = PETER_NOTE.replace('PeterNeumann', 'CarmenSandiego')
    const error = rejected(() => openNote(note, [peter]), 'no-known-signature')
    expect(error.message).toMatch(/signed by CarmenSandiego\+c74f20a3/)
    expect(error.message).toMatch(/known keys: PeterNeumann\+c74f20a3/)
  })

  it('a note signed only by an unknown key fails with a clear error', () => {
    const error = rejected(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [peter]), 'no-known-signature')
    expect(error.message).toBe(
      'note has no signature from a known key (signed by EnochRoot+af0cfe78; known keys: PeterNeumann+c74f20a3)',
    )
    expect(error.note).toEqual({ text: TEXT, verified: [], unverified: [ENOCH] })
  })

  it('a bad signature from a known key fails even after a good one', () => {
    const bad = `— PeterNeumann ${flipChar(PETER_B64, 30)}\n`
    rejected(() => openNote(`${TEXT}\n${PETER_SIG}${bad}`, [peter]), 'invalid-signature')
    rejected(() => openNote(`${TEXT}\n${bad}${PETER_SIG}`, [peter]), 'invalid-signature')
  })

  it('identical duplicate signatures are fine', () => {
    const opened = openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${PETER_SIG}`, [peter])
    expect(opened.verified).toEqual([PETER])
  })

  it('a known key whose verifier throws counts as a bad signature', () => {
    const throwing: NoteVerifier = {
      name: 'PeterNeumann',
      keyHash: 0xc74f20a3,
      verify() {
        throw new Error('boom')
      },
    }
    const error = rejected(() => openNote(PETER_NOTE, [throwing]), 'invalid-signature')
    expect((error.cause as Error).message).toBe('boom')
  })
})

describe('malformed notes name the problem', () => {
  it.each([
    ['text only', TEXT, /no blank line/],
    ['blank line but no signatures', `${TEXT}\n`, /no signature lines/],
    ['missing final newline', `${TEXT}\n${PETER_SIG.slice(0, -1)}`, /does not end with a newline/],
    ['control character', `\u0001${PETER_NOTE}`, /control character U\+0001/],
    ['tab', `a\tb\n\n${PETER_SIG}`, /control character U\+0009/],
    ['space in name (Go vector)', `${TEXT}\n— Bad Name ${PETER_B64}\n`, /line 4: signature is not/],
    [
      'no-break space in name',
      `${TEXT}\n— Bad\u00a0Name ${PETER_B64}\n`,
      /line 4: key name .* whitespace/,
    ],
    ['an unexpected line', `${PETER_NOTE}Unexpected line.\n`, /line 5: signature line must start/],
    ['lone surrogate', `\ud800${PETER_NOTE}`, /lone surrogate U\+D800/],
  ])('%s', (_what, note, message) => {
    expect(malformed(() => openNote(note, [peter])).message).toMatch(message)
    expect(() => parseNote(note)).toThrow(MalformedNoteError)
  })

  it('invalid UTF-8 bytes', () => {
    const bytes = new Uint8Array([0xff, ...new TextEncoder().encode(PETER_NOTE)])
    expect(malformed(() => openNote(bytes, [peter])).message).toMatch(/not valid UTF-8/)
  })

  it('CRLF line endings, with the line number', () => {
    const error = malformed(() => openNote(PETER_NOTE.replaceAll('\n', '\r\n'), [peter]))
    expect(error.line).toBe(1)
    expect(error.message).toMatch(/^note line 1: carriage return \(U\+000D\)/)
    const onlySig = malformed(() =>
      openNote(`${TEXT}\n${PETER_SIG.replace('\n', '\r\n')}`, [peter]),
    )
    expect(onlySig.line).toBe(4)
  })

  it('missing blank line between text and signatures', () => {
    expect(malformed(() => openNote(`${TEXT}${PETER_SIG}`, [peter])).message).toMatch(
      /no blank line/,
    )
  })

  it.each([
    ['a hyphen', `- PeterNeumann ${PETER_B64}`],
    ['two hyphens', `-- PeterNeumann ${PETER_B64}`],
    ['an en dash', `\u2013 PeterNeumann ${PETER_B64}`],
    ['no space after the dash', `—PeterNeumann ${PETER_B64}`],
    ['a leading space', ` — PeterNeumann ${PETER_B64}`],
  ])('signature line with %s instead of "— "', (_what, line) => {
    const error = malformed(() => openNote(`${TEXT}\n${line}\n`, [peter]))
    expect(error.line).toBe(4)
    expect(error.message).toMatch(/em dash \(U\+2014\) and a space/)
  })

  it.each([
    ['no signature', '— PeterNeumann\n', /no signature after the key name/],
    ['empty signature', '— PeterNeumann \n', /no signature after the key name/],
    ['two spaces', `— PeterNeumann  ${PETER_B64}\n`, /not canonical base64/],
    ['unpadded base64', `— PeterNeumann ${PETER_B64.slice(0, -1)}\n`, /not canonical base64/],
    ['url-safe base64', '— PeterNeumann x08go_ZJ\n', /not canonical base64/],
    ['too short', '— PeterNeumann AAAAAA==\n', /shorter than a 4-byte key ID/],
    ['empty name', `—  ${PETER_B64}\n`, /key name must not be empty/],
    ['plus in name', `— Peter+Neumann ${PETER_B64}\n`, /must not contain '\+'/],
  ])('signature line with %s', (_what, line, message) => {
    expect(malformed(() => parseNote(`${TEXT}\n${line}`)).message).toMatch(message)
  })

  it(`more than ${MAX_NOTE_SIGNATURES} signature lines (Go vector)`, () => {
    const note = `${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES + 1)}`
    expect(malformed(() => openNote(note, [peter])).message).toMatch(
      /too many signature lines: 101/,
    )
    expect(openNote(`${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES)}`, [peter]).verified).toEqual(
      [PETER],
    )
  })
})

describe('key rotation and co-signing', () => {
  const oldKey = generateKeyPair('example.com/log')
  const newKey = generateKeyPair('example.com/log')
  const oldSigner = parseSignerKey(oldKey.signerKey)
  const newSigner = parseSignerKey(newKey.signerKey)
  const oldVerifier = parseVerifierKey(oldKey.verifierKey)
  const newVerifier = parseVerifierKey(newKey.verifierKey)
  const text = 'example.com/log\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'
  const note = signNote(text, [oldSigner, newSigner])

  it('signs with old and new key in one note, same name', () => {
    const parsed = parseNote(note)
    expect(parsed.signatures.map((s) => s.name)).toEqual(['example.com/log', 'example.com/log'])
    expect(parsed.signatures[0]!.hash).toBe(oldSigner.keyHash)
    expect(parsed.signatures[1]!.hash).toBe(newSigner.keyHash)
  })

  it('a verifier that knows only the old key still verifies', () => {
    const opened = openNote(note, [oldVerifier])
    expect(opened.verified.map((s) => s.hash)).toEqual([oldSigner.keyHash])
    expect(opened.unverified.map((s) => s.hash)).toEqual([newSigner.keyHash])
  })

  it('a verifier that knows only the new key verifies', () => {
    const opened = openNote(note, [newVerifier])
    expect(opened.verified.map((s) => s.hash)).toEqual([newSigner.keyHash])
  })

  it('requireAll: every known key must have signed', () => {
    expect(openNote(note, [oldVerifier, newVerifier], { requireAll: true }).verified).toHaveLength(
      2,
    )
    const onlyOld = signNote(text, [oldSigner])
    const error = rejected(
      () => openNote(onlyOld, [oldVerifier, newVerifier], { requireAll: true }),
      'missing-signature',
    )
    expect(error.key).toEqual({ name: 'example.com/log', hash: newSigner.keyHash })
    expect(openNote(onlyOld, [oldVerifier, newVerifier]).verified).toHaveLength(1)
  })

  it('addSignatures co-signs an existing note; witnesses can be required', () => {
    const witness = generateKeyPair('witness.example/w1')
    const cosigned = addSignatures(signNote(text, [oldSigner]), [parseSignerKey(witness.signerKey)])
    expect(cosigned.startsWith(signNote(text, [oldSigner]))).toBe(true)
    const opened = openNote(cosigned, [oldVerifier, parseVerifierKey(witness.verifierKey)], {
      requireAll: true,
    })
    expect(opened.verified.map((s) => s.name)).toEqual(['example.com/log', 'witness.example/w1'])
  })

  it('addSignatures replaces an existing line from the same key (Go behaviour)', () => {
    // A stale line for PeterNeumann+c74f20a3 (key ID bytes c7 4f 20 a3, then junk).
    const stale = `${TEXT}\n— PeterNeumann x08gowA=\n${ENOCH_SIG}`
    const resigned = addSignatures(stale, [parseSignerKey(PETER_SKEY)])
    expect(resigned).toBe(`${TEXT}\n${ENOCH_SIG}${PETER_SIG}`)
  })

  it('addSignatures refuses to exceed the signature cap', () => {
    const full = `${TEXT}\n${ENOCH_SIG.repeat(MAX_NOTE_SIGNATURES)}`
    expect(() => addSignatures(full, [parseSignerKey(PETER_SKEY)])).toThrow(InvalidInputError)
  })

  it('accepts the 16 signatures the spec requires', () => {
    const signers = Array.from({ length: 16 }, (_, i) =>
      parseSignerKey(generateKeyPair(`w${i}.example`).signerKey),
    )
    const many = signNote(text, signers)
    const opened = openNote(many, [signers[15]!.verifier()])
    expect(opened.verified).toHaveLength(1)
    expect(opened.unverified).toHaveLength(15)
  })
})

describe('verifier lists', () => {
  it('the same key listed twice is not ambiguous', () => {
    expect(openNote(PETER_NOTE, [peter, peter, parseVerifierKey(PETER_VKEY)]).verified).toEqual([
      PETER,
    ])
  })

  it('two different keys under one name and key ID are ambiguous when used', () => {
    const impostor: NoteVerifier = { name: 'PeterNeumann', keyHash: 0xc74f20a3, verify: () => true }
    const error = rejected(() => openNote(PETER_NOTE, [peter, impostor]), 'ambiguous-key')
    expect(error.message).toMatch(/ambiguous key PeterNeumann\+c74f20a3/)
    // Unused ambiguity is harmless (as in Go).
    expect(openNote(`${TEXT}\n${ENOCH_SIG}`, [peter, impostor, enoch]).verified).toEqual([ENOCH])
  })

  it('rejects unusable verifier lists', () => {
    expect(() => openNote(PETER_NOTE, [])).toThrow(InvalidInputError)
    expect(() => openNote(PETER_NOTE, [{} as NoteVerifier])).toThrow(InvalidInputError)
    expect(() => openNote(PETER_NOTE, [{ name: 'a b', keyHash: 1, verify: () => true }])).toThrow(
      InvalidInputError,
    )
    expect(() =>
      openNote(PETER_NOTE, [{ name: 'a', keyHash: 2 ** 32, verify: () => true }]),
    ).toThrow(InvalidInputError)
  })
})

describe('signNote and formatNote arguments', () => {
  const signer = parseSignerKey(PETER_SKEY)

  it.each([
    ['no trailing newline', 'abc', /text: must end with a newline/],
    ['empty text', '', /text: must end with a newline/],
    ['carriage return', 'a\r\n', /text: line 1: carriage return/],
    ['control character', 'a\n\u0007\n', /text: line 2: control character U\+0007/],
    ['lone surrogate', 'a\udfff\n', /text: line 1: lone surrogate/],
  ])('rejects text with %s', (_what, text, message) => {
    expect(() => signNote(text, [signer])).toThrow(InvalidInputError)
    expect(() => signNote(text, [signer])).toThrow(message)
  })

  it('rejects bad signer lists', () => {
    expect(() => signNote(TEXT, [])).toThrow(/signers: at least one signer/)
    expect(() => signNote(TEXT, [signer, parseSignerKey(PETER_SKEY)])).toThrow(
      /signers\[1\]: duplicate signer PeterNeumann\+c74f20a3/,
    )
    const badName: NoteSigner = { name: 'bad name', keyHash: 1, sign: () => new Uint8Array(64) }
    expect(() => signNote(TEXT, [badName])).toThrow(/signers\[0\]\.name/)
    const badHash: NoteSigner = { name: 'ok', keyHash: 1.5, sign: () => new Uint8Array(64) }
    expect(() => signNote(TEXT, [badHash])).toThrow(/signers\[0\]\.keyHash/)
    const empty: NoteSigner = { name: 'ok', keyHash: 1, sign: () => new Uint8Array(0) }
    expect(() => signNote(TEXT, [empty])).toThrow(/non-empty Uint8Array/)
  })

  it('formatNote checks each signature', () => {
    expect(() => formatNote(TEXT, [])).toThrow(InvalidInputError)
    expect(() => formatNote(TEXT, [{ ...PETER, hash: 1 }])).toThrow(/signatures\[0\]\.hash/)
    expect(() => formatNote(TEXT, [{ ...PETER, base64: 'AAAA' }])).toThrow(
      /signatures\[0\]\.base64/,
    )
    expect(() => formatNote(TEXT, [{ ...PETER, name: '' }])).toThrow(/signatures\[0\]\.name/)
    expect(formatNote(TEXT, [PETER])).toBe(PETER_NOTE)
  })
})
