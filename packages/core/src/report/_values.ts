/**
 * How reports write guard and detector values: durations as durations
 * (`36 s`, not `36000`), a lease's expiry as a time since the report's
 * start, ratios to four decimals.
 *
 * @module
 */
import { formatDuration, formatOffset } from '../format.js'

/** Guards whose numbers are durations in ms. */
const DURATION_GUARDS = new Set(['cooldown', 'rpo'])

/** A guard's value or limit as people read it; `startIso` is the report's start. */
export function guardValueText(name: string, v: unknown, startIso: string | null): string {
  if (v === null || v === undefined) return '—'
  if (typeof v !== 'number') return String(v)
  if (DURATION_GUARDS.has(name)) return formatDuration(v)
  if (name === 'lease' && v > 1e12) {
    const start = startIso === null ? Number.NaN : Date.parse(startIso)
    return Number.isNaN(start) ? new Date(v).toISOString() : `until ${formatOffset(v - start)}`
  }
  return String(v)
}

/** A detector's measured value or threshold as people read it. */
export function detectorValueText(detector: string, v: number): string {
  if (detector === 'replicationLag') return formatDuration(v)
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)))
}
