/**
 * Ed25519 keys for C2SP signed notes, in the standard text formats shared
 * with `golang.org/x/mod/sumdb/note` and the C2SP tooling:
 *
 * - signer (private) key: `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ 32-byte seed)>`
 * - verifier (public) key: `<name>+<hash>+<base64(0x01 ‖ 32-byte public key)>`
 *
 * where `<hash>` is the key ID as 8 hex digits: the first 4 bytes (big-endian)
 * of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
 *
 * Signing and verification run on Node's built-in Ed25519 (OpenSSL), which
 * is an order of magnitude faster than pure JavaScript (see BENCHMARKS.md).
 * `@noble/curves` is the portable reference: it is used when the runtime's
 * `node:crypto` has no Ed25519, when `{ backend: 'noble' }` is asked for, and
 * to check at parse time that a public key is a valid curve point. Both
 * produce identical signatures (Ed25519 is deterministic).
 *
 * @module
 */
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  randomBytes,
} from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { decodeBase64, toBase64 } from './_text.js'
import { type BatonErrorOptions, InvalidInputError, LedgerError } from './errors.js'
import { sha256 } from './hash.js'

/** Signature type identifier byte of Ed25519 in C2SP signed notes. */
export const ED25519_ALGORITHM = 0x01

/** Length in bytes of an Ed25519 seed (private key) and of a public key. */
export const ED25519_KEY_BYTES = 32

/** Length in bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64

/** The literal prefix that marks signer (private) key text. */
export const SIGNER_KEY_PREFIX = 'PRIVATE+KEY+'

/** What is wrong with a key's text, carried by {@link KeyFormatError}. */
export type KeyProblem =
  /** The text does not have the `name+hash+key` (or `PRIVATE+KEY+…`) shape. */
  | 'syntax'
  /** The key name is empty, or holds whitespace, `+` or control characters. */
  | 'name'
  /** The hash field is not 8 hex digits, or does not match the name and key. */
  | 'hash'
  /** The key data is not canonical standard base64. */
  | 'base64'
  /** The key data's first byte is not a known signature type. */
  | 'algorithm'
  /** The key data has the wrong length for its signature type. */
  | 'length'
  /** The Ed25519 public key does not decode to a curve point. */
  | 'public-key'

/**
 * A signer or verifier key's text is malformed. `problem` says which part is
 * wrong; the message says how. Messages never include private key material.
 */
export class KeyFormatError extends LedgerError {
  /** Which part of the key text is wrong. */
  readonly problem: KeyProblem

  constructor(problem: KeyProblem, message: string, options?: BatonErrorOptions) {
    super('BAD_SIGNATURE', message, options)
    this.problem = problem
  }
}

/** Verifies signatures made by one key; what `openNote` needs to know about a trusted key. */
export interface NoteVerifier {
  /** The key name, as written in signature lines. */
  readonly name: string
  /** The 32-bit key ID, as written (big-endian) in the first 4 bytes of each signature. */
  readonly keyHash: number
  /** True when `signature` (without the 4-byte key ID) is this key's signature of `message`. */
  verify(message: Uint8Array, signature: Uint8Array): boolean
}

/** Signs with one key; what `signNote` needs from a private key. */
export interface NoteSigner {
  /** The key name, as written in signature lines. */
  readonly name: string
  /** The 32-bit key ID, written (big-endian) before each signature. */
  readonly keyHash: number
  /** The signature of `message` (without the 4-byte key ID). */
  sign(message: Uint8Array): Uint8Array
}

/** An Ed25519 {@link NoteVerifier} parsed from, or built for, verifier key text. */
export interface Ed25519Verifier extends NoteVerifier {
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  /** The verifier key text, `<name>+<hash>+<base64>`. */
  readonly verifierKey: string
}

/**
 * An Ed25519 {@link NoteSigner} parsed from signer key text. The seed is held
 * privately (in a closure), so logging or serializing the object does not
 * reveal it.
 */
export interface Ed25519Signer extends NoteSigner {
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  /** The matching verifier key text, to hand to verifiers. */
  readonly verifierKey: string
  /** The matching verifier. */
  verifier(): Ed25519Verifier
}

/** Which Ed25519 implementation signs and verifies. */
export type Ed25519Backend =
  /** Node's `crypto.sign` / `crypto.verify` (OpenSSL); the default when available. */
  | 'node'
  /** `@noble/curves` in pure JavaScript; the portable reference. */
  | 'noble'

