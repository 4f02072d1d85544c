import canonicalizeRef from 'canonicalize'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalize, canonicalizeObject, InvalidInputError, MAX_DEPTH } from '../src/index.js'

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8))
  view.setBigUint64(0, BigInt(`0x${hex}`))
  return view.getFloat64(0)
}

function rejection(fn: () => unknown): InvalidInputError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError)
    return e as InvalidInputError
  }
  throw new Error('expected a rejection')
}

describe('canonicalize: RFC 8785', () => {
  it('serializes the numbers of RFC 8785 appendix B that fit in ±(2^53-1)', () => {
    const table: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['41b3de4355555555', '333333333.3333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ]
    for (const [bits, expected] of table) expect(canonicalize(fromBits(bits))).toBe(expected)
  })

  it('refuses the appendix B values beyond ±(2^53-1) and the non-finite ones', () => {
    for (const bits of [
      '7fefffffffffffff',
      'ffefffffffffffff',
      '4340000000000000',
      'c340000000000000',
      '4430000000000000',
      '44b52d02c7e14af5',
      '44b52d02c7e14af6',
      '7fffffffffffffff',
      '7ff0000000000000',
    ]) {
      expect(() => canonicalize(fromBits(bits)), bits).toThrow(InvalidInputError)
    }
  })

  it('escapes strings as RFC 8785 section 3.2.2.2 prescribes', () => {
    const s = '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/'
    expect(canonicalize(s)).toBe('"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"')
    expect(canonicalize('\b\t\n\f\r\u0001\u001f\u007f\u2028')).toBe(
      '"\\b\\t\\n\\f\\r\\u0001\\u001f\u007f\u2028"',
    )
  })

  it('sorts keys by UTF-16 code units (RFC 8785 section 3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    }
    const keys = Object.keys(JSON.parse(canonicalize(input)))
    // JSON.parse puts the integer-like key first; compare the raw order instead.
    const raw = canonicalize(input)
    const order = ['\\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) =>
      raw.indexOf(`"${k}"`),
    )
    expect(order).toEqual([...order].sort((a, b) => a - b))
    expect(keys).toHaveLength(7)
  })

  it('produces the RFC 8785 example output (without the out-of-range 1e30)', () => {
    const input = {
      // biome-ignore lint/correctness/noPrecisionLoss: the RFC's example input on purpose
      numbers: [333333333.33333329, 4.5, 2e-3, 0.000000000000000000000000001],
      string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/',
      literals: [null, true, false],
    }
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    )
  })

  it('agrees with an independent JCS implementation on random JSON', () => {
    const safe = fc.jsonValue().filter((v) => {
      let ok = true
      JSON.stringify(v, (_k, x) => {
        if (typeof x === 'number' && Math.abs(x) > Number.MAX_SAFE_INTEGER) ok = false
        return x
      })
      return ok
    })
    fc.assert(
      fc.property(safe, (v) => {
        expect(canonicalize(v)).toBe(canonicalizeRef(v))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('canonicalize: refusals name the path', () => {
  it.each([
    [
      { probes: [{ ms: 1 }, { ms: 2 }, { ms: Number.NaN }] },
      'data.probes[2].ms',
      'NaN is not allowed',
    ],
    [{ a: Number.POSITIVE_INFINITY }, 'data.a', 'Infinity is not allowed'],
    [{ a: undefined }, 'data.a', 'undefined is not allowed'],
    [{ a: 10n }, 'data.a', 'BigInt'],
    [{ a: () => 1 }, 'data.a', 'function'],
    [{ a: Symbol('x') }, 'data.a', 'symbol'],
    [{ a: new Date(0) }, 'data.a', 'Date is not a plain object'],
    [{ a: new Map() }, 'data.a', 'Map is not a plain object'],
    [{ a: new Uint8Array(2) }, 'data.a', 'Uint8Array is not a plain object'],
    [{ a: 2 ** 53 }, 'data.a', 'pass it as a string'],
    [{ a: -(2 ** 53) }, 'data.a', 'pass it as a string'],
    [{ 'odd key': '\ud800' }, 'data["odd key"]', 'lone surrogate'],
    [{ '\udc00': 1 }, 'data["\\udc00"]', 'key contains a lone surrogate'],
  ])('%o → %s', (data, path, reason) => {
    const e = rejection(() => canonicalizeObject(data))
    expect(e.path).toBe(path)
    expect(e.message).toContain(reason)
    expect(e.code).toBe('INVALID_INPUT')
  })

  it('refuses sparse arrays, cycles, symbol keys and excessive depth', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(rejection(() => canonicalizeObject({ a: [1, , 3] })).path).toBe('data.a[1]')
    const cyclic: Record<string, unknown> = { x: 1 }
    cyclic.self = { back: cyclic }
    expect(rejection(() => canonicalizeObject(cyclic)).path).toBe('data.self.back')
    expect(rejection(() => canonicalizeObject({ [Symbol('s')]: 1 })).reason).toContain('symbol')
    let deep: unknown = 1
    for (let i = 0; i < MAX_DEPTH + 1; i++) deep = [deep]
    expect(rejection(() => canonicalizeObject({ deep })).reason).toContain('nesting')
  })

  it('requires data to be an object', () => {
    for (const v of [null, [], 'x', 1, true]) {
      expect(rejection(() => canonicalizeObject(v)).path).toBe('data')
    }
  })

  it('accepts null-prototype objects, -0 and the largest safe integers', () => {
    const o = Object.assign(Object.create(null) as object, { b: -0, a: Number.MAX_SAFE_INTEGER })
    expect(canonicalizeObject(o)).toBe('{"a":9007199254740991,"b":0}')
    expect(canonicalize(-Number.MAX_SAFE_INTEGER)).toBe('-9007199254740991')
  })
})
