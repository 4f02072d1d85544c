/**
 * In-memory test DNS and smoke test on the drill's simulated world: a test
 * record resolves to the region it points at; a smoke test through it runs
 * `checks` checks taking `checkMs` each on the virtual clock, all failing
 * while that region is down.
 *
 * @module
 */
import type { RegionId, SimulatedWorld } from '@baton/core'
import type { SmokeTest, TestDns } from './ports.ts'

/** Options of {@link createMemoryHonua}. */
export interface MemoryHonuaOptions {
  /** The drill's simulated world: its clock, region health and ground truth. */
  readonly world: SimulatedWorld
  /** Checks per smoke test. Default 5. */
  readonly checks?: number
  /** Time per check. Default 6 s. */
  readonly checkMs?: number
  /** Time until a test record resolves (its TTL). Default 60 s. */
  readonly dnsMs?: number
  /**
   * The DR deployment answers its health checks but fails every smoke test
   * check (a bad configuration only a real request finds). Default false.
   */
  readonly broken?: boolean
}

/** The test DNS and smoke test of the HonuaIO drills, and what they saw. */
export interface MemoryHonua {
  /** The test DNS record (`test.api.honua.io`). */
  readonly dns: TestDns
  /** The smoke test run through it. */
  readonly smoke: SmokeTest
  /** Records that exist now. */
  readonly records: () => ReadonlyMap<string, RegionId>
  /** Every DNS change, in order. */
  readonly changes: () => readonly string[]
}

/** Creates the in-memory test DNS and smoke test over `options.world`. */
export function createMemoryHonua(options: MemoryHonuaOptions): MemoryHonua {
  const { world } = options
  const checks = options.checks ?? 5
  const checkMs = options.checkMs ?? 6_000
  const dnsMs = options.dnsMs ?? 60_000
  const records = new Map<string, RegionId>()
  const changes: string[] = []
  const dns: TestDns = {
    name: 'memory:route53-test-record',
    async point(record, region, ctx) {
      records.set(record, region)
      changes.push(`${record} → ${region}`)
      await world.clock.sleep(dnsMs, ctx.signal)
    },
    async remove(record) {
      records.delete(record)
      changes.push(`${record} deleted`)
    },
  }
  const smoke: SmokeTest = {
    name: 'memory:smoke-test',
    async run(endpoint, ctx) {
      const region = records.get(endpoint)
      if (region === undefined) throw new Error(`NXDOMAIN: ${endpoint}`)
      let passed = 0
      for (let i = 0; i < checks; i++) {
        await world.clock.sleep(checkMs, ctx.signal)
        if (options.broken !== true && world.truth.regionHealth(region).up) passed++
      }
      return { endpoint, region, passed, failed: checks - passed }
    },
  }
  return { dns, smoke, records: () => records, changes: () => changes }
}