/** Options for building signers and verifiers. */
export interface KeyOptions {
  /** Implementation to use; defaults to `'node'`, falling back to `'noble'` if Node lacks Ed25519. */
  readonly backend?: Ed25519Backend
}

/** A freshly generated key pair in text form. */
export interface GeneratedKeyPair {
  /** `PRIVATE+KEY+<name>+<hash>+<base64>`; keep it secret. */
  readonly signerKey: string
  /** `<name>+<hash>+<base64>`; give it to verifiers. */
  readonly verifierKey: string
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const WHITE_SPACE = /\p{White_Space}/u

let nodeEd25519: boolean | undefined

/** Whether this runtime's `node:crypto` supports Ed25519 (checked once). */
function hasNodeEd25519(): boolean {
  if (nodeEd25519 === undefined) {
    try {
      const key = nodePrivateKey(new Uint8Array(ED25519_KEY_BYTES))
      nodeSign(null, new Uint8Array(0), key)
      nodeEd25519 = true
    } catch {
      nodeEd25519 = false
    }
  }
  return nodeEd25519
}

function resolveBackend(options: KeyOptions | undefined): Ed25519Backend {
  const wanted = options?.backend ?? 'node'
  if (wanted !== 'node' && wanted !== 'noble') {
    throw new InvalidInputError('backend', `must be 'node' or 'noble', got ${String(wanted)}`)
  }
  return wanted === 'node' && hasNodeEd25519() ? 'node' : 'noble'
}

function nodePrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
}

function nodePublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  })
}

/**
 * Why `name` cannot be a key name, or `undefined` when it can. Key names are
 * non-empty, well-formed Unicode, with no whitespace (Unicode White_Space),
 * no `+` and no control characters.
 */
export function keyNameProblem(name: string): string | undefined {
  if (typeof name !== 'string') return 'must be a string'
  if (name === '') return 'must not be empty'
  if (name.includes('+')) return "must not contain '+'"
  if (WHITE_SPACE.test(name)) return 'must not contain whitespace'
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return 'must not contain control characters'
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = name.charCodeAt(i + 1)
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return 'must not contain lone surrogates'
      i++
    }
  }
  return undefined
}

/** True when `name` is a valid key name (see {@link keyNameProblem}). */
export function isValidKeyName(name: string): boolean {
  return keyNameProblem(name) === undefined
}

/**
 * The C2SP key ID of an Ed25519 key: the first 4 bytes, big-endian, of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ publicKey), as an unsigned 32-bit integer.
 */
export function computeKeyHash(name: string, publicKey: Uint8Array): number {
  assertName(name, 'name')
  assertKeyBytes(publicKey, 'publicKey')
  return rawKeyHash(name, concat([ED25519_ALGORITHM], publicKey))
}

/** Key ID over `name ‖ 0x0A ‖ typedKey`, where `typedKey` starts with its signature type byte. */
function rawKeyHash(name: string, typedKey: Uint8Array): number {
  const nameBytes = Buffer.from(name, 'utf8')
  const data = new Uint8Array(nameBytes.length + 1 + typedKey.length)
  data.set(nameBytes, 0)
  data[nameBytes.length] = 0x0a
  data.set(typedKey, nameBytes.length + 1)
  const digest = sha256(data)
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false)
}

/** A key ID as it appears in key text: 8 lowercase hex digits. */
export function formatKeyHash(hash: number): string {
  if (!Number.isInteger(hash) || hash < 0 || hash > 0xffffffff) {
    throw new InvalidInputError('hash', 'must be an unsigned 32-bit integer')
  }
  return hash.toString(16).padStart(8, '0')
}

/** Verifier key text `<name>+<hash>+<base64(0x01 ‖ publicKey)>` for a 32-byte Ed25519 public key. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const hash = computeKeyHash(name, publicKey)
  return `${name}+${formatKeyHash(hash)}+${toBase64(concat([ED25519_ALGORITHM], publicKey))}`
}

/**
 * Signer key text `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>` for a
 * 32-byte Ed25519 seed (the RFC 8032 private key).
 */
