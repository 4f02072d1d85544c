/**
 * Every runbook example is a complete, runnable package: its `drill` and
 * `typecheck` scripts, its vitest project, a README that says how to switch
 * to the real adapters, and a `drill` command that passes and writes its
 * HTML reports. Runs the examples' entry points against dist/ (`pnpm test`
 * builds first), each in its own process with a temporary report directory.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
/** The five runbooks baton grew from; other examples (postgres-local) have their own tests. */
const SEED_RUNBOOKS = [
  'asset-factory-gcp',
  'aurum-kubernetes',
  'ggen-receipts',
  'honua-aws',
  'somaagent-route53',
]
const dirs: string[] = []

beforeAll(() => {
  for (const p of ['packages/core/dist/index.js', 'packages/ledger/dist/index.js']) {
    if (!existsSync(join(root, p))) throw new Error(`${p} is missing: run pnpm build first`)
  }
})
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

it('has the five seed runbooks', () => {
  const present = readdirSync(join(root, 'examples'))
  expect(SEED_RUNBOOKS.filter((name) => present.includes(name))).toEqual(SEED_RUNBOOKS)
})

describe.each(SEED_RUNBOOKS)('examples/%s', (name) => {
  const dir = join(root, 'examples', name)

  it('is a private workspace package with drill and typecheck scripts and its own vitest project', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string
      private: boolean
      scripts: Record<string, string>
      dependencies: Record<string, string>
    }
    expect(pkg.name).toBe(`@baton/example-${name}`)
    expect(pkg.private).toBe(true)
    expect(pkg.scripts.drill).toMatch(/node src\/main\.ts$/)
    expect(pkg.scripts.typecheck).toBe('tsc -p tsconfig.json')
    // In-memory by default: nothing but the engine and the ledger.
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@baton/core', '@baton/ledger'])
    expect(readFileSync(join(dir, 'vitest.config.ts'), 'utf8')).toContain(`name: 'example-${name}'`)
    expect(readdirSync(join(dir, 'test')).some((f) => f.endsWith('.test.ts'))).toBe(true)
  })

  it('has a README that names the runbook, the drill command and the switch to real adapters', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8')
    expect(readme).toContain(`pnpm --filter @baton/example-${name} drill`)
    expect(readme).toContain('## Switching to the real adapters')
    expect(readme).toMatch(/## Where the plan beats the runbook/)
  })

  it('refuses bad arguments, naming them, before any drill runs', () => {
    for (const [args, message] of [
      [['--htm', 'x'], "Unknown option '--htm'"],
      [['--html'], "Option '--html <value>' argument missing"],
      [['1.5'], 'seed: not an integer: 1.5'],
      [['1', '2'], 'one seed at most, got 1 2'],
    ] as const) {
      const r = spawnSync(process.execPath, ['src/main.ts', ...args], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      })
      expect(r.status, args.join(' ')).not.toBe(0)
      expect(r.stderr).toContain(message)
      expect(r.stdout).toBe('')
    }
  })

  it('drills: every drill passes and writes an HTML report with its timeline', () => {
    const out = mkdtempSync(join(tmpdir(), `baton-${name}-`))
    dirs.push(out)
    const r = spawnSync(process.execPath, ['src/main.ts', '1', '--html', out], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/PASSED/)
    expect(r.stdout).not.toMatch(/^Drill .*: FAILED —|^ {2}FAIL /m)
    const pages = readdirSync(out).filter((f) => f.endsWith('.html'))
    expect(pages.length).toBeGreaterThan(0)
    let charts = 0
    for (const page of pages) {
      const html = readFileSync(join(out, page), 'utf8')
      expect(html).toMatch(/^<!doctype html>/i)
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/)
      // A timeline chart per operation (a drill that refuses every move has none).
      if (html.includes('<svg')) charts++
    }
    expect(charts).toBeGreaterThan(0)
  })
})
