/**
 * Deterministic receipt ids for drills: UUIDv7s whose time comes from the
 * drill's (virtual) clock and whose random bits come from its seed, so the
 * same scenario and seed write byte-identical ledgers.
 *
 * @module
 */
import type { Random } from '../memory/random.js'

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
)

/**
 * An id source for `createLedger({ newId })`: RFC 9562 version 7 UUIDs
 * (48-bit Unix milliseconds, version 7, a 12-bit counter so ids minted in
 * the same millisecond stay in order, the variant bits, 62 bits from
 * `random`). Ids only grow, even if the clock were to go back.
 *
 * @param random - the seeded source of the random bits (give it its own fork).
 *
 * @example
 * ```ts
 * const ledger = createLedger({ store, clock, newId: createSeededIds(createRandom(7).fork('ids')) })
 * ```
 */
export function createSeededIds(random: Random): (ms: number) => string {
  let lastMs = -1
  let counter = 0
  const byte = (): string => HEX[Math.floor(random.next() * 256)]!
  return (ms) => {
    const t = Math.max(0, Math.floor(ms))
    if (t > lastMs) {
      lastMs = t
      counter = 0
    } else if (++counter > 0xfff) {
      lastMs++
      counter = 0
    }
    const hi = Math.floor(lastMs / 0x1000000)
    const lo = lastMs % 0x1000000
    let tail = ''
    for (let i = 0; i < 6; i++) tail += byte()
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
      HEX[0x80 | Math.floor(random.next() * 64)]! +
      byte() +
      '-' +
      tail
    )
  }
}
