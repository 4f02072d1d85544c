import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { baton, tempDir } from './support.js'

let dir: string
let ledgerDir: string
let cleanup: () => Promise<void>

beforeEach(async () => {
  ;({ dir, cleanup } = await tempDir())
  ledgerDir = join(dir, 'ledger')
})
afterEach(() => cleanup())

async function segmentFiles(): Promise<string[]> {
  const segs = join(ledgerDir, 'segments')
  return (await readdir(segs)).sort().map((f) => join(segs, f))
}

describe('baton init', () => {
  it('creates an empty ledger and refuses to create it twice', async () => {
    const first = await baton(['init', ledgerDir])
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout).toContain('Created an empty ledger')
    const again = await baton(['init', ledgerDir])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already exists/)
  })

  it('resolves relative paths against the working directory and prints JSON', async () => {
    const r = await baton(['init', 'rel', '--json'], { cwd: dir })
    expect(JSON.parse(r.stdout)).toEqual({ created: join(dir, 'rel') })
  })
})

describe('baton append', () => {
  beforeEach(async () => {
    await baton(['init', ledgerDir])
  })

  it('appends one receipt from --type and --data', async () => {
    const r = await baton([
      'append',
      ledgerDir,
      '--type',
      'drill.started',
      '--data',
      '{"b":2,"a":1}',
      '--json',
    ])
    expect(r.code).toBe(0)
    const receipt = JSON.parse(r.stdout)
    expect(receipt).toMatchObject({ seq: 0, type: 'drill.started', data: { a: 1, b: 2 }, v: 1 })
    expect(receipt.hash).toMatch(/^[0-9a-f]{64}$/)
    const text = await readFile((await segmentFiles())[0]!, 'utf8')
    expect(text).toContain('{"data":{"a":1,"b":2},')
  })

  it('appends JSON lines from stdin in one batch', async () => {
    const stdin = ['{"type":"a.one","data":{"n":1}}', '', '{"type":"a.two","data":{"n":2}}'].join(
      '\n',
    )
    const r = await baton(['append', ledgerDir], { stdin })
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(2)
    expect(r.stdout).toMatch(/^appended #0 a\.one [0-9a-f]{64}\nappended #1 a\.two /)
  })

  it.each([
    [['--type', 'Bad'], 'type: "Bad" is not a dotted lowercase type'],
    [['--type', 'a.b', '--data', '[1]'], 'data: must be a JSON object'],
    [['--type', 'a.b', '--data', '{"x":1,"x":2}'], 'data.x: duplicate key (--data, column 8)'],
    [['--type', 'a.b', '--data', '{"id":12345678901234567890}'], 'data.id: 12345678901234567890'],
    [['--type', 'a.b', '--data', '{"x":'], 'data: invalid JSON (--data'],
    [['--data', '{}'], '--data needs --type'],
  ])('refuses %j naming the field, writing nothing', async (args, message) => {
    const r = await baton(['append', ledgerDir, ...args])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
    expect(await readFile((await segmentFiles())[0]!, 'utf8').catch(() => '')).toBe('')
  })

  it('refuses a bad stdin line by number and writes none of the batch', async () => {
    const stdin = [
      '{"type":"a.ok","data":{}}',
      '{"type":"a.ok","data":{}}',
      '{"type":"a.bad","data":{"deep":{"x":1,"x":2}}}',
    ].join('\n')
    const r = await baton(['append', ledgerDir], { stdin })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('data.deep.x: duplicate key (stdin line 3, column 39)')
    const bad2 = await baton(['append', ledgerDir], {
      stdin: '{"type":"a.ok","data":{}}\n\n{"type":"nodot","data":{}}',
    })
    expect(bad2.stderr).toContain('stdin line 3: type')
    const bad3 = await baton(['append', ledgerDir], { stdin: '{"type":"a.ok","data":{},"seq":4}' })
    expect(bad3.stderr).toContain('stdin line 1: seq: is not allowed')
    const inspect = await baton(['inspect', ledgerDir])
    expect(inspect.stdout).toBe('')
  })

  it('fails on a missing ledger with exit code 2', async () => {
    const r = await baton(['append', join(dir, 'nope'), '--type', 'a.b'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^baton: /)
  })
})

describe('baton verify and inspect', () => {
  beforeEach(async () => {
    await baton(['init', ledgerDir])
    const stdin = Array.from({ length: 25 }, (_, i) =>
      JSON.stringify({ type: 'probe.sampled', data: { i } }),
    ).join('\n')
    await baton(['append', ledgerDir], { stdin })
  })

  it('verifies an intact ledger: summary, exit 0', async () => {
    const r = await baton(['verify', ledgerDir])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Receipts checked: 25\nValid: 25\nHash mismatches: 0\n')
    expect(r.stdout).toMatch(/Chain integrity: VERIFIED\n$/)
  })

  it('prints the report as JSON', async () => {
    const r = await baton(['verify', ledgerDir, '--json'])
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({ status: 'VERIFIED', checked: 25, valid: 25, size: 25 })
    expect(report.ledger).toMatch(/^file:/)
  })

  it('exits 1 and locates the problem when a receipt was changed', async () => {
    const [seg] = await segmentFiles()
    const text = await readFile(seg!, 'utf8')
    await writeFile(seg!, text.replace('{"i":7}', '{"i":8}'))
    const r = await baton(['verify', ledgerDir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Hash mismatches: 1')
    expect(r.stdout).toMatch(/hash-mismatch: line 8 of .*: receipt 7 was changed/)
    expect(r.stdout).toMatch(/Chain integrity: FAILED \(1 problem\)\n$/)
    const json = JSON.parse((await baton(['verify', ledgerDir, '--json'])).stdout)
    expect(json.problems[0]).toMatchObject({ kind: 'hash-mismatch', seq: 7, line: 8 })
  })

  it('reports a torn last line without repairing it', async () => {
    const [seg] = await segmentFiles()
    await appendFile(seg!, '{"data":{"i":2')
    const r = await baton(['verify', ledgerDir, '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).problems[0]).toMatchObject({ kind: 'malformed', line: 26 })
    expect(await readFile(seg!, 'utf8')).toMatch(/\{"data":\{"i":2$/)
  })

  it('exits 2 when the ledger cannot be read', async () => {
    const r = await baton(['verify', join(dir, 'missing')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^baton: .*no baton ledger|^baton: .*not found|NOT_FOUND/i)
  })

  it('inspects a range, inclusive, as text and JSON', async () => {
    const text = await baton(['inspect', ledgerDir, '--from', '3', '--to', '5'])
    const lines = text.stdout.trim().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(
      /^#3 {2}\d{4}-\d\d-\d\dT.*Z {2}probe\.sampled {2}[0-9a-f]{12} {2}\{"i":3\}$/,
    )
    const json = await baton(['inspect', ledgerDir, '--from', '24', '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({ seq: 24, data: { i: 24 } })
    expect((await baton(['inspect', ledgerDir, '--from', '100'])).stdout).toBe('')
  })

  it('refuses bad numbers and ranges as usage errors', async () => {
    for (const args of [
      ['--from', '-1'],
      ['--from', 'x'],
      ['--to', '1.5'],
      ['--from', '5', '--to', '2'],
    ]) {
      const r = await baton(['inspect', ledgerDir, ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.length).toBeGreaterThan(0)
    }
  })

  it('draws a progress bar on standard error when asked', async () => {
    const r = await baton(['verify', ledgerDir], { env: { BATON_PROGRESS: '1' } })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('Verifying')
  })
})

describe('baton demo and usage', () => {
  it('drills a failover and a failback into a file ledger, prints the timeline and verifies it', async () => {
    const r = await baton(['demo', '--dir', join(dir, 'demo')])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('us-central1: healthy → down (consecutiveFailures 3/3)')
    expect(r.stdout).toContain('decided: P1 automatic failover us-central1 → europe-west1')
    expect(r.stdout).toMatch(/✔ step +promote/)
    expect(r.stdout).toContain('through 10 %, 50 %, 100 %')
    expect(r.stdout).toMatch(/RTO \d+ s \(target 30 min\) met; RPO 0 ms \(target 0 ms\) met/)
    expect(r.stdout).toContain('Drill checks: 13/13 held')
    expect(r.stdout).toMatch(/Receipts checked: \d{2}/)
    expect(r.stdout).toContain('Chain integrity: VERIFIED')
    const again = await baton(['verify', join(dir, 'demo')])
    expect(again.code).toBe(0)
  })

  it('answers --help and --version with 0, unknown commands and options with 2', async () => {
    expect((await baton(['--help'])).code).toBe(0)
    expect((await baton(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/)
    const unknown = await baton(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown command 'frobnicate'")
    expect((await baton(['verify'])).code).toBe(2)
    expect((await baton(['verify', ledgerDir, '--nope'])).code).toBe(2)
  })
})
