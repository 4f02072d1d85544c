import { chmod, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createLedger, generateKeyPair, openFileStore } from '@baton/ledger'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { baton, tempDir } from './support.js'

let dir: string
let ledgerDir: string
let targetDir: string
let keyFile: string
let verifierKey: string
let signerKey: string
let cleanup: () => Promise<void>

/** The UTC day `n` days before today, `YYYY-MM-DD`. */
const daysAgo = (n: number): string =>
  new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10)
const [D1, D2, D3] = [daysAgo(4), daysAgo(3), daysAgo(2)]

/** A file ledger with receipts on three past days: 5, 7 and 4. */
async function buildLedger(path: string, tag = 'a'): Promise<void> {
  const store = await openFileStore(path, { create: true })
  let t = 0
  const ledger = createLedger({ store, clock: { now: () => (t += 60_000) } })
  for (const [day, n] of [
    [D1, 5],
    [D2, 7],
    [D3, 4],
  ] as const) {
    t = Date.parse(`${day}T01:00:00.000Z`)
    await ledger.appendBatch(
      Array.from({ length: n }, (_, i) => ({ type: 'probe.sampled', data: { day, i, tag } })),
    )
  }
  await ledger.close()
}

beforeEach(async () => {
  ;({ dir, cleanup } = await tempDir())
  ledgerDir = join(dir, 'ledger')
  targetDir = join(dir, 'exports')
  keyFile = join(dir, 'signer.key')
  ;({ signerKey, verifierKey } = generateKeyPair('baton.test/cli', {
    seed: new Uint8Array(32).fill(3),
  }))
  await writeFile(keyFile, `${signerKey}\n`, { mode: 0o600 })
  await buildLedger(ledgerDir)
})
afterEach(() => cleanup())

const exportArgs = (...more: string[]) => [
  'export',
  ledgerDir,
  '--to',
  targetDir,
  '--key',
  keyFile,
  ...more,
]

