import { createHash } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import { InvalidInputError, isBatonError } from '../src/errors.js'
import {
  computeKeyHash,
  type Ed25519Backend,
  formatKeyHash,
  formatSignerKey,
  formatVerifierKey,
  generateKeyPair,
  isValidKeyName,
  KeyFormatError,
  type KeyProblem,
  keyNameProblem,
  parseSignerKey,
  parseVerifierKey,
} from '../src/keys.js'

// Published vectors from golang.org/x/mod/sumdb/note (note_test.go).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop'
// The Go checksum database's public key, as compiled into the go command.
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8'

const BACKENDS: readonly Ed25519Backend[] = ['node', 'noble']

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64')
}

function unb64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'))
}

function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'))
}

function keyError(fn: () => unknown): KeyFormatError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFormatError)
    expect(isBatonError(error, 'BAD_SIGNATURE')).toBe(true)
    return error as KeyFormatError
  }
  throw new Error('expected a KeyFormatError')
}

function expectProblem(fn: () => unknown, problem: KeyProblem, message?: RegExp): void {
  const error = keyError(fn)
  expect(error.problem).toBe(problem)
  if (message !== undefined) expect(error.message).toMatch(message)
}

/** Verifier key text with a correct hash over arbitrary key data (type byte included). */
function vkeyWithData(name: string, data: Uint8Array): string {
  // sha256(name ‖ 0x0A ‖ data), computed independently of the code under test
  const digest = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), data]))
    .digest()
  return `${name}+${Buffer.from(digest.subarray(0, 4)).toString('hex')}+${b64(data)}`
}

describe('published vectors', () => {
  it.each(BACKENDS)('parses the PeterNeumann verifier key (%s)', (backend) => {
    const v = parseVerifierKey(PETER_VKEY, { backend })
    expect(v.name).toBe('PeterNeumann')
    expect(v.keyHash).toBe(0xc74f20a3)
    expect(v.publicKey).toHaveLength(32)
    expect(v.verifierKey).toBe(PETER_VKEY)
    expect(b64(v.publicKey)).toBe(
      b64(unb64('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW').slice(1)),
    )
  })

  it.each(BACKENDS)(
    'parses the PeterNeumann signer key and derives its verifier key (%s)',
    (backend) => {
      const s = parseSignerKey(PETER_SKEY, { backend })
      expect(s.name).toBe('PeterNeumann')
      expect(s.keyHash).toBe(0xc74f20a3)
      expect(s.verifierKey).toBe(PETER_VKEY)
      expect(s.verifier().verifierKey).toBe(PETER_VKEY)
      expect(s.verifier()).toBe(s.verifier())
    },
  )

  it('parses the EnochRoot and sum.golang.org verifier keys', () => {
    expect(parseVerifierKey(ENOCH_VKEY).keyHash).toBe(0xaf0cfe78)
    const sumdb = parseVerifierKey(SUMDB_VKEY)
    expect(sumdb.name).toBe('sum.golang.org')
    expect(sumdb.keyHash).toBe(0x033de0ae)
  })

  it('computes the key hash and formats both key texts byte for byte', () => {
    const v = parseVerifierKey(PETER_VKEY)
    expect(computeKeyHash('PeterNeumann', v.publicKey)).toBe(0xc74f20a3)
    expect(formatKeyHash(0xc74f20a3)).toBe('c74f20a3')
    expect(formatKeyHash(0x033de0ae)).toBe('033de0ae')
    expect(formatVerifierKey('PeterNeumann', v.publicKey)).toBe(PETER_VKEY)
    const seed = unb64('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz').slice(1)
    expect(formatSignerKey('PeterNeumann', seed)).toBe(PETER_SKEY)
    expect(generateKeyPair('PeterNeumann', { seed })).toEqual({
      signerKey: PETER_SKEY,
      verifierKey: PETER_VKEY,
    })
  })

  it('accepts an upper-case hash, as Go does', () => {
    expect(parseVerifierKey(PETER_VKEY.replace('c74f20a3', 'C74F20A3')).keyHash).toBe(0xc74f20a3)
  })

  // RFC 8032 §7.1, TEST 1 (empty message).
  it.each(BACKENDS)('signs and verifies RFC 8032 test 1 (%s)', (backend) => {
    const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
    const pub = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
    const sig = hex(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    )
    const signer = parseSignerKey(formatSignerKey('rfc8032', seed), { backend })
    expect(b64(signer.publicKey)).toBe(b64(pub))
    expect(b64(signer.sign(new Uint8Array(0)))).toBe(b64(sig))
    const verifier = parseVerifierKey(formatVerifierKey('rfc8032', pub), { backend })
    expect(verifier.verify(new Uint8Array(0), sig)).toBe(true)
    expect(verifier.verify(new Uint8Array([0]), sig)).toBe(false)
  })
})

