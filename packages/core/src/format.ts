/**
 * How durations and times since a start read, in every report, summary and
 * timeline baton prints. Re-exported from `drill/report.ts`.
 *
 * @module
 */

/** `850 ms`, `28 s`, `4 min 12 s`, `1 h 3 min`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'unknown'
  const neg = ms < 0
  let v = Math.abs(Math.round(ms))
  if (v < 1_000) return `${neg ? '-' : ''}${v} ms`
  if (v < 60_000) return `${neg ? '-' : ''}${+(v / 1_000).toFixed(1)} s`
  v = Math.round(v / 1_000)
  const h = Math.floor(v / 3_600)
  const m = Math.floor((v % 3_600) / 60)
  const s = v % 60
  const parts =
    h > 0 ? [`${h} h`, ...(m > 0 ? [`${m} min`] : [])] : [`${m} min`, ...(s > 0 ? [`${s} s`] : [])]
  return `${neg ? '-' : ''}${parts.join(' ')}`
}

/** `T+5:12`, `T+1:05:12` (time since the drill started). */
export function formatOffset(ms: number | null): string {
  if (ms === null) return '—'
  const total = Math.floor(Math.max(0, ms) / 1_000)
  const h = Math.floor(total / 3_600)
  const m = Math.floor((total % 3_600) / 60)
  const s = String(total % 60).padStart(2, '0')
  const frac = ms % 1_000 === 0 ? '' : `.${String(Math.floor(ms % 1_000)).padStart(3, '0')}`
  return h > 0 ? `T+${h}:${String(m).padStart(2, '0')}:${s}${frac}` : `T+${m}:${s}${frac}`
}
