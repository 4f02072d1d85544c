/**
 * A small seeded pseudo-random source (mulberry32), so that simulations and
 * drills are deterministic by seed. Not for anything secret.
 *
 * @module
 */
import { ConfigError } from '../errors.js'

/** A deterministic source of pseudo-random numbers. */
export interface Random {
  /** The 32-bit seed this source started from (strings are hashed to one). */
  readonly seed: number
  /** A number in `[0, 1)`. */
  next(): number
  /** An integer in `[0, maxExclusive)`; `maxExclusive` must be a positive integer. */
  int(maxExclusive: number): number
  /** True with probability `p` (clamped to `[0, 1]`; 0 never, 1 always, without drawing). */
  chance(p: number): boolean
  /** One of `items`, uniformly; throws a `ConfigError` for an empty list. */
  pick<T>(items: readonly T[]): T
  /**
   * A key of `weights` chosen with probability proportional to its weight
   * (keys in sorted order, so the insertion order of the map does not
   * matter); `undefined` when no weight is positive. Negative and
   * non-finite weights count as 0.
   */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K | undefined
  /**
   * A new, independent source derived from this one's next draw and
   * `label`. Give each concern (workload, probes, faults) its own fork so
   * that extra draws in one do not shift the others.
   */
  fork(label?: string): Random
}

/** FNV-1a over UTF-16 code units, then a final avalanche (32-bit). */
function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function seedOf(seed: number | string): number {
  if (typeof seed === 'string') return hash32(seed)
  if (!Number.isSafeInteger(seed)) {
    throw new ConfigError('seed', `must be a safe integer or a string, got ${String(seed)}`)
  }
  // Mix the whole 53 bits (not just the low 32) so that seeds 2^32 apart differ.
  return hash32(`n:${seed}`)
}

/**
 * A seeded random source. The same seed always gives the same sequence
 * (on every platform: only 32-bit integer arithmetic is used).
 *
 * @param seed a safe integer or any string (hashed); default 0.
 * @throws ConfigError (`seed`) for a non-integer number.
 *
 * @example
 * ```ts
 * const random = createRandom(42)
 * random.chance(0.1) // the same answer every run
 * ```
 */
export function createRandom(seed: number | string = 0): Random {
  return fromState(seedOf(seed))
}

function fromState(seed: number): Random {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const random: Random = {
    seed,
    next,
    int(maxExclusive) {
      if (!Number.isSafeInteger(maxExclusive) || maxExclusive < 1) {
        throw new ConfigError('maxExclusive', `must be a positive integer, got ${maxExclusive}`)
      }
      return Math.floor(next() * maxExclusive)
    },
    chance(p) {
      if (!(p > 0)) return false
      if (p >= 1) return true
      return next() < p
    },
    pick(items) {
      if (items.length === 0) throw new ConfigError('items', 'cannot pick from an empty list')
      return items[Math.floor(next() * items.length)]!
    },
    weighted(weights) {
      const keys = (Object.keys(weights) as (keyof typeof weights & string)[]).sort()
      let total = 0
      for (const k of keys) {
        const w = weights[k]
        if (Number.isFinite(w) && w > 0) total += w
      }
      if (total <= 0) return undefined
      let x = next() * total
      let last: (typeof keys)[number] | undefined
      for (const k of keys) {
        const w = weights[k]
        if (!(Number.isFinite(w) && w > 0)) continue
        last = k
        if (x < w) return k
        x -= w
      }
      return last
    },
    fork(label = '') {
      return fromState(hash32(`${Math.floor(next() * 4294967296)}:${label}`))
    },
  }
  return random
}