describe('generation and backends', () => {
  it('generates distinct, self-consistent key pairs', () => {
    const a = generateKeyPair('example.com/log')
    const b = generateKeyPair('example.com/log')
    expect(a.signerKey).not.toBe(b.signerKey)
    expect(a.signerKey.startsWith('PRIVATE+KEY+example.com/log+')).toBe(true)
    const signer = parseSignerKey(a.signerKey)
    expect(signer.verifierKey).toBe(a.verifierKey)
    const verifier = parseVerifierKey(a.verifierKey)
    const msg = new TextEncoder().encode('hi\n')
    const sig = signer.sign(msg)
    expect(sig).toHaveLength(64)
    expect(verifier.verify(msg, sig)).toBe(true)
    sig[0]! ^= 1
    expect(verifier.verify(msg, sig)).toBe(false)
  })

  it('node and noble make identical signatures and accept each other’s', () => {
    const { signerKey, verifierKey } = generateKeyPair('cross.example')
    const msg = new TextEncoder().encode('cross-check\n')
    const nodeSig = parseSignerKey(signerKey, { backend: 'node' }).sign(msg)
    const nobleSig = parseSignerKey(signerKey, { backend: 'noble' }).sign(msg)
    expect(b64(nodeSig)).toBe(b64(nobleSig))
    expect(parseVerifierKey(verifierKey, { backend: 'noble' }).verify(msg, nodeSig)).toBe(true)
    expect(parseVerifierKey(verifierKey, { backend: 'node' }).verify(msg, nobleSig)).toBe(true)
  })

  it.each(BACKENDS)('verify() returns false, never throws, on junk (%s)', (backend) => {
    const v = parseVerifierKey(PETER_VKEY, { backend })
    const msg = new Uint8Array([1, 2, 3])
    expect(v.verify(msg, new Uint8Array(0))).toBe(false)
    expect(v.verify(msg, new Uint8Array(63))).toBe(false)
    expect(v.verify(msg, new Uint8Array(65))).toBe(false)
    expect(v.verify(msg, new Uint8Array(64).fill(0xff))).toBe(false)
    expect(v.verify(msg, 'nope' as unknown as Uint8Array)).toBe(false)
  })

  it('does not expose the seed on the signer object', () => {
    const seed = new Uint8Array(32).fill(7)
    const signer = parseSignerKey(formatSignerKey('secret.example', seed))
    const dump = JSON.stringify(signer)
    expect(dump).not.toContain(b64(seed))
    expect(Object.values(signer).some((v) => v instanceof Uint8Array && b64(v) === b64(seed))).toBe(
      false,
    )
  })

  it('rejects bad arguments with InvalidInputError', () => {
    expect(() => generateKeyPair('bad name')).toThrow(InvalidInputError)
    expect(() => generateKeyPair('ok', { seed: new Uint8Array(31) })).toThrow(InvalidInputError)
    expect(() => formatVerifierKey('ok', new Uint8Array(33))).toThrow(InvalidInputError)
    expect(() => formatSignerKey('a+b', new Uint8Array(32))).toThrow(InvalidInputError)
    expect(() => formatKeyHash(2 ** 32)).toThrow(InvalidInputError)
    expect(() => formatKeyHash(-1)).toThrow(InvalidInputError)
    expect(() =>
      parseVerifierKey(PETER_VKEY, { backend: 'wasm' as unknown as Ed25519Backend }),
    ).toThrow(InvalidInputError)
    expect(() => parseVerifierKey(42 as unknown as string)).toThrow(InvalidInputError)
  })
})

describe('key names', () => {
  it.each([
    ['example.com/log42', true],
    ['PeterNeumann', true],
    ['ünïcödé/名前', true],
    ['emoji-😀', true],
    ['', false],
    ['a+b', false],
    ['a b', false],
    ['a\tb', false],
    ['a\u00a0b', false],
    ['a\u2003b', false],
    ['a\u3000b', false],
    ['a\u0001b', false],
    ['a\u007fb', false],
    ['a\ud800b', false],
    ['a\udc00', false],
  ])('isValidKeyName(%j) is %s', (name, ok) => {
    expect(isValidKeyName(name)).toBe(ok)
    expect(keyNameProblem(name) === undefined).toBe(ok)
  })
})

