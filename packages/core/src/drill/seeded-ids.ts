/**
 * Deterministic receipt ids for drills: UUIDv7s whose time comes from the
 * drill's (virtual) clock and whose random bits come from its seed, so the
 * same scenario and seed write byte-identical ledgers.
 *
 * @module
 */
import { createUuidv7, type IdSource } from '@baton/ledger'
import type { Random } from '../memory/random.js'

/**
 * An id source for `createLedger({ newId })`: the ledger's UUIDv7
 * generator ({@link createUuidv7}) drawing its random bits from `random`.
 *
 * @param random - the seeded source of the random bits (give it its own fork).
 *
 * @example
 * ```ts
 * const ledger = createLedger({ store, clock, newId: createSeededIds(createRandom(7).fork('ids')) })
 * ```
 */
export function createSeededIds(random: Random): IdSource {
  return createUuidv7((bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random.next() * 256)
  })
}
