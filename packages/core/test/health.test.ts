import { isBatonError } from '@baton/ledger'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  createHealthMonitor,
  createRegionMonitor,
  DEFAULT_HEALTH_CONFIG,
  type HealthConfig,
  type HealthStatus,
  type ProbeSample,
  type ResolvedHealthConfig,
  resolveHealthConfig,
  toMachineEvent,
} from '../src/index.js'

const R = 'us-east-1'
const T0 = Date.UTC(2026, 0, 1)
const S = 30_000

function sample(at: number, ok: boolean, extra: Partial<ProbeSample> = {}): ProbeSample {
  return { region: R, ok, at, latencyMs: 10, ...extra }
}

/** Feeds `oks` (true/false per sample) every `step` ms from `start`; returns the statuses after each. */
function feed(
  monitor: ReturnType<typeof createRegionMonitor>,
  oks: readonly boolean[],
  start = T0,
  step = S,
): HealthStatus[] {
  return oks.map((ok, i) => {
    monitor.observe(sample(start + i * step, ok))
    return monitor.status
  })
}

const only = (d: NonNullable<HealthConfig['detectors']>): HealthConfig => ({
  detectors: {
    consecutiveFailures: false,
    errorRate: false,
    availability: false,
    replicationLag: false,
    ...d,
  },
})

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (error) {
    expect(isBatonError(error, 'INVALID_CONFIG')).toBe(true)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  it('defaults come from the runbooks', () => {
    expect(resolveHealthConfig()).toEqual(DEFAULT_HEALTH_CONFIG)
    const d = DEFAULT_HEALTH_CONFIG.detectors
    expect(d.consecutiveFailures).toEqual({ threshold: 3, status: 'down' })
    expect(d.availability).toMatchObject({ window: 900_000, threshold: 0.95, status: 'down' })
    expect(d.errorRate).toMatchObject({ window: 300_000, threshold: 0.1, status: 'degraded' })
    expect(d.replicationLag).toEqual({ threshold: 3_600_000, status: 'degraded' })
    expect(DEFAULT_HEALTH_CONFIG.recoverAfter).toBe(3)
  })

  it('derives 60 buckets from a custom window', () => {
    const c = resolveHealthConfig({ detectors: { availability: { window: 120_000 } } })
    expect(c.detectors.availability?.resolution).toBe(2_000)
  })

  it.each([
    [
      { detectors: { availability: { window: 0 } } },
      'detectors.availability.window',
      'must be positive',
    ],
    [
      { detectors: { availability: { window: -5 } } },
      'detectors.availability.window',
      'must be positive',
    ],
    [
      { detectors: { errorRate: { threshold: 1.5 } } },
      'detectors.errorRate.threshold',
      'must be between 0 and 1',
    ],
    [
      { detectors: { availability: { threshold: Number.NaN } } },
      'detectors.availability.threshold',
      'must be a finite number',
    ],
    [
      { detectors: { consecutiveFailures: { threshold: 2.5 } } },
      'detectors.consecutiveFailures.threshold',
      'must be a positive integer',
    ],
    [
      { detectors: { availability: { minSamples: 0 } } },
      'detectors.availability.minSamples',
      'must be a positive integer',
    ],
    [
      { detectors: { errorRate: { minRequests: 0 } } },
      'detectors.errorRate.minRequests',
      'must be a positive integer',
    ],
    [
      { detectors: { replicationLag: { threshold: -1 } } },
      'detectors.replicationLag.threshold',
      'must not be negative',
    ],
    [
      { detectors: { replicationLag: { status: 'bad' } } },
      'detectors.replicationLag.status',
      "must be 'degraded' or 'down'",
    ],
    [
      { detectors: { availability: { window: 1000, resolution: 2000 } } },
      'detectors.availability.resolution',
      'must not exceed the window',
    ],
    [
      { detectors: { availability: { window: 1_000_000, resolution: 1 } } },
      'detectors.availability.resolution',
      'too fine: at most 10000 buckets per window',
    ],
    [{ detectors: { latency: {} } }, 'detectors.latency', 'unknown field'],
    [
      { detectors: { availability: { windw: 1 } } },
      'detectors.availability.windw',
      'unknown field',
    ],
    [{ detectors: { availability: 'on' } }, 'detectors.availability', 'must be an object'],
    [{ recoverAfter: 0 }, 'recoverAfter', 'must be a positive integer'],
    [{ recovery: 3 }, 'recovery', 'unknown field'],
  ])('rejects %j at %s', (config, path, reason) => {
    const e = configError(() => resolveHealthConfig(config as HealthConfig))
    expect(e.path).toBe(path)
    expect(e.reason).toBe(reason)
    expect(e.message).toBe(`${path}: ${reason}`)
    expect(() => createRegionMonitor(R, config as HealthConfig)).toThrow(ConfigError)
  })

  it('names the region of a bad override', () => {
    const e = configError(() =>
      createHealthMonitor({
        overrides: { 'eu-west-1': { detectors: { availability: { window: 0 } } } },
      }),
    )
    expect(e.path).toBe('overrides.eu-west-1.detectors.availability.window')
  })

  it('disables detectors with false', () => {
    const m = createRegionMonitor(R, only({}))
    expect(feed(m, Array(50).fill(false))).toEqual(Array(50).fill('healthy'))
  })
})

