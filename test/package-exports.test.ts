/**
 * Every package's `exports` map points at files the build produced, its ESM
 * and CommonJS entries export the same names, and publint finds no errors.
 * Runs against dist/ (`pnpm test` builds first).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { publint } from 'publint'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const packages = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name))

type Target = string | { [condition: string]: Target }

function leaves(target: Target, conditions: string[] = []): [string[], string][] {
  if (typeof target === 'string') return [[conditions, target]]
  return Object.entries(target).flatMap(([c, t]) => leaves(t, [...conditions, c]))
}

describe.each(packages)('%s', (dir) => {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string
    exports: Record<string, Target>
    bin?: Record<string, string>
  }

  it('has every exported and bin file built', () => {
    expect(existsSync(join(dir, 'dist')), `${pkg.name}: run pnpm build first`).toBe(true)
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      for (const [conditions, file] of leaves(target)) {
        expect(
          existsSync(join(dir, file)),
          `${pkg.name} ${subpath} [${conditions.join('/')}] → ${file}`,
        ).toBe(true)
      }
    }
    for (const file of Object.values(pkg.bin ?? {})) expect(existsSync(join(dir, file))).toBe(true)
  })

  it('exports the same names from import and require', async () => {
    const require = createRequire(join(dir, 'package.json'))
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue
      const esm = leaves(target).find(([c]) => c.includes('import') || c.includes('default'))
      const cjs = leaves(target).find(([c]) => c.includes('require') && !c.includes('types'))
      if (esm === undefined) continue
      const esmFile = leaves(target).find(
        ([c, f]) =>
          !c.includes('types') &&
          !f.endsWith('.d.ts') &&
          (c.includes('import') || c.includes('default')) &&
          f.endsWith('.js'),
      )
      if (esmFile === undefined) continue
      const esmNames = Object.keys(await import(pathToFileURL(join(dir, esmFile[1])).href)).sort()
      expect(esmNames.length, `${pkg.name}${subpath.slice(1)} exports nothing`).toBeGreaterThan(0)
      if (cjs !== undefined) {
        const cjsNames = Object.keys(require(join(dir, cjs[1])))
          .filter((n) => n !== 'default' && n !== '__esModule')
          .sort()
        expect(cjsNames, `${pkg.name}${subpath.slice(1)}: CommonJS and ESM differ`).toEqual(
          esmNames,
        )
      }
    }
  })

  it('passes publint', async () => {
    const { messages } = await publint({ pkgDir: dir, level: 'warning', strict: false })
    const problems = messages.filter((m) => m.type === 'error' || m.type === 'warning')
    expect(problems.map((m) => `${m.type} ${m.code} ${JSON.stringify(m.args)}`)).toEqual([])
  })
})
