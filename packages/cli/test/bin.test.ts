import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { appendFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { tempDir } from './support.js'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

function run(args: string[], stdin?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    input: stdin ?? '',
    encoding: 'utf8',
    env: { ...process.env, BATON_PROGRESS: '0' },
    timeout: 30_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

let dir: string
let cleanup: () => Promise<void>
beforeAll(() => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run pnpm build first (pnpm test does)`)
})
beforeEach(async () => {
  ;({ dir, cleanup } = await tempDir())
})
afterEach(() => cleanup())

describe('the baton executable', () => {
  it('exits 0, 1 and 2 as documented', async () => {
    const ledger = join(dir, 'l')
    expect(run(['init', ledger]).code).toBe(0)
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ type: 'x.y', data: { i } }))
    expect(run(['append', ledger], lines.join('\n')).code).toBe(0)
    expect(run(['verify', ledger])).toMatchObject({ code: 0, stderr: '' })
    const seg = join(ledger, 'segments', (await readdir(join(ledger, 'segments')))[0]!)
    await appendFile(seg, 'not a receipt\n')
    const failed = run(['verify', ledger])
    expect(failed.code).toBe(1)
    expect(failed.stdout).toContain('Malformed lines: 1')
    expect(run(['verify', join(dir, 'missing')]).code).toBe(2)
    expect(run(['verify']).code).toBe(2)
    expect(run(['append', ledger, '--type', 'x.y', '--data', '{"a":NaN}']).code).toBe(2)
  })

  it('runs the demo', () => {
    const r = run(['demo', '--dir', join(dir, 'demo')])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Chain integrity: VERIFIED')
  })
})
