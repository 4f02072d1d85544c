import { describe, expect, it } from 'vitest'
import { detectorValueText, guardValueText } from '../src/report/_values.js'

describe('report values', () => {
  const start = '2026-01-01T00:00:00.000Z'

  it('writes durations of the cooldown and rpo guards as durations', () => {
    expect(guardValueText('rpo', 36_000, start)).toBe('36 s')
    expect(guardValueText('cooldown', 900_000, start)).toBe('15 min')
  })

  it('writes a lease expiry as a time since the report’s start, or as a date without one', () => {
    const at = Date.parse(start) + 6 * 60_000 + 40_000
    expect(guardValueText('lease', at, start)).toBe('until T+6:40')
    expect(guardValueText('lease', at, null)).toBe('2026-01-01T00:06:40.000Z')
    expect(guardValueText('lease', 1, start)).toBe('1')
  })

  it('leaves other values alone and writes missing ones as a dash', () => {
    expect(guardValueText('capacity', 4, start)).toBe('4')
    expect(guardValueText('target', 'healthy', start)).toBe('healthy')
    expect(guardValueText('approval', false, start)).toBe('false')
    expect(guardValueText('rpo', null, start)).toBe('—')
    expect(guardValueText('rpo', undefined, start)).toBe('—')
  })

  it('rounds ratios and writes replication lag as a duration', () => {
    expect(detectorValueText('availability', 0.8666666666666667)).toBe('0.8667')
    expect(detectorValueText('consecutiveFailures', 3)).toBe('3')
    expect(detectorValueText('replicationLag', 3_600_000)).toBe('1 h')
  })
})