describe('parse errors name the problem', () => {
  const peterData = 'ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'

  it('syntax: missing fields', () => {
    expectProblem(() => parseVerifierKey('PeterNeumann'), 'syntax', /<name>\+<hash>\+<key>/)
    expectProblem(() => parseVerifierKey('PeterNeumann+c74f20a3'), 'syntax')
    expectProblem(() => parseVerifierKey(''), 'syntax')
  })

  it('name: empty, whitespace', () => {
    expectProblem(() => parseVerifierKey(`+c74f20a3+${peterData}`), 'name', /must not be empty/)
    expectProblem(
      () => parseVerifierKey(`Peter Neumann+c74f20a3+${peterData}`),
      'name',
      /whitespace/,
    )
    expectProblem(() => parseVerifierKey(`Peter\u00a0+c74f20a3+${peterData}`), 'name')
  })

  it('hash: not 8 hex digits, or not matching', () => {
    expectProblem(() => parseVerifierKey(`PeterNeumann+c74f20a+${peterData}`), 'hash', /8 hex/)
    expectProblem(() => parseVerifierKey(`PeterNeumann+c74f20a3a+${peterData}`), 'hash', /8 hex/)
    expectProblem(() => parseVerifierKey(`PeterNeumann+c74f20g3+${peterData}`), 'hash', /8 hex/)
    expectProblem(() => parseVerifierKey(`PeterNeumann+-74f20a3+${peterData}`), 'hash', /8 hex/)
    expectProblem(
      () => parseVerifierKey(`PeterNeumann+c74f20a4+${peterData}`),
      'hash',
      /does not match/,
    )
    expectProblem(() => parseVerifierKey(`PeterNeuman+c74f20a3+${peterData}`), 'hash')
  })

  it('base64: bad characters, padding, non-canonical bits, empty', () => {
    expectProblem(() => parseVerifierKey('PeterNeumann+c74f20a3+'), 'base64')
    expectProblem(() => parseVerifierKey(`PeterNeumann+c74f20a3+${peterData}=`), 'base64')
    expectProblem(
      () => parseVerifierKey(`PeterNeumann+c74f20a3+${peterData.slice(0, -1)}`),
      'base64',
    )
    expectProblem(
      () => parseVerifierKey(`PeterNeumann+c74f20a3+${peterData.replace('/', '_')}`),
      'base64',
    )
    expectProblem(() => parseVerifierKey(`PeterNeumann+c74f20a3+${peterData} `), 'base64')
    // "AB==" decodes like "AA==" in lenient decoders: non-zero trailing bits.
    expectProblem(() => parseVerifierKey('PeterNeumann+c74f20a3+AB=='), 'base64')
  })

  // Go's vectors: hash adjusted so that only the stated problem remains.
  it('algorithm: unknown signature type byte (Go vector)', () => {
    expectProblem(
      () => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      'algorithm',
      /unknown signature type 0x65/,
    )
  })

  it('length: wrong key length', () => {
    const long = new Uint8Array([...unb64('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), 9, 9])
    expectProblem(
      () => parseVerifierKey(vkeyWithData('PeterNeumann', long)),
      'length',
      /must be 32 bytes, got 34/,
    )
    expectProblem(
      () => parseVerifierKey(vkeyWithData('short', new Uint8Array([1, 2, 3]))),
      'length',
    )
    // Go's wrong-length vector ends in "BADKEY==", whose last group has non-zero
    // padding bits: Go decodes it leniently, here it is rejected one step earlier.
    expectProblem(
      () =>
        parseVerifierKey(
          'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
        ),
      'base64',
    )
  })

  it('public-key: 32 bytes that are not a curve point', () => {
    // Find a y coordinate with no matching x (about half of them).
    let data: Uint8Array | undefined
    for (let y = 2; data === undefined; y++) {
      const pub = new Uint8Array(32)
      pub[0] = y
      try {
        ed25519.Point.fromBytes(pub)
      } catch {
        data = new Uint8Array([1, ...pub])
      }
    }
    expectProblem(() => parseVerifierKey(vkeyWithData('badpoint', data)), 'public-key')
  })

  it('signer keys: prefix, hash, algorithm, length; no key material in messages', () => {
    const seedB64 = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'
    expectProblem(() => parseSignerKey(PETER_VKEY), 'syntax', /must start with PRIVATE\+KEY\+/)
    expectProblem(() => parseSignerKey(`PRIVATE+KEY+PeterNeumann+c74f20a4+${seedB64}`), 'hash')
    expectProblem(
      () => parseSignerKey(`PRIVATE+KEY+PeterNeumann+c74f20a3+Z${seedB64.slice(1)}`),
      'algorithm',
    )
    expectProblem(() => parseSignerKey('PRIVATE+KEY+PeterNeumann+c74f20a3+AQID'), 'length')
    expectProblem(() => parseSignerKey(`PRIVATE+KEY+Peter Neumann+c74f20a3+${seedB64}`), 'name')
    const error = keyError(() => parseVerifierKey(PETER_SKEY))
    expect(error.problem).toBe('syntax')
    expect(error.message).toMatch(/signer \(private\) key/)
    for (const text of [PETER_SKEY.replace('c74f20a3', 'c74f20a4'), PETER_SKEY.slice(0, -2)]) {
      const e = keyError(() => parseSignerKey(text))
      expect(e.message).not.toContain(seedB64.slice(4, 20))
    }
  })

  // Same idea as Go's tests: every proper substring and every one-byte change must fail.
  it.each([
    ['verifier', PETER_VKEY, (t: string) => parseVerifierKey(t)],
    ['signer', PETER_SKEY, (t: string) => parseSignerKey(t)],
  ] as const)('rejects every mangling of the %s key', (_kind, key, parse) => {
    let tried = 0
    for (let i = 0; i <= key.length; i++) {
      for (let j = i + 1; j <= key.length; j++) {
        if (i === 0 && j === key.length) continue
        expect(() => parse(key.slice(i, j)), key.slice(i, j)).toThrow(KeyFormatError)
        tried++
      }
    }
    for (let i = 0; i < key.length; i++) {
      const mangled =
        key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1)
      expect(() => parse(mangled), mangled).toThrow(KeyFormatError)
      tried++
    }
    expect(tried).toBeGreaterThan(1000)
  })
})
