/**
 * `pnpm bench` runs bench/*.ts on Node's own type stripping, not through
 * vitest: an import that only vitest can resolve (a `.js` name for a `.ts`
 * file, a missing build) breaks it without any test noticing. Each bench
 * module is imported here in a plain Node process, the way `pnpm bench`
 * loads it (importing runs nothing: the modules export their benches and
 * bench/run.ts calls them). Needs the built packages (`pnpm test` builds).
 */
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const modules = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .sort()

it('finds the bench modules', () => {
  expect(modules).toContain('verify.ts')
  expect(modules.length).toBeGreaterThan(5)
})

it.each(modules)('bench/%s loads under plain Node', (name) => {
  const script = `const m = await import(${JSON.stringify(`./bench/${name}`)}); console.log(Object.keys(m).length)`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  })
  expect(Number(out.trim())).toBeGreaterThan(0)
})