describe('consecutive failures', () => {
  it('goes down at the third failure (3 × 30 s) and reports the change', () => {
    const m = createRegionMonitor(R, only({ consecutiveFailures: {} }))
    expect(m.observe(sample(T0, false))).toBeUndefined()
    expect(m.observe(sample(T0 + S, false))).toBeUndefined()
    const change = m.observe(sample(T0 + 2 * S, false, { error: 'DEADLINE_EXCEEDED' }))
    expect(change).toMatchObject({ region: R, from: 'healthy', to: 'down', at: T0 + 2 * S })
    expect(change?.reasons).toEqual([{ detector: 'consecutiveFailures', value: 3, threshold: 3 }])
    expect(change?.assessment).toMatchObject({
      status: 'down',
      since: T0 + 2 * S,
      consecutiveFailures: 3,
    })
    expect(toMachineEvent(change!)).toEqual({
      type: 'health.degraded',
      at: T0 + 2 * S,
      region: R,
      status: 'down',
    })
  })

  it('resets on a success', () => {
    const m = createRegionMonitor(R, only({ consecutiveFailures: {} }))
    expect(feed(m, [false, false, true, false, false, true])).toEqual(Array(6).fill('healthy'))
  })

  it('can report degraded instead', () => {
    const m = createRegionMonitor(
      R,
      only({ consecutiveFailures: { threshold: 2, status: 'degraded' } }),
    )
    expect(feed(m, [false, false])).toEqual(['healthy', 'degraded'])
  })
})

