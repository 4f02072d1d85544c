/**
 * Small helpers every GCP adapter of this package shares.
 *
 * @internal
 * @module
 */

/** The key of receipt (or version) `seq`: 20 digits, so keys sort as numbers do. */
export function receiptDocId(seq: number): string {
  return String(seq).padStart(20, '0')
}

/** A short message for a client error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
