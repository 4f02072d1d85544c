/**
 * UUIDv7 generation (RFC 9562 §5.7) for receipt ids.
 *
 * Layout: 48-bit Unix milliseconds, version 7, a 12-bit counter in `rand_a`
 * (RFC 9562 §6.2, method 1) so ids minted in the same millisecond stay in
 * order, the variant bits, and 62 random bits. Random bytes are drawn into
 * a pool 512 ids at a time (with `crypto.getRandomValues` that is one
 * system call per 512 ids instead of one per id: ids were half the append
 * path's CPU time).
 *
 * A clock that goes backwards does not make ids go backwards: a generator
 * keeps using its last millisecond and counts on.
 *
 * @module
 */
import { getRandomValues } from 'node:crypto'

/** Fills `bytes` with random bytes (e.g. `crypto.getRandomValues`, or a seeded source for drills). */
export type RandomBytes = (bytes: Uint8Array) => void

/** Mints a UUIDv7 string for time `ms` (Unix milliseconds). */
export type IdSource = (ms: number) => string

const POOL_IDS = 512

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/**
 * A UUIDv7 generator: every id it returns is greater than the ones it
 * returned before. Give `createLedger({ newId })` one made from a seeded
 * byte source to write byte-identical ledgers in tests and drills.
 *
 * @param randomBytes - where the 62 random bits come from (default
 *   `crypto.getRandomValues`).
 *
 * @example
 * ```ts
 * const newId = createUuidv7((bytes) => { for (let i = 0; i < bytes.length; i++) bytes[i] = next() })
 * const ledger = createLedger({ store, newId })
 * ```
 */
export function createUuidv7(randomBytes: RandomBytes = getRandomValues): IdSource {
  const pool = new Uint8Array(8 * POOL_IDS)
  let poolAt = pool.length
  let lastMs = -1
  let counter = 0
  return (ms) => {
    const now = Math.max(0, Math.floor(ms))
    if (now > lastMs) {
      lastMs = now
      counter = 0
    } else if (++counter > 0xfff) {
      // 4,096 ids in one millisecond: borrow the next millisecond.
      lastMs++
      counter = 0
    }
    if (poolAt === pool.length) {
      randomBytes(pool)
      poolAt = 0
    }
    const r = poolAt
    poolAt += 8
    const t = lastMs
    const hi = Math.floor(t / 0x1000000) // top 24 of the 48 bits
    const lo = t % 0x1000000
    return (
      HEX[(hi >>> 16) & 0xff]! +
      HEX[(hi >>> 8) & 0xff]! +
      HEX[hi & 0xff]! +
      HEX[(lo >>> 16) & 0xff]! +
      '-' +
      HEX[(lo >>> 8) & 0xff]! +
      HEX[lo & 0xff]! +
      '-' +
      HEX[0x70 | (counter >>> 8)]! +
      HEX[counter & 0xff]! +
      '-' +
      HEX[0x80 | (pool[r]! & 0x3f)]! +
      HEX[pool[r + 1]!]! +
      '-' +
      HEX[pool[r + 2]!]! +
      HEX[pool[r + 3]!]! +
      HEX[pool[r + 4]!]! +
      HEX[pool[r + 5]!]! +
      HEX[pool[r + 6]!]! +
      HEX[pool[r + 7]!]!
    )
  }
}
