/**
 * UUIDv7 generation (RFC 9562 §5.7) for receipt ids.
 *
 * Layout: 48-bit Unix milliseconds, version 7, a 12-bit counter in `rand_a`
 * (RFC 9562 §6.2, method 1) so ids minted in the same millisecond stay in
 * order, the variant bits, and 62 random bits from a pooled
 * `crypto.getRandomValues` buffer (one system call per 512 ids instead of
 * one per id: ids were half the append path's CPU time).
 *
 * A clock that goes backwards does not make ids go backwards: the generator
 * keeps using its last millisecond and counts on.
 *
 * @internal
 * @module
 */
import { getRandomValues } from 'node:crypto'

const POOL_IDS = 512
const pool = new Uint8Array(8 * POOL_IDS)
let poolAt = pool.length

let lastMs = -1
let counter = 0

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** A new UUIDv7 string for time `ms`, greater than every id this process made before. */
export function uuidv7(ms: number): string {
  if (ms > lastMs) {
    lastMs = ms
    counter = 0
  } else if (++counter > 0xfff) {
    // 4,096 ids in one millisecond: borrow the next millisecond.
    lastMs++
    counter = 0
  }
  if (poolAt === pool.length) {
    getRandomValues(pool)
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