describe('baton export, verify-export, restore', () => {
  it('round-trips: export by day, verify the export, restore it, verify the restored ledger', async () => {
    const d1 = await baton(exportArgs('--date', D1))
    expect(d1).toMatchObject({ code: 0, stderr: '' })
    expect(d1.stdout).toMatch(
      new RegExp(`Exported receipts 0–4 \\(5\\) for ${D1} to bundles/0{20}-${D1}-`),
    )
    expect(d1.stdout).toContain('Retention: nothing to delete')
    const again = await baton(exportArgs('--date', D1))
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`Already exported: ${D1} is already exported`)
    const rest = await baton(exportArgs('--gzip'))
    expect(rest.stdout).toMatch(/Exported receipts 5–15 \(11\)/)
    expect(rest.stdout).toContain('gzip')
    const none = await baton(exportArgs())
    expect(none.stdout).toContain('Nothing to export')

    const v = await baton(['verify-export', targetDir, '--key', verifierKey])
    expect(v).toMatchObject({ code: 0, stderr: '' })
    expect(v.stdout).toContain(
      'Manifest entries: 2\nBundles: 2 verified, 0 retired by retention, 0 missing, 0 damaged\nReceipts checked: 16\nValid: 16\n',
    )
    expect(v.stdout).toMatch(/Export integrity: VERIFIED\n$/)

    const into = join(dir, 'restored')
    const r = await baton(['restore', targetDir, '--into', into, '--key', verifierKey])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain('Restored 16 receipts (0–15)')
    expect(r.stdout).toContain('Lost: none')
    expect(r.stdout).toMatch(
      /Recorded: receipt #16 ledger\.restored [0-9a-f]{64}\nRestore: COMPLETE\n$/,
    )
    const verified = await baton(['verify', into])
    expect(verified.code).toBe(0)
    const last = JSON.parse((await baton(['inspect', into, '--from', '16', '--json'])).stdout)
    expect(last).toMatchObject({
      type: 'ledger.restored',
      data: { restoredThrough: 15, lost: { count: 0 } },
    })
  })

  it('prints JSON, reads the key from BATON_SIGNER_KEY and targets file: URLs', async () => {
    const url = pathToFileURL(targetDir).href
    const e = await baton(['export', ledgerDir, '--to', url, '--json'], {
      env: { BATON_SIGNER_KEY: signerKey },
    })
    expect(e.code).toBe(0)
    const result = JSON.parse(e.stdout)
    expect(result).toMatchObject({
      status: 'exported',
      receipts: 16,
      entry: { index: 0, lastSeq: 15 },
    })
    expect(result.target).toBe(`file:${targetDir}`)
    const v = JSON.parse(
      (await baton(['verify-export', url, '--key', verifierKey, '--json'])).stdout,
    )
    expect(v).toMatchObject({ status: 'VERIFIED', entries: 1, size: 16 })
    const into = join(dir, 'r')
    const r = await baton([
      'restore',
      url,
      '--into',
      into,
      '--key',
      verifierKey,
      '--up-to',
      '9',
      '--json',
    ])
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'restored', restoredThrough: 9 })
    expect(JSON.parse(r.stdout).receipt.data.upTo).toBe(9)
  })

  it('exits 1 on a damaged export, and restores up to the damage reporting the loss', async () => {
    expect((await baton(exportArgs('--date', D1))).code).toBe(0)
    expect((await baton(exportArgs())).code).toBe(0)
    const bundles = (await readdir(join(targetDir, 'bundles'))).sort()
    const second = join(targetDir, 'bundles', bundles[1]!)
    const text = await readFile(second, 'utf8')
    await chmod(second, 0o644)
    await writeFile(second, text.replace('"i":3,', '"i":4,'))
    const v = await baton(['verify-export', targetDir, '--key', verifierKey])
    expect(v.code).toBe(1)
    expect(v.stdout).toMatch(/hash-mismatch: bundles\/.*: the bundle's SHA-256 differs/)
    expect(v.stdout).toMatch(/Export integrity: FAILED \(\d+ problems\)\n$/)
    const into = join(dir, 'restored')
    const r = await baton(['restore', targetDir, '--into', into, '--key', verifierKey])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Restored 8 receipts (0–7)')
    expect(r.stdout).toContain(
      `LOST: 8 receipts, 8–15, from ${D2}T01:04:00.000Z to ${D3}T01:04:00.000Z`,
    )
    expect(r.stdout).toContain('Restore: COMPLETED WITH DATA LOSS')
    expect((await baton(['verify', into])).code).toBe(0)
  })

  it('refuses bad input with exit code 2, naming the argument', async () => {
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [['export', ledgerDir, '--key', keyFile], /required option '--to <target>'/],
      [exportArgs('--date', '2026-02-30'), /date: "2026-02-30" is not a real day/],
      [exportArgs('--date', '2999-01-01'), /date: 2999-01-01 is not over yet/],
      [exportArgs('--retain-days', '0'), /--retain-days must be a positive integer/],
      [['export', ledgerDir, '--to', targetDir], /--key: no signer key/, {}],
      [
        ['export', ledgerDir, '--to', 'ftp://x', '--key', keyFile],
        /--to ftp:\/\/x: unknown scheme "ftp:"/,
      ],
      [['export', join(dir, 'nope'), '--to', targetDir, '--key', keyFile], /no baton ledger/],
      [
        ['export', ledgerDir, '--to', targetDir, '--key', join(dir, 'missing.key')],
        /--key .*missing\.key: cannot read it/,
      ],
      [
        ['verify-export', join(dir, 'nothing'), '--key', verifierKey],
        /<target> .*nothing: no such directory/,
      ],
      [['verify-export', targetDir], /--key: at least one verifier key/],
      [
        ['restore', targetDir, '--into', join(dir, 'x'), '--key', verifierKey, '--up-to', 'x'],
        /--up-to must be a non-negative integer/,
      ],
    ]
    for (const [args, message, env] of cases) {
      const r = await baton(args, env === undefined ? {} : { env })
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
    }
    // Nothing was exported by any of them.
    const listing = await readdir(targetDir).catch(() => [])
    expect(listing).toEqual([])
  })

  it('refuses to restore over a ledger, and removes a new one when nothing could be restored', async () => {
    expect((await baton(exportArgs())).code).toBe(0)
    const over = await baton(['restore', targetDir, '--into', ledgerDir, '--key', verifierKey])
    expect(over.code).toBe(2)
    expect(over.stderr).toMatch(/store: must be empty: .* holds 16 receipts/)
    expect((await baton(['verify', ledgerDir])).code).toBe(0)
    const wrong = generateKeyPair('baton.test/cli', {
      seed: new Uint8Array(32).fill(4),
    }).verifierKey
    const into = join(dir, 'fresh')
    const bad = await baton(['restore', targetDir, '--into', into, '--key', wrong])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/nothing can be restored .*bad-signature/)
    expect(await readdir(dir)).not.toContain('fresh')
  })

  it('restores after retention: an anchored ledger that verifies, matches the original checkpoint and continues the export', async () => {
    for (const [day, retain] of [
      [D1, '90'],
      [D2, '90'],
      [D3, '2'],
    ] as const) {
      expect((await baton(exportArgs('--date', day, '--retain-days', retain))).code).toBe(0)
    }
    // Retention (2 days) deleted the bundles of D1 and D2: receipts 0–11.
    expect(await readdir(join(targetDir, 'bundles'))).toHaveLength(1)
    const v = await baton(['verify-export', targetDir, '--key', verifierKey, '--retain-days', '2'])
    expect(v.stdout).toContain('Bundles: 1 verified, 2 retired by retention, 0 missing, 0 damaged')
    const cp = join(dir, 'original.cp')
    expect((await baton(['checkpoint', ledgerDir, '--key', keyFile, '--out', cp])).code).toBe(0)

    const into = join(dir, 'restored')
    const r = await baton(['restore', targetDir, '--into', into, '--key', verifierKey])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain('Restored 4 receipts (12–15)')
    expect(r.stdout).toContain(
      `Retired: 12 receipts, 0–11, from ${D1}T01:01:00.000Z to ${D2}T01:07:00.000Z (their bundles are gone: retention)`,
    )
    expect(r.stdout).toMatch(
      /Anchor: the ledger begins at receipt 12, as of file:.* manifest\/0{19}1\.json/,
    )
    expect(r.stdout).toContain('Lost: none')
    expect(r.stdout).toMatch(
      /Recorded: receipt #16 ledger\.restored [0-9a-f]{64}\nRestore: COMPLETE\n$/,
    )
    const meta = JSON.parse(await readFile(join(into, 'baton-ledger.json'), 'utf8'))
    expect(meta.anchor).toMatchObject({ seq: 12 })

    const verified = await baton(['verify', into, '--checkpoint', cp, '--key', verifierKey])
    expect(verified).toMatchObject({ code: 0, stderr: '' })
    expect(verified.stdout).toContain('Anchor: begins at receipt 12 (receipts 0–11 retired)')
    expect(verified.stdout).toContain('Checkpoint: MATCHES')
    expect(verified.stdout).toContain('Chain integrity: VERIFIED')
    const last = JSON.parse((await baton(['inspect', into, '--from', '16', '--json'])).stdout)
    expect(last).toMatchObject({
      type: 'ledger.restored',
      data: {
        restoredThrough: 15,
        retired: { count: 12, fromSeq: 0, toSeq: 11 },
        lost: { count: 0 },
      },
    })
    const proof = await baton(['prove', 'inclusion', into, '13'])
    expect(proof.code).toBe(0)
    const retired = await baton(['prove', 'inclusion', into, '3'])
    expect(retired.code).toBe(2)
    expect(retired.stderr).toMatch(/seq 3 is retired: the ledger begins at its anchor \(seq 12\)/)

    // The restored ledger continues the daily export.
    expect((await baton(['append', into, '--type', 'probe.sampled'])).code).toBe(0)
    const more = await baton([
      'export',
      into,
      '--to',
      targetDir,
      '--key',
      keyFile,
      '--retain-days',
      '2',
    ])
    expect(more).toMatchObject({ code: 0, stderr: '' })
    expect(more.stdout).toMatch(/Exported receipts 16–17 \(2\)/)
    const v2 = await baton(['verify-export', targetDir, '--key', verifierKey, '--retain-days', '2'])
    expect(v2.stdout).toMatch(/Export integrity: VERIFIED\n$/)

    // An existing empty ledger that does not begin at the anchor is refused, untouched.
    const plain = join(dir, 'plain')
    expect((await baton(['init', plain])).code).toBe(0)
    const refused = await baton(['restore', targetDir, '--into', plain, '--key', verifierKey])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(
      /bundles before receipt 12 are gone \(retention\), so the restored ledger must begin at an anchor, and --into .*plain is a ledger that begins at receipt 0; restore into a new or empty directory/,
    )
    expect((await baton(['verify', plain])).code).toBe(0)
  })

  it('exports from a different ledger are refused with exit 1', async () => {
    expect((await baton(exportArgs())).code).toBe(0)
    const other = join(dir, 'other')
    await buildLedger(other, 'b')
    const r = await baton(['export', other, '--to', targetDir, '--key', keyFile])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/differs from the one exported/)
  })

  it('draws progress bars on standard error when asked', async () => {
    const e = await baton(exportArgs(), { env: { BATON_PROGRESS: '1' } })
    expect(e.code).toBe(0)
    expect(e.stderr).toContain('Exporting')
    const v = await baton(['verify-export', targetDir, '--key', verifierKey], {
      env: { BATON_PROGRESS: '1' },
    })
    expect(v.stderr).toContain('Verifying export')
    const r = await baton(['restore', targetDir, '--into', join(dir, 'r'), '--key', verifierKey], {
      env: { BATON_PROGRESS: '1' },
    })
    expect(r.stderr).toContain('Restoring')
  })
})