export function formatSignerKey(name: string, seed: Uint8Array): string {
  assertName(name, 'name')
  assertKeyBytes(seed, 'seed')
  const publicKey = derivePublicKey(seed, resolveBackend(undefined))
  const hash = formatKeyHash(computeKeyHash(name, publicKey))
  return `${SIGNER_KEY_PREFIX}${name}+${hash}+${toBase64(concat([ED25519_ALGORITHM], seed))}`
}

/**
 * Generates a new Ed25519 key pair for `name`, from `options.seed` (32 bytes,
 * for reproducible tests) or from the system's CSPRNG.
 */
export function generateKeyPair(
  name: string,
  options: { readonly seed?: Uint8Array } = {},
): GeneratedKeyPair {
  assertName(name, 'name')
  const seed = options.seed ?? new Uint8Array(randomBytes(ED25519_KEY_BYTES))
  assertKeyBytes(seed, 'seed')
  const publicKey = derivePublicKey(seed, resolveBackend(undefined))
  const verifierKey = formatVerifierKey(name, publicKey)
  const hash = verifierKey.slice(name.length + 1, name.length + 9)
  const signerKey = `${SIGNER_KEY_PREFIX}${name}+${hash}+${toBase64(concat([ED25519_ALGORITHM], seed))}`
  return { signerKey, verifierKey }
}

/**
 * Parses verifier key text `<name>+<hash>+<base64(0x01 ‖ public key)>`.
 * The hash is checked over the name and the decoded key data before the
 * signature type, so a key of an unknown type reports `'algorithm'`.
 *
 * @throws KeyFormatError naming the problem (`'syntax'`, `'name'`, `'hash'`,
 *   `'base64'`, `'algorithm'`, `'length'`, `'public-key'`).
 */
export function parseVerifierKey(text: string, options?: KeyOptions): Ed25519Verifier {
  if (typeof text !== 'string') throw new InvalidInputError('verifierKey', 'must be a string')
  if (text.startsWith(SIGNER_KEY_PREFIX)) {
    throw new KeyFormatError(
      'syntax',
      'verifier key: this is a signer (private) key; use the verifier key `<name>+<hash>+<key>`',
    )
  }
  const fields = splitKeyText(text, 'verifier key')
  checkName(fields.name, 'verifier key')
  const hash = parseHashField(fields.hash, 'verifier key')
  const typed = decodeKeyData(fields.data, 'verifier key')
  if (rawKeyHash(fields.name, typed) !== hash) {
    throw new KeyFormatError(
      'hash',
      `verifier key: hash ${fields.hash} does not match name ${JSON.stringify(fields.name)} and key`,
    )
  }
  const publicKey = checkTypedKey(typed, 'verifier key', 'public key')
  if (!isCurvePoint(publicKey)) {
    throw new KeyFormatError('public-key', 'verifier key: not a valid Ed25519 public key')
  }
  return makeVerifier(fields.name, hash, publicKey, text, resolveBackend(options))
}

/**
 * Parses signer key text `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`.
 * The hash is checked against the public key derived from the seed.
 *
 * @throws KeyFormatError naming the problem; the message never includes key material.
 */
export function parseSignerKey(text: string, options?: KeyOptions): Ed25519Signer {
  if (typeof text !== 'string') throw new InvalidInputError('signerKey', 'must be a string')
  if (!text.startsWith(SIGNER_KEY_PREFIX)) {
    throw new KeyFormatError('syntax', `signer key: must start with ${SIGNER_KEY_PREFIX}`)
  }
  const fields = splitKeyText(text.slice(SIGNER_KEY_PREFIX.length), 'signer key')
  checkName(fields.name, 'signer key')
  const hash = parseHashField(fields.hash, 'signer key')
  const typed = decodeKeyData(fields.data, 'signer key')
  const seed = checkTypedKey(typed, 'signer key', 'seed')
  const backend = resolveBackend(options)
  const publicKey = derivePublicKey(seed, backend)
  if (computeKeyHash(fields.name, publicKey) !== hash) {
    throw new KeyFormatError(
      'hash',
      `signer key: hash ${fields.hash} does not match name ${JSON.stringify(fields.name)} and key`,
    )
  }
  const verifierKey = formatVerifierKey(fields.name, publicKey)
  let sign: (message: Uint8Array) => Uint8Array
  if (backend === 'node') {
    const key = nodePrivateKey(seed)
    sign = (message) => new Uint8Array(nodeSign(null, message, key))
  } else {
    const secret = seed.slice()
    sign = (message) => ed25519.sign(message, secret)
  }
  let verifier: Ed25519Verifier | undefined
  return {
    name: fields.name,
    keyHash: hash,
    publicKey: publicKey.slice(),
    verifierKey,
    sign(message: Uint8Array): Uint8Array {
      return sign(message)
    },
    verifier(): Ed25519Verifier {
      verifier ??= makeVerifier(fields.name, hash, publicKey, verifierKey, backend)
      return verifier
    },
  }
}

