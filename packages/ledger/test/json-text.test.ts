import { describe, expect, it } from 'vitest'
import { canonicalize, InvalidInputError, parseJsonText } from '../src/index.js'

function refusal(text: string, options?: Parameters<typeof parseJsonText>[1]): InvalidInputError {
  try {
    parseJsonText(text, options)
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError)
    return e as InvalidInputError
  }
  throw new Error(`accepted ${text}`)
}

describe('parseJsonText', () => {
  it('parses standard JSON like JSON.parse', () => {
    const text = '{"a":[1,2.5,-3e2,"x\\u00e9",true,false,null],"b":{"c":{}}}'
    expect(parseJsonText(text)).toEqual(JSON.parse(text))
  })

  it('refuses duplicate keys naming path, line and column', () => {
    const e = refusal('{\n  "probes": [{"ms": 1, "ms": 2}]\n}', { path: 'data', source: '--data' })
    expect(e.path).toBe('data.probes[0].ms')
    expect(e.message).toBe('data.probes[0].ms: duplicate key (--data, line 2, column 24)')
  })

  it('refuses integers that would lose precision', () => {
    const e = refusal('{"id": 12345678901234567890}', { path: 'data' })
    expect(e.path).toBe('data.id')
    expect(e.message).toContain('12345678901234567890')
    expect(e.message).toContain('pass it as a string')
    expect(parseJsonText('{"n": 9007199254740991}')).toEqual({ n: 9007199254740991 })
    expect(refusal('[1e400]').message).toContain('1e400')
  })

  it('refuses syntax errors with the position', () => {
    const e = refusal('{"a": 1,}', { source: 'stdin line 4' })
    expect(e.message).toMatch(/invalid JSON \(stdin line 4, column 9\)/)
    expect(refusal("{'a': 1}").message).toContain('invalid JSON')
    expect(refusal('{"a": NaN}').message).toContain('invalid JSON')
    expect(refusal('').message).toContain('invalid JSON')
  })

  it('keeps a __proto__ key as data, never as a prototype', () => {
    const v = parseJsonText('{"__proto__": {"polluted": true}}') as Record<string, unknown>
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(canonicalize(v)).toBe('{"__proto__":{"polluted":true}}')
  })
})
