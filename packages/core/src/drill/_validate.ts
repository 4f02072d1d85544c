/**
 * Internal: small validators for scenario files. Each throws a
 * {@link ConfigError} naming the path of the bad field.
 *
 * @internal
 * @module
 */
import { ConfigError } from '../errors.js'

/** A plain object, or a `ConfigError` at `path`; unknown keys are refused. */
export function record(
  path: string,
  value: unknown,
  keys: readonly string[],
): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, `must be an object, got ${describe(value)}`)
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new ConfigError(join(path, key), `unknown field (expected one of ${keys.join(', ')})`)
    }
  }
  return value as Readonly<Record<string, unknown>>
}

/** `path.key`, or `key` at the root. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  return path === '' ? key : `${path}.${key}`
}

/** A short description of a bad value for messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'object') return 'an object'
  return String(value)
}

/** A non-empty string. */
export function text(path: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError(path, `must be a non-empty string, got ${describe(value)}`)
  }
  return value
}

/** A boolean. */
export function flag(path: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new ConfigError(path, `must be a boolean, got ${describe(value)}`)
  return value
}

/** A finite number within `[min, max]`. */
export function number(
  path: string,
  value: unknown,
  min = 0,
  max = Number.POSITIVE_INFINITY,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(path, `must be a finite number, got ${describe(value)}`)
  }
  if (value < min) throw new ConfigError(path, `must be at least ${min}, got ${value}`)
  if (value > max) throw new ConfigError(path, `must be at most ${max}, got ${value}`)
  return value
}

/** A safe integer within `[min, max]`. */
export function integer(
  path: string,
  value: unknown,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = number(path, value, min, max)
  if (!Number.isSafeInteger(n)) throw new ConfigError(path, `must be an integer, got ${n}`)
  return n
}

/** One of `options`. */
export function oneOf<T extends string>(path: string, value: unknown, options: readonly T[]): T {
  if (typeof value !== 'string' || !options.includes(value as T)) {
    throw new ConfigError(path, `must be one of ${options.join(', ')}, got ${describe(value)}`)
  }
  return value as T
}

/** An array (possibly empty unless `nonEmpty`). */
export function list(path: string, value: unknown, nonEmpty = false): readonly unknown[] {
  if (!Array.isArray(value)) throw new ConfigError(path, `must be an array, got ${describe(value)}`)
  if (nonEmpty && value.length === 0) throw new ConfigError(path, 'must not be empty')
  return value
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y

/**
 * A duration in milliseconds: a non-negative number (ms) or a string such
 * as `500ms`, `90s`, `15m`, `1h30m`, `2d`.
 */
export function duration(path: string, value: unknown): number {
  if (typeof value === 'number') return Math.round(number(path, value))
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(
      path,
      `must be a duration (ms, or a string like "90s", "15m", "1h30m"), got ${describe(value)}`,
    )
  }
  const s = value.trim()
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex
    const m = PART.exec(s)
    if (m === null || m.index !== at) {
      throw new ConfigError(
        path,
        `must be a duration like "90s", "15m" or "1h30m", got ${describe(value)}`,
      )
    }
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  }
  return Math.round(total)
}

/** A number, or an inclusive `[min, max]` range the drill draws from with its seed. */
export type Span = number | readonly [number, number]

/** A {@link Span} of durations. */
export function durationSpan(path: string, value: unknown): Span {
  if (Array.isArray(value)) {
    if (value.length !== 2) throw new ConfigError(path, 'a range must be [min, max]')
    const lo = duration(join(path, 0), value[0])
    const hi = duration(join(path, 1), value[1])
    if (hi < lo) throw new ConfigError(join(path, 1), `must not be below the minimum ${lo}`)
    return [lo, hi]
  }
  return duration(path, value)
}

/** A {@link Span} of numbers within `[min, max]`. */
export function numberSpan(
  path: string,
  value: unknown,
  min = 0,
  max = Number.POSITIVE_INFINITY,
): Span {
  if (Array.isArray(value)) {
    if (value.length !== 2) throw new ConfigError(path, 'a range must be [min, max]')
    const lo = number(join(path, 0), value[0], min, max)
    const hi = number(join(path, 1), value[1], min, max)
    if (hi < lo) throw new ConfigError(join(path, 1), `must not be below the minimum ${lo}`)
    return [lo, hi]
  }
  return number(path, value, min, max)
}

/** Runs `fn`, prefixing the path of any `ConfigError` it throws with `prefix`. */
export function under<T>(prefix: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError(error.path === '' ? prefix : join(prefix, error.path), error.reason)
    }
    throw error
  }
}