function makeVerifier(
  name: string,
  keyHash: number,
  publicKey: Uint8Array,
  verifierKey: string,
  backend: Ed25519Backend,
): Ed25519Verifier {
  let verify: (message: Uint8Array, signature: Uint8Array) => boolean
  if (backend === 'node') {
    const key = nodePublicKey(publicKey)
    verify = (message, signature) => nodeVerify(null, message, key, signature)
  } else {
    const pub = publicKey.slice()
    verify = (message, signature) => ed25519.verify(signature, message, pub, { zip215: false })
  }
  return {
    name,
    keyHash,
    publicKey: publicKey.slice(),
    verifierKey,
    verify(message: Uint8Array, signature: Uint8Array): boolean {
      if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) {
        return false
      }
      try {
        return verify(message, signature)
      } catch {
        return false
      }
    },
  }
}

function derivePublicKey(seed: Uint8Array, backend: Ed25519Backend): Uint8Array {
  if (backend === 'noble') return ed25519.getPublicKey(seed)
  const spki = createPublicKey(nodePrivateKey(seed)).export({ format: 'der', type: 'spki' })
  return new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length))
}

function isCurvePoint(publicKey: Uint8Array): boolean {
  try {
    ed25519.Point.fromBytes(publicKey, false)
    return true
  } catch {
    return false
  }
}

/** Splits `name+hash+data` at the first two `+` (base64 data may itself hold `+`). */
function splitKeyText(
  text: string,
  what: string,
): { readonly name: string; readonly hash: string; readonly data: string } {
  const first = text.indexOf('+')
  const second = first < 0 ? -1 : text.indexOf('+', first + 1)
  if (first < 0 || second < 0) {
    throw new KeyFormatError('syntax', `${what}: expected <name>+<hash>+<key>`)
  }
  return {
    name: text.slice(0, first),
    hash: text.slice(first + 1, second),
    data: text.slice(second + 1),
  }
}

function checkName(name: string, what: string): void {
  const problem = keyNameProblem(name)
  if (problem !== undefined) throw new KeyFormatError('name', `${what}: key name ${problem}`)
}

function parseHashField(hash: string, what: string): number {
  if (!/^[0-9a-fA-F]{8}$/.test(hash)) {
    throw new KeyFormatError('hash', `${what}: hash must be 8 hex digits`)
  }
  return Number.parseInt(hash, 16)
}

function decodeKeyData(data: string, what: string): Uint8Array {
  const typed = decodeBase64(data)
  if (typed === undefined || typed.length === 0) {
    throw new KeyFormatError('base64', `${what}: key data is not non-empty canonical base64`)
  }
  return typed
}

/** Checks the signature type byte and length; returns the 32 key bytes after the type byte. */
function checkTypedKey(typed: Uint8Array, what: string, part: string): Uint8Array {
  const algorithm = typed[0]!
  if (algorithm !== ED25519_ALGORITHM) {
    throw new KeyFormatError(
      'algorithm',
      `${what}: unknown signature type 0x${algorithm.toString(16).padStart(2, '0')} (only 0x01, Ed25519, is supported)`,
    )
  }
  if (typed.length !== 1 + ED25519_KEY_BYTES) {
    throw new KeyFormatError(
      'length',
      `${what}: Ed25519 ${part} must be ${ED25519_KEY_BYTES} bytes, got ${typed.length - 1}`,
    )
  }
  return typed.slice(1)
}

function assertName(name: string, path: string): void {
  const problem = keyNameProblem(name)
  if (problem !== undefined) throw new InvalidInputError(path, problem)
}

function assertKeyBytes(bytes: Uint8Array, path: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ED25519_KEY_BYTES) {
    throw new InvalidInputError(path, `must be ${ED25519_KEY_BYTES} bytes`)
  }
}

function concat(head: readonly number[], tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + tail.length)
  out.set(head, 0)
  out.set(tail, head.length)
  return out
}
