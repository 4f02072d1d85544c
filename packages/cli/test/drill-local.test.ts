import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { setAdapterImporter } from '../src/_adapters.js'
import { baton, tempDir } from './support.js'

let dir: string
let cleanup: () => Promise<void>

beforeEach(async () => {
  ;({ dir, cleanup } = await tempDir())
})
afterEach(() => cleanup())

describe('baton drill postgres-local / postgres-switchover', () => {
  it('runs the real switchover drill on local PostgreSQL servers and writes the report; exit 0', async () => {
    const report = join(dir, 'switchover.md')
    const r = await baton(['drill', 'postgres-switchover', '--async', '--report', report])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/switchover \(asynchronous standby\)/)
    expect(r.stdout).toMatch(/\*\*PASSED\*\*/)
    expect(r.stdout).toMatch(/RPO \(acknowledged rows lost\) \| 0 of \d+/)
    expect(r.stderr).toMatch(/switchover completed/)
    expect((await readFile(report, 'utf8')).trimEnd()).toBe(r.stdout.trimEnd())
  }, 120_000)

  it('exits 1 when a check fails, passes --async through, and prints JSON with --json', async () => {
    const calls: unknown[] = []
    const previous = setAdapterImporter(async () => ({
      runPostgresFailoverDrill: async (o: object) => {
        calls.push(o)
        return { passed: false, scenario: 'failover' }
      },
      runPostgresSwitchoverDrill: async () => ({ passed: true }),
      localDrillReportMarkdown: () => 'report',
    }))
    try {
      const r = await baton(['drill', 'postgres-local', '--async', '--stall', '300', '--json'])
      expect(r.code).toBe(1)
      expect(JSON.parse(r.stdout)).toEqual({ passed: false, scenario: 'failover' })
      expect(calls).toEqual([{ synchronous: false, stallReplicationMs: 300 }])
    } finally {
      setAdapterImporter(previous)
    }
  })

  it('refuses --seed with a local drill and --async with a simulated one (exit 2)', async () => {
    const a = await baton(['drill', 'postgres-local', '--seed', '3'])
    expect(a.code).toBe(2)
    expect(a.stderr).toMatch(/--seed and --seeds do not apply/)
    const b = await baton(['drill', 'region-outage', '--async'])
    expect(b.code).toBe(2)
    expect(b.stderr).toMatch(/--async and --stall apply to the postgres-local drills only/)
    const c = await baton(['drill', 'postgres-local', '--stall', 'soon'])
    expect(c.code).toBe(2)
    expect(c.stderr).toMatch(/--stall/)
  })

  it('says what to install when the drill module cannot be loaded (exit 2)', async () => {
    const previous = setAdapterImporter(async () => {
      throw Object.assign(new Error('Cannot find module'), { code: 'ERR_MODULE_NOT_FOUND' })
    })
    try {
      const r = await baton(['drill', 'postgres-local'])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/install @baton\/adapters-postgres/)
    } finally {
      setAdapterImporter(previous)
    }
  })
})