describe('hysteresis', () => {
  it('recovers only after recoverAfter consecutive successes', () => {
    const m = createRegionMonitor(R, { ...only({ consecutiveFailures: {} }), recoverAfter: 3 })
    feed(m, [false, false, false])
    expect(m.status).toBe('down')
    expect(m.observe(sample(T0 + 3 * S, true))).toBeUndefined()
    expect(m.assessment().reasons).toEqual([{ detector: 'recovery', value: 1, threshold: 3 }])
    expect(m.observe(sample(T0 + 4 * S, true))).toBeUndefined()
    const change = m.observe(sample(T0 + 5 * S, true))
    expect(change).toMatchObject({ from: 'down', to: 'healthy', reasons: [] })
    expect(toMachineEvent(change!)).toEqual({ type: 'health.recovered', at: T0 + 5 * S, region: R })
    expect(m.assessment()).toMatchObject({ status: 'healthy', since: T0 + 5 * S })
  })

  it('a failure during recovery starts the count again', () => {
    const m = createRegionMonitor(R, { ...only({ consecutiveFailures: {} }), recoverAfter: 3 })
    const statuses = feed(m, [false, false, false, true, true, false, true, true, true])
    expect(statuses).toEqual([
      'healthy',
      'healthy',
      'down',
      'down',
      'down',
      'down',
      'down',
      'down',
      'healthy',
    ])
  })

  it('flapping health does not flap the assessment', () => {
    const m = createRegionMonitor(R, { recoverAfter: 3 })
    const changes = []
    for (let i = 0; i < 200; i++) {
      const c = m.observe(sample(T0 + i * S, i % 3 !== 0)) // fail, ok, ok, fail, ok, ok, …
      if (c) changes.push(`${c.from}→${c.to}`)
    }
    // Never three failures in a row; availability (2/3 < 95 %) trips once a
    // whole 15-minute window has been watched; never three successes in a
    // row, so it never improves.
    expect(changes).toEqual(['healthy→down'])
  })

  it('steps down one level at a time when the raw status improves partially', () => {
    const m = createRegionMonitor(R, {
      ...only({
        consecutiveFailures: { threshold: 2 },
        replicationLag: { threshold: 1000 },
      }),
      recoverAfter: 2,
    })
    m.observe(sample(T0, false, { lagMs: 5000 }))
    m.observe(sample(T0 + S, false))
    expect(m.status).toBe('down')
    m.observe(sample(T0 + 2 * S, true))
    const c = m.observe(sample(T0 + 3 * S, true))
    expect(c).toMatchObject({ from: 'down', to: 'degraded' })
    expect(c?.reasons).toEqual([{ detector: 'replicationLag', value: 5000, threshold: 1000 }])
  })

  it('holds the status while a lag oscillates around its threshold', () => {
    const m = createRegionMonitor(R, {
      ...only({ replicationLag: { threshold: 1000 } }),
      recoverAfter: 3,
    })
    const lags = [2000, 500, 2000, 500, 500, 2000, 500, 500, 500]
    const statuses = lags.map((lagMs, i) => {
      m.observe(sample(T0 + i * S, true, { lagMs }))
      return m.status
    })
    expect(statuses).toEqual([
      'degraded',
      'degraded',
      'degraded',
      'degraded',
      'degraded',
      'degraded',
      'degraded',
      'degraded',
      'healthy',
    ])
  })

  it('property: the status improves only after recoverAfter successes; without them it never does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 6 }),
        (oks, M) => {
          const m = createRegionMonitor(R, { recoverAfter: M })
          let prev: HealthStatus = 'healthy'
          let okRun = 0
          const rank = { healthy: 0, degraded: 1, down: 2 }
          oks.forEach((ok, i) => {
            okRun = ok ? okRun + 1 : 0
            const change = m.observe(sample(T0 + i * S, ok))
            if (change) {
              expect(change.from).toBe(prev)
              if (rank[change.to] < rank[change.from]) expect(okRun).toBeGreaterThanOrEqual(M)
            }
            prev = m.status
          })
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('availability window', () => {
  const cfg = only({ availability: { window: 15 * 60_000, resolution: 1000, minSamples: 10 } })

  it('one failure at start-up is not 0 %: nothing is judged before a whole window', () => {
    const m = createRegionMonitor(R, cfg)
    m.observe(sample(T0, false))
    expect(m.assessment()).toMatchObject({ status: 'healthy', availability: null, samples: 1 })
    feed(m, Array(29).fill(true), T0 + S) // 30 samples over 14.5 min: not a whole window yet
    expect(m.assessment()).toMatchObject({ status: 'healthy', availability: null, samples: 30 })
    m.observe(sample(T0 + 899_500, true)) // covered: the window less one bucket
    expect(m.assessment()).toMatchObject({ status: 'healthy', availability: 30 / 31, samples: 31 })
  })

  it('needs minSamples even over a whole window', () => {
    const m = createRegionMonitor(R, cfg)
    feed(m, [false, true, true], T0, 8 * 60_000) // 3 samples over 16 min
    expect(m.assessment().availability).toBeNull()
  })

  it('exactly at the threshold is not below it', () => {
    const m = createRegionMonitor(R, cfg)
    // 21 samples 45 s apart: the first has just left the window; 19/20 = 95 % remain.
    feed(m, [true, ...Array(19).fill(true), false], T0, 45_000)
    expect(m.assessment()).toMatchObject({ status: 'healthy', availability: 0.95 })
    m.observe(sample(T0 + 20 * 45_000, false)) // 19/21
    expect(m.status).toBe('down')
  })

  it('a sample leaves the window exactly one window later (bucket edges)', () => {
    const m = createRegionMonitor(R, { ...cfg, recoverAfter: 1 })
    const W = 15 * 60_000
    feed(m, [false, false, ...Array(8).fill(true)], T0, 1000) // 8/10 at T0 … T0+9 s
    expect(m.status).toBe('healthy') // not a whole window yet
    // Fill the window with successes until just before the first failure ages out.
    for (let t = T0 + 10_000; t < T0 + W; t += 10_000) m.observe(sample(t, true))
    m.observe(sample(T0 + W - 1, true))
    const before = m.assessment()
    expect(before.samples).toBe(100)
    expect(before.availability).toBe(98 / 100)
    // At T0 + W the bucket of T0 leaves: one failure gone.
    m.observe(sample(T0 + W, true))
    expect(m.assessment().samples).toBe(100)
    expect(m.assessment().availability).toBe(99 / 100)
    m.observe(sample(T0 + W + 1000, true))
    expect(m.assessment().availability).toBe(1)
  })

  it('a gap longer than the window empties it', () => {
    const m = createRegionMonitor(R, cfg)
    feed(m, Array(20).fill(false))
    m.observe(sample(T0 + 20 * S + 15 * 60_000, true))
    expect(m.assessment()).toMatchObject({ samples: 1, availability: null })
  })
})

describe('error rate', () => {
  const cfg = only({
    errorRate: { window: 300_000, resolution: 1000, minRequests: 100, minSamples: 4 },
  })

  it('uses request counts once there are minRequests of them (> 10 %) over a whole window', () => {
    const m = createRegionMonitor(R, cfg)
    m.observe(sample(T0, true, { requests: { total: 60, errors: 6 } }))
    m.observe(sample(T0 + S, true, { requests: { total: 40, errors: 4 } }))
    expect(m.assessment()).toMatchObject({ status: 'healthy', errorRate: null }) // 30 s watched
    m.observe(sample(T0 + 299_000, true))
    expect(m.assessment()).toMatchObject({ status: 'healthy', errorRate: 0.1 }) // exactly 10 %
    const c = m.observe(sample(T0 + 299_500, true, { requests: { total: 100, errors: 20 } }))
    expect(c).toMatchObject({
      to: 'degraded',
      reasons: [{ detector: 'errorRate', value: 0.15, threshold: 0.1 }],
    })
  })

  it('ignores probe failures unless probeFailures is set', () => {
    const m = createRegionMonitor(R, cfg)
    feed(m, [true, true, true, false], T0, 100_000)
    expect(m.assessment()).toMatchObject({ errorRate: null, status: 'healthy' })
  })

  it('with probeFailures, falls back to the share of failed samples', () => {
    const m = createRegionMonitor(
      R,
      only({
        errorRate: {
          window: 300_000,
          resolution: 1000,
          minRequests: 100,
          minSamples: 4,
          probeFailures: true,
        },
      }),
    )
    feed(m, [true, true, true, true], T0, 75_000)
    expect(m.assessment().errorRate).toBeNull() // 225 s watched
    m.observe(sample(T0 + 300_000, false)) // the first sample has left: 1 of 4 failed
    expect(m.assessment()).toMatchObject({ errorRate: 0.25, status: 'degraded' })
  })
})

describe('replication lag', () => {
  it('trips above the threshold, not at it; samples without lag keep the last value', () => {
    const m = createRegionMonitor(R, only({ replicationLag: { threshold: 3_600_000 } }))
    m.observe(sample(T0, true, { lagMs: 3_600_000 }))
    expect(m.status).toBe('healthy')
    m.observe(sample(T0 + S, true, { lagMs: 3_600_001 }))
    expect(m.assessment()).toMatchObject({ status: 'degraded', lagMs: 3_600_001 })
    m.observe(sample(T0 + 2 * S, true))
    expect(m.assessment().lagMs).toBe(3_600_001)
  })
})

describe('samples', () => {
  it('rejects samples it cannot judge, naming the field', () => {
    const m = createRegionMonitor(R)
    expect(configError(() => m.observe({ ...sample(T0, true), region: 'x' })).path).toBe(
      'sample.region',
    )
    expect(configError(() => m.observe(sample(Number.NaN, true))).path).toBe('sample.at')
    expect(configError(() => m.observe(sample(T0, true, { lagMs: -1 }))).path).toBe('sample.lagMs')
    expect(
      configError(() => m.observe(sample(T0, true, { requests: { total: 1, errors: 2 } }))).path,
    ).toBe('sample.requests.errors')
    expect(
      configError(() => m.observe(sample(T0, true, { requests: { total: 1.5, errors: 0 } }))).path,
    ).toBe('sample.requests')
  })

  it('counts a sample older than the newest at the newest time', () => {
    const m = createRegionMonitor(R)
    m.observe(sample(T0 + 10 * S, true))
    m.observe(sample(T0, false))
    expect(m.assessment()).toMatchObject({ lastSampleAt: T0 + 10 * S, samples: 2 })
  })

  it('reset forgets everything', () => {
    const m = createRegionMonitor(R)
    feed(m, [false, false, false])
    m.reset()
    expect(m.assessment()).toMatchObject({
      status: 'healthy',
      since: null,
      samples: 0,
      lastSampleAt: null,
    })
  })

  it('assessments are JSON-safe', () => {
    const m = createRegionMonitor(R)
    const a = m.assessment()
    expect(JSON.parse(JSON.stringify(a))).toEqual(a)
  })
})

describe('health monitor', () => {
  it('routes samples by region, creates monitors on demand and applies overrides', () => {
    const h = createHealthMonitor({
      regions: ['us-east-1', 'us-west-2'],
      overrides: { 'eu-west-1': { detectors: { consecutiveFailures: { threshold: 1 } } } },
    })
    expect(h.regions).toEqual(['us-east-1', 'us-west-2'])
    expect(Object.keys(h.assessments())).toEqual(['us-east-1', 'us-west-2'])
    const c = h.observe({ region: 'eu-west-1', ok: false, at: T0, latencyMs: 1 })
    expect(c).toMatchObject({ region: 'eu-west-1', to: 'down' })
    expect(h.regions).toEqual(['us-east-1', 'us-west-2', 'eu-west-1'])
    expect(h.assessment('us-east-1').status).toBe('healthy')
    // The override replaced only consecutiveFailures; the other detectors are the shared ones.
    expect(h.region('eu-west-1').config.detectors.availability).toEqual(
      DEFAULT_HEALTH_CONFIG.detectors.availability,
    )
    expect(h.observe({ region: 'us-east-1', ok: false, at: T0, latencyMs: 1 })).toBeUndefined()
  })
})

// --- reference: full-history recomputation -----------------------------------------------

interface Ref {
  status: HealthStatus
  availability: number | null
  errorRate: number | null
  consecutiveFailures: number
  consecutiveSuccesses: number
  lagMs: number | null
  samples: number
}

function reference(samples: readonly ProbeSample[], c: ResolvedHealthConfig): Ref[] {
  const rank = { healthy: 0, degraded: 1, down: 2 } as const
  const names = ['healthy', 'degraded', 'down'] as const
  const out: Ref[] = []
  const ats: number[] = []
  let status = 0
  let calm = 0
  for (let k = 0; k < samples.length; k++) {
    ats.push(Math.max(samples[k]!.at, k > 0 ? ats[k - 1]! : Number.NEGATIVE_INFINITY))
    const now = ats[k]!
    const prefix = samples.slice(0, k + 1)
    let failures = 0
    for (let j = k; j >= 0 && !prefix[j]!.ok; j--) failures++
    let successes = 0
    for (let j = k; j >= 0 && prefix[j]!.ok; j--) successes++
    const covered = (window: number, res: number): boolean => now - ats[0]! >= window - res
    const inWindow = (window: number, res: number): ProbeSample[] => {
      const B = Math.ceil(window / res)
      const head = Math.floor(now / res)
      return prefix.filter((_, j) => Math.floor(ats[j]! / res) > head - B)
    }
    const {
      availability: av,
      errorRate: er,
      consecutiveFailures: cf,
      replicationLag: rl,
    } = c.detectors
    let availability: number | null = null
    let samplesIn = 0
    if (av) {
      const w = inWindow(av.window, av.resolution)
      samplesIn = w.length
      if (w.length >= av.minSamples && covered(av.window, av.resolution)) {
        availability = w.filter((s) => s.ok).length / w.length
      }
    }
    let errorRate: number | null = null
    if (er) {
      const w = inWindow(er.window, er.resolution)
      const total = w.reduce((n, s) => n + (s.requests?.total ?? 0), 0)
      const errors = w.reduce((n, s) => n + (s.requests?.errors ?? 0), 0)
      if (!covered(er.window, er.resolution)) errorRate = null
      else if (total >= er.minRequests) errorRate = errors / total
      else if (er.probeFailures && w.length >= er.minSamples) {
        errorRate = w.filter((s) => !s.ok).length / w.length
      }
    }
    const lagged = prefix.filter((s) => s.lagMs !== undefined)
    const lagMs = lagged.length > 0 ? lagged[lagged.length - 1]!.lagMs! : null
    let raw = 0
    if (cf && failures >= cf.threshold) raw = Math.max(raw, rank[cf.status])
    if (er && errorRate !== null && errorRate > er.threshold) raw = Math.max(raw, rank[er.status])
    if (av && availability !== null && availability < av.threshold)
      raw = Math.max(raw, rank[av.status])
    if (rl && lagMs !== null && lagMs > rl.threshold) raw = Math.max(raw, rank[rl.status])
    if (raw > status) {
      status = raw
      calm = 0
    } else if (raw < status) {
      calm = prefix[k]!.ok ? calm + 1 : 0
      if (calm >= c.recoverAfter) {
        status = raw
        calm = 0
      }
    } else calm = 0
    out.push({
      status: names[status]!,
      availability,
      errorRate,
      consecutiveFailures: failures,
      consecutiveSuccesses: successes,
      lagMs,
      samples: samplesIn,
    })
  }
  return out
}

const windowArb = fc
  .record({
    window: fc.integer({ min: 1_000, max: 60_000 }),
    divisor: fc.integer({ min: 1, max: 40 }),
    minSamples: fc.integer({ min: 1, max: 8 }),
    status: fc.constantFrom('degraded' as const, 'down' as const),
  })
  .map(({ window, divisor, minSamples, status }) => ({
    window,
    resolution: Math.max(1, Math.floor(window / divisor)),
    minSamples,
    status,
  }))

const configArb: fc.Arbitrary<HealthConfig> = fc.record({
  detectors: fc.record({
    consecutiveFailures: fc.record({
      threshold: fc.integer({ min: 1, max: 6 }),
      status: fc.constantFrom('degraded' as const, 'down' as const),
    }),
    availability: fc
      .tuple(windowArb, fc.double({ min: 0.3, max: 1, noNaN: true }))
      .map(([w, threshold]) => ({ ...w, threshold })),
    errorRate: fc
      .tuple(
        windowArb,
        fc.double({ min: 0, max: 0.7, noNaN: true }),
        fc.integer({ min: 1, max: 80 }),
      )
      .map(([w, threshold, minRequests]) => ({ ...w, threshold, minRequests })),
    replicationLag: fc.record({
      threshold: fc.integer({ min: 0, max: 10_000 }),
      status: fc.constantFrom('degraded' as const, 'down' as const),
    }),
  }),
  recoverAfter: fc.integer({ min: 1, max: 5 }),
})

const streamArb = fc.array(
  fc.record(
    {
      gap: fc.oneof(
        fc.integer({ min: 0, max: 3_000 }),
        fc.integer({ min: 0, max: 80_000 }),
        fc.constant(-500), // out of order: counted at the newest time
      ),
      ok: fc.boolean(),
      requests: fc
        .tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }))
        .map(([a, b]) => ({ total: Math.max(a, b), errors: Math.min(a, b) })),
      lagMs: fc.integer({ min: 0, max: 20_000 }),
    },
    { requiredKeys: ['gap', 'ok'] },
  ),
  { minLength: 1, maxLength: 150 },
)

describe('detectors against a full-history reference', () => {
  it('property: every assessment matches the recomputation from all samples', () => {
    fc.assert(
      fc.property(configArb, streamArb, (config, stream) => {
        const m = createRegionMonitor(R, config)
        let at = T0
        const samples = stream.map(({ gap, ...rest }) => {
          at += gap
          return sample(at, rest.ok, {
            ...(rest.requests ? { requests: rest.requests } : {}),
            ...(rest.lagMs !== undefined ? { lagMs: rest.lagMs } : {}),
          })
        })
        const expected = reference(samples, m.config)
        samples.forEach((s, i) => {
          m.observe(s)
          const a = m.assessment()
          expect({
            status: a.status,
            availability: a.availability,
            errorRate: a.errorRate,
            consecutiveFailures: a.consecutiveFailures,
            consecutiveSuccesses: a.consecutiveSuccesses,
            lagMs: a.lagMs,
            samples: a.samples,
          }).toEqual(expected[i])
        })
      }),
      { numRuns: 400 },
    )
  })
})
