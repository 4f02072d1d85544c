/**
 * RFC 8785 (JSON Canonicalization Scheme) serialization with strict input
 * validation.
 *
 * {@link canonicalize} turns a JavaScript value into its canonical JSON text
 * and refuses, with an {@link InvalidInputError} naming the path of the bad
 * field, anything JCS cannot represent faithfully: `undefined`, functions,
 * symbols, BigInt, NaN and ±Infinity, integers beyond 2^53-1 (carry those as
 * strings), non-plain objects (Date, Map, class instances, typed arrays),
 * sparse arrays, lone surrogates, circular references and nesting deeper than
 * {@link MAX_DEPTH}.
 *
 * Keys are sorted by UTF-16 code units (JavaScript's default sort), strings
 * are escaped exactly as `JSON.stringify` escapes well-formed strings (which
 * is what RFC 8785 §3.2.2.2 prescribes), and numbers are printed by the
 * ECMAScript Number-to-String algorithm (RFC 8785 §3.2.2.3).
 *
 * @module
 */
import { InvalidInputError } from './errors.js'

/** A JSON value a receipt may carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject

/** A JSON object a receipt's `data` may be. */
export interface JsonObject {
  [key: string]: JsonValue
}

/** Deepest nesting of arrays and objects accepted, to keep stacks bounded. */
export const MAX_DEPTH = 128

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Appends a key or index to a JSONPath-like path: `a.b`, `a["x y"]`, `a[3]`. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  if (IDENT.test(key)) return path === '' ? key : `${path}.${key}`
  return `${path}[${JSON.stringify(key)}]`
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null
  return proto?.constructor?.name ?? 'object'
}

/**
 * Where a value sits, as a chain of keys up to the root. The path string is
 * built only when an error needs it, so valid input pays nothing for it.
 */
interface Where {
  readonly up: Where | null
  readonly key: string | number
}

function pathOf(root: string, where: Where | null): string {
  const keys: (string | number)[] = []
  for (let w = where; w !== null; w = w.up) keys.push(w.key)
  let path = root
  for (let i = keys.length - 1; i >= 0; i--) path = joinPath(path, keys[i]!)
  return path
}

/** Keys and strings needing no escapes can be quoted without `JSON.stringify`. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/

function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`
}

class Serializer {
  private readonly stack: object[] = []

  constructor(private readonly root: string) {}

  /** Throws for the value at `key` under `up` (`key` undefined: `up` itself). */
  fail(up: Where | null, key: string | number | undefined, reason: string): never {
    throw new InvalidInputError(pathOf(this.root, key === undefined ? up : { up, key }), reason)
  }

  /** Serializes the value found at `key` under `up` (both only for error paths). */
  value(value: unknown, up: Where | null, key: string | number | undefined, depth: number): string {
    switch (typeof value) {
      case 'string':
        if (!value.isWellFormed()) this.fail(up, key, 'string contains a lone surrogate')
        return quote(value)
      case 'number':
        if (Number.isNaN(value)) this.fail(up, key, 'NaN is not allowed')
        if (!Number.isFinite(value)) this.fail(up, key, `${value} is not allowed`)
        if (value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER) {
          this.fail(
            up,
            key,
            `${value} is beyond ±(2^53-1) and cannot be carried exactly; pass it as a string`,
          )
        }
        return JSON.stringify(value)
      case 'boolean':
        return value ? 'true' : 'false'
      case 'undefined':
        return this.fail(up, key, 'undefined is not allowed (omit the field or use null)')
      case 'bigint':
        return this.fail(up, key, 'BigInt is not allowed; pass it as a string')
      case 'function':
        return this.fail(up, key, 'a function is not allowed')
      case 'symbol':
        return this.fail(up, key, 'a symbol is not allowed')
    }
    if (value === null) return 'null'
    // A container: only now is a path node needed (for its children's errors).
    const where: Where | null = key === undefined ? up : { up, key }
    const obj = value as object
    if (depth >= MAX_DEPTH) {
      this.fail(where, undefined, `nesting deeper than ${MAX_DEPTH} levels is not allowed`)
    }
    if (this.stack.includes(obj)) this.fail(where, undefined, 'circular reference')
    this.stack.push(obj)
    const out = Array.isArray(obj) ? this.array(obj, where, depth) : this.object(obj, where, depth)
    this.stack.pop()
    return out
  }

  private array(arr: unknown[], where: Where | null, depth: number): string {
    if (Object.getPrototypeOf(arr) !== Array.prototype) {
      this.fail(where, undefined, `${describe(arr)} is not a plain array`)
    }
    let out = '['
    for (let i = 0; i < arr.length; i++) {
      if (!(i in arr)) this.fail(where, i, 'sparse array hole')
      if (i > 0) out += ','
      out += this.value(arr[i], where, i, depth + 1)
    }
    return `${out}]`
  }

  private object(obj: object, where: Where | null, depth: number): string {
    const proto = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      this.fail(where, undefined, `${describe(obj)} is not a plain object`)
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) {
      this.fail(where, undefined, 'symbol-keyed properties are not allowed')
    }
    const keys = Object.keys(obj).sort()
    let out = '{'
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      if (!key.isWellFormed()) this.fail(where, key, 'key contains a lone surrogate')
      if (i > 0) out += ','
      out += quote(key)
      out += ':'
      out += this.value((obj as Record<string, unknown>)[key], where, key, depth + 1)
    }
    return `${out}}`
  }
}

/**
 * Serializes `value` as RFC 8785 canonical JSON, validating it on the way.
 *
 * @param value - any JSON-compatible value.
 * @param path - path used in error messages for the root (default `''`; the ledger uses `data`).
 * @returns the canonical JSON text.
 * @throws {@link InvalidInputError} naming the path of the first value that
 *   cannot be represented faithfully, e.g. `data.probes[2].ms: NaN is not allowed`.
 *
 * @example
 * ```ts
 * canonicalize({ b: 1, a: [true, null, 1e21] }) // '{"a":[true,null,1e+21],"b":1}'
 * ```
 */
export function canonicalize(value: unknown, path = ''): string {
  return new Serializer(path).value(value, null, undefined, 0)
}

/**
 * Like {@link canonicalize}, but also requires the root to be a plain object,
 * as a receipt's `data` must be.
 */
export function canonicalizeObject(value: unknown, path = 'data'): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(path, `must be a JSON object, got ${describe(value)}`)
  }
  return new Serializer(path).value(value, null, undefined, 0)
}
