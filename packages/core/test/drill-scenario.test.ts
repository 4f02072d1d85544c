import { describe, expect, it } from 'vitest'
import {
  builtinScenarioInputs,
  ConfigError,
  defineScenario,
  type ScenarioInput,
} from '../src/index.js'

const base: ScenarioInput = {
  name: 'base',
  regions: [
    { id: 'us-east-1', jurisdiction: 'US' },
    { id: 'us-west-2', jurisdiction: 'US' },
  ],
  home: 'us-east-1',
  durationMs: '20m',
}

/** The ConfigError path and reason `defineScenario` throws for `input`. */
function refusal(input: unknown): { path: string; reason: string } {
  try {
    defineScenario(input)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    const e = error as ConfigError
    expect(e.code).toBe('INVALID_CONFIG')
    return { path: e.path, reason: e.reason }
  }
  throw new Error('expected a ConfigError')
}

const withFault = (fault: unknown): unknown => ({ ...base, faults: [fault] })

describe('defineScenario', () => {
  it('resolves defaults and durations', () => {
    const s = defineScenario({
      ...base,
      probeIntervalMs: '15s',
      targets: { rtoMs: '1h30m', rpoMs: 500 },
      faults: [
        {
          kind: 'outage',
          at: '5m',
          jitterMs: '90s',
          region: 'us-east-1',
          durationMs: ['1m', '2m'],
        },
      ],
    })
    expect(s).toMatchObject({
      name: 'base',
      description: '',
      instances: 1,
      durationMs: 1_200_000,
      start: Date.UTC(2026, 0, 1),
      probeIntervalMs: 15_000,
      lease: { ttlMs: 30_000, renewEveryMs: 10_000 },
      targets: { rtoMs: 5_400_000, rpoMs: 500 },
      database: { primary: 'us-east-1', replicas: ['us-west-2'], initialLagMs: 0, promoteMs: 0 },
      failback: { automatic: false },
      workload: { intervalMs: 5_000, users: [{ jurisdiction: 'US', share: 1, pinned: false }] },
      world: {
        timeoutMs: 5_000,
        trafficSyncMs: 0,
        scalerReadyMs: 0,
        scalerWaitMs: 600_000,
        healthChecked: false,
      },
      expect: {},
    })
    expect(s.faults[0]).toMatchObject({
      kind: 'outage',
      at: 300_000,
      jitterMs: 90_000,
      durationMs: [60_000, 120_000],
    })
    expect(s.regions[0]).toMatchObject({ latencyMs: 0 })
  })

  it('is idempotent: a resolved scenario resolves to itself', () => {
    for (const input of builtinScenarioInputs()) {
      const once = defineScenario(input)
      expect(defineScenario(once)).toEqual(once)
      // And survives JSON (scenario files).
      expect(defineScenario(JSON.parse(JSON.stringify(input)))).toEqual(once)
    }
  })

  it('pins user groups where a region of their jurisdiction is pinned', () => {
    const s = defineScenario({
      ...base,
      regions: [
        { id: 'eu-west-1', jurisdiction: 'EU', pinned: true },
        { id: 'us-east-1', jurisdiction: 'US' },
      ],
      home: 'eu-west-1',
    })
    expect(s.workload).toMatchObject({
      users: [
        { jurisdiction: 'EU', share: 1, pinned: true },
        { jurisdiction: 'US', share: 1, pinned: false },
      ],
    })
  })

  it('names the bad field', () => {
    const cases: [unknown, string, RegExp][] = [
      [null, '', /must be an object/],
      [{ ...base, nmae: 'x' }, 'nmae', /unknown field/],
      [{ ...base, name: '' }, 'name', /non-empty string/],
      [{ ...base, name: 'a b' }, 'name', /letters, digits/],
      [{ ...base, regions: [base.regions[0]] }, 'regions', /at least two regions/],
      [{ ...base, regions: [base.regions[0], { id: 'us-east-1' }] }, 'regions[1].id', /duplicate/],
      [
        { ...base, regions: [base.regions[0], { id: 'x', pinned: true }] },
        'regions[1].jurisdiction',
        /required when pinned/,
      ],
      [
        { ...base, regions: [base.regions[0], { id: 'x', capacity: 1.5 }] },
        'regions[1].capacity',
        /integer/,
      ],
      [{ ...base, home: 'mars' }, 'home', /unknown region "mars"/],
      [{ ...base, durationMs: '20 minutes' }, 'durationMs', /duration like "90s"/],
      [{ ...base, durationMs: 0 }, 'durationMs', /positive/],
      [{ ...base, start: '2026-01-01' }, 'start', /RFC 3339/],
      [{ ...base, instances: 0 }, 'instances', /at least 1/],
      [{ ...base, database: { primary: 'mars' } }, 'database.primary', /unknown region/],
      [
        { ...base, database: { replicas: ['us-east-1'] } },
        'database.replicas[0]',
        /another known region/,
      ],
      [
        { ...base, lease: { ttlMs: '10s', renewEveryMs: '10s' } },
        'lease.renewEveryMs',
        /shorter than lease.ttlMs/,
      ],
      [{ ...base, targets: { rtoMs: -1 } }, 'targets.rtoMs', /at least 0/],
      [{ ...base, guards: { cooldown: 5 } }, 'guards.cooldown', /unknown field/],
      [{ ...base, guards: { rpoMs: -5 } }, 'guards.rpoMs', /must not be negative/],
      [
        { ...base, health: { detectors: { availability: { window: -1 } } } },
        'health.detectors.availability.window',
        /./,
      ],
      [
        { ...base, failback: { stages: [10, 50] } },
        'failback.stages[1].percent',
        /last stage must be 100/,
      ],
      [
        { ...base, failback: { gate: { maxErrorRate: 2 } } },
        'failback.gate.maxErrorRate',
        /at most 1/,
      ],
      [
        { ...base, workload: { users: [{ jurisdiction: 'EU', share: 0 }] } },
        'workload.users[0].share',
        /positive/,
      ],
      [{ ...base, world: { healthChecked: 'yes' } }, 'world.healthChecked', /boolean/],
      [{ ...base, world: { scalerWaitMs: 0 } }, 'world.scalerWaitMs', /must be positive/],
      [{ ...base, expect: { failovers: -1 } }, 'expect.failovers', /at least 0/],
      [{ ...base, expect: { failovers: { min: 3, max: 1 } } }, 'expect.failovers.max', /below min/],
      [{ ...base, expect: { finalState: 'done' } }, 'expect.finalState', /one of active, suspect/],
      [{ ...base, expect: { serving: 'mars' } }, 'expect.serving', /unknown region/],
      [
        { ...base, expect: { blockedBy: ['lease', 'luck'] } },
        'expect.blockedBy[1]',
        /one of lease, cooldown/,
      ],
      [{ ...base, faults: {} }, 'faults', /must be an array/],
      [withFault({ kind: 'meteor', at: 0 }), 'faults[0].kind', /one of outage, degrade/],
      [withFault({ kind: 'outage', at: '5m' }), 'faults[0].region', /is required/],
      [
        withFault({ kind: 'outage', at: '5m', region: 'mars' }),
        'faults[0].region',
        /unknown region "mars"/,
      ],
      [
        withFault({ kind: 'outage', at: '1h', region: 'us-east-1' }),
        'faults[0].at',
        /after the end of the drill/,
      ],
      [
        withFault({ kind: 'outage', at: '5m', region: 'us-east-1', wen: 1 }),
        'faults[0].wen',
        /unknown field/,
      ],
      [
        withFault({ kind: 'outage', at: '5m', region: 'us-east-1', durationMs: ['2m', '1m'] }),
        'faults[0].durationMs[1]',
        /below the minimum/,
      ],
      [
        withFault({ kind: 'degrade', at: 0, region: 'us-east-1' }),
        'faults[0].errorRate',
        /required/,
      ],
      [
        withFault({ kind: 'degrade', at: 0, region: 'us-east-1', errorRate: [0.1, 1.5] }),
        'faults[0].errorRate[1]',
        /at most 1/,
      ],
      [
        withFault({ kind: 'flap', at: 0, region: 'us-east-1', periodMs: 0 }),
        'faults[0].periodMs',
        /positive/,
      ],
      [
        withFault({ kind: 'lag-spike', at: 0, region: 'us-east-1', lagMs: '1m' }),
        'faults[0].region',
        /no replica in "us-east-1"/,
      ],
      [
        { ...(withFault({ kind: 'stall-replication', at: 0 }) as object), database: false },
        'faults[0].kind',
        /needs a database/,
      ],
      [
        withFault({ kind: 'fail-calls', at: 0, port: 'dns' }),
        'faults[0].port',
        /one of probe, traffic/,
      ],
      [
        withFault({ kind: 'fail-calls', at: 0, probability: 2 }),
        'faults[0].probability',
        /at most 1/,
      ],
      [withFault({ kind: 'hang-calls', at: 0, instance: 'i2' }), 'faults[0].instance', /i1…i1/],
      [
        withFault({ kind: 'partition', at: 0, instance: 'leader', from: ['moon'] }),
        'faults[0].from[0]',
        /lease, traffic, endpoint or a region/,
      ],
      [
        withFault({ kind: 'partition', at: 0, instance: 'leader', from: [] }),
        'faults[0].from',
        /not be empty/,
      ],
      [withFault({ kind: 'partition', at: 0, from: ['lease'] }), 'faults[0].instance', /required/],
      [withFault({ kind: 'lose-lease', at: 0, revoke: 'yes' }), 'faults[0].revoke', /boolean/],
      [
        withFault({ kind: 'manual-failover', at: 0, trigger: 'whim' }),
        'faults[0].trigger',
        /one of planned-maintenance/,
      ],
      [
        withFault({ kind: 'manual-failover', at: 0, target: 'mars' }),
        'faults[0].target',
        /unknown region/,
      ],
      [withFault({ kind: 'approve', at: 0, by: '' }), 'faults[0].by', /non-empty/],
      [withFault({ kind: 'failback', at: 0, rebuild: 1 }), 'faults[0].rebuild', /boolean/],
    ]
    for (const [input, path, reason] of cases) {
      const got = refusal(input)
      expect({ input, path: got.path }).toEqual({ input, path })
      expect(got.reason).toMatch(reason)
    }
  })

  it('reads every duration form', () => {
    const at = (v: unknown): number =>
      defineScenario(withFault({ kind: 'recover', at: v, region: 'us-east-1' })).faults[0]!.at
    expect(at(1500)).toBe(1500)
    expect(at('250ms')).toBe(250)
    expect(at('1.5s')).toBe(1500)
    expect(at('2m')).toBe(120_000)
    expect(at('1m30s')).toBe(90_000)
    expect(at('0.25h')).toBe(900_000)
    expect(refusal(withFault({ kind: 'recover', at: '5 m', region: 'us-east-1' })).path).toBe(
      'faults[0].at',
    )
    expect(refusal(withFault({ kind: 'recover', at: -1, region: 'us-east-1' })).path).toBe(
      'faults[0].at',
    )
  })
})
