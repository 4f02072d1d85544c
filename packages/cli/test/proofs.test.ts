import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  hexToBytes,
  leafHash,
  merkleRoot,
  openCheckpoint,
  openFileStore,
  parseVerifierKey,
  TREE_STATE_FILE,
  verifyConsistency,
  verifyInclusion,
} from '@baton/ledger'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { baton, tempDir } from './support.js'

let dir: string
let ledgerDir: string
let cleanup: () => Promise<void>
let keyFile: string
let verifierKey: string

async function appendReceipts(n: number, from = 0): Promise<void> {
  const stdin = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ type: 'probe.sampled', data: { i: from + i } }),
  ).join('\n')
  expect((await baton(['append', ledgerDir], { stdin })).code).toBe(0)
}

async function leaves(): Promise<Uint8Array[]> {
  const store = await openFileStore(ledgerDir, { readOnly: true })
  const out: Uint8Array[] = []
  for await (const line of store.read()) out.push(hexToBytes(leafHash(line.bytes)))
  await store.close()
  return out
}

async function segmentFile(): Promise<string> {
  const segs = join(ledgerDir, 'segments')
  return join(segs, (await readdir(segs)).sort()[0]!)
}

beforeEach(async () => {
  ;({ dir, cleanup } = await tempDir())
  ledgerDir = join(dir, 'ledger')
  await baton(['init', ledgerDir])
  await appendReceipts(25)
  keyFile = join(dir, 'log.key')
  const r = await baton(['keygen', '--name', 'example.com/log', '--out', keyFile, '--json'])
  expect(r.code).toBe(0)
  verifierKey = JSON.parse(r.stdout).verifierKey
})
afterEach(() => cleanup())

describe('baton keygen', () => {
  it('prints a signer and a verifier key', async () => {
    const r = await baton(['keygen', '--name', 'example.com/log'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[1]).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+/)
    expect(parseVerifierKey(lines[3]!).name).toBe('example.com/log')
    const json = JSON.parse((await baton(['keygen', '--name', 'n', '--json'])).stdout)
    expect(json.signerKey).toMatch(/^PRIVATE\+KEY\+n\+/)
    expect(json.verifierKey).toMatch(/^n\+[0-9a-f]{8}\+/)
  })

  it('writes the signer key to a new file with mode 0600 and never overwrites it', async () => {
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600)
    expect(await readFile(keyFile, 'utf8')).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+.*\n$/)
    const text = await baton(['keygen', '--name', 'x', '--out', join(dir, 'x.key')])
    expect(text.stdout).toContain('mode 0600')
    expect(text.stdout.trim().split('\n').at(-1)).toMatch(/^x\+[0-9a-f]{8}\+/)
    const again = await baton(['keygen', '--name', 'x', '--out', keyFile])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('already exists; refusing to overwrite')
  })

  it('refuses a bad or missing name', async () => {
    const bad = await baton(['keygen', '--name', 'has space'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--name: key name/)
    const plus = await baton(['keygen', '--name', 'a+b'])
    expect(plus.stderr).toMatch(/--name: key name/)
    const missing = await baton(['keygen'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("required option '--name <name>'")
  })
})

describe('baton checkpoint', () => {
  it('prints a signed checkpoint of the whole ledger and saves the tree state', async () => {
    const r = await baton(['checkpoint', ledgerDir, '--key', keyFile])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    const cp = openCheckpoint(r.stdout, [parseVerifierKey(verifierKey)])
    expect(cp).toMatchObject({ origin: 'example.com/log', size: 25 })
    expect(Buffer.from(cp.root).toString('hex')).toBe(
      Buffer.from(merkleRoot(await leaves())).toString('hex'),
    )
    expect((await stat(join(ledgerDir, TREE_STATE_FILE))).size).toBeGreaterThan(0)
  })

  it('is incremental: reads only what was appended since', async () => {
    await baton(['checkpoint', ledgerDir, '--key', keyFile])
    await appendReceipts(5, 25)
    const r = await baton(['checkpoint', ledgerDir, '--key', keyFile, '--json'])
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({
      size: 30,
      origin: 'example.com/log',
      signedBy: ['example.com/log'],
    })
    expect(out.treeState).toMatchObject({ previousSize: 25, size: 30, rebuilt: null, saved: true })
    expect(out.treeState.receiptsRead).toBeLessThanOrEqual(30)
    expect(out.root).toBe(Buffer.from(merkleRoot(await leaves())).toString('base64'))
    expect(openCheckpoint(out.note, [parseVerifierKey(verifierKey)]).size).toBe(30)
  })

  it('takes the key from standard input or BATON_SIGNER_KEY, signs with several keys', async () => {
    const key = await readFile(keyFile, 'utf8')
    const stdin = await baton(['checkpoint', ledgerDir, '--key', '-'], { stdin: key })
    expect(stdin.code).toBe(0)
    const env = await baton(['checkpoint', ledgerDir, '--origin', 'my.log'], {
      env: { BATON_SIGNER_KEY: key.trim() },
    })
    expect(env.stdout).toMatch(/^my\.log\n25\n/)
    const second = join(dir, 'new.key')
    const kg = await baton(['keygen', '--name', 'example.com/log-2', '--out', second, '--json'])
    const r = await baton(['checkpoint', ledgerDir, '--key', keyFile, '--key', second, '--json'])
    expect(JSON.parse(r.stdout).signedBy).toEqual(['example.com/log', 'example.com/log-2'])
    const note = JSON.parse(r.stdout).note
    expect(openCheckpoint(note, [parseVerifierKey(JSON.parse(kg.stdout).verifierKey)]).size).toBe(
      25,
    )
  })

  it('writes the note to --out and draws a progress bar when asked', async () => {
    const out = join(dir, 'cp.txt')
    const r = await baton(['checkpoint', ledgerDir, '--key', keyFile, '--out', out], {
      env: { BATON_PROGRESS: '1' },
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Checkpoint of 25 receipts written to ${out}`)
    expect(r.stderr).toContain('Tree state')
    expect(openCheckpoint(await readFile(out, 'utf8'), [parseVerifierKey(verifierKey)]).size).toBe(
      25,
    )
  })

  it('rebuilds a damaged tree state and says so', async () => {
    await baton(['checkpoint', ledgerDir, '--key', keyFile])
    const path = join(ledgerDir, TREE_STATE_FILE)
    const bytes = await readFile(path)
    bytes[70]! ^= 1
    await writeFile(path, bytes)
    const r = await baton(['checkpoint', ledgerDir, '--key', keyFile, '--json'])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/tree state was rebuilt from scratch: .*checksum mismatch/)
    expect(JSON.parse(r.stdout).root).toBe(
      Buffer.from(merkleRoot(await leaves())).toString('base64'),
    )
  })

  it('checkpoints an empty ledger (the empty-tree root), which verify accepts', async () => {
    const empty = join(dir, 'empty')
    await baton(['init', empty])
    const cp = join(dir, 'empty-cp.txt')
    const r = await baton(['checkpoint', empty, '--key', keyFile, '--out', cp, '--json'])
    expect(JSON.parse(r.stdout)).toMatchObject({
      size: 0,
      root: Buffer.from(merkleRoot([])).toString('base64'),
    })
    const v = await baton(['verify', empty, '--checkpoint', cp, '--key', verifierKey])
    expect(v.code).toBe(0)
    const p = await baton(['prove', 'inclusion', empty, '0'])
    expect(p.stderr).toContain("<seq> 0 is not below the ledger's 0 receipts")
    expect((await baton(['prove', 'consistency', empty, '0', '0'])).code).toBe(0)
  })

  it('refuses missing and malformed keys naming the argument', async () => {
    const none = await baton(['checkpoint', ledgerDir])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('--key: no signer key; pass --key FILE')
    const missing = await baton(['checkpoint', ledgerDir, '--key', join(dir, 'nope.key')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/--key .*nope\.key: cannot read it \(no such file\)/)
    const bad = join(dir, 'bad.key')
    await writeFile(bad, 'PRIVATE+KEY+x+00000000+AQ==\n')
    const malformed = await baton(['checkpoint', ledgerDir, '--key', bad])
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toMatch(/--key .*bad\.key: signer key: /)
    await writeFile(bad, verifierKey)
    const notSigner = await baton(['checkpoint', ledgerDir, '--key', bad])
    expect(notSigner.stderr).toMatch(/--key .*bad\.key: signer key: must start with PRIVATE\+KEY\+/)
    const origin = await baton(['checkpoint', ledgerDir, '--key', keyFile, '--origin', ''])
    expect(origin.code).toBe(2)
    expect(origin.stderr).toContain('--origin: must not be empty')
    const noLedger = await baton(['checkpoint', join(dir, 'none'), '--key', keyFile])
    expect(noLedger.code).toBe(2)
  })
})

describe('baton prove', () => {
  it('proves inclusion: text with base64 hashes, JSON a client can check', async () => {
    const all = await leaves()
    const r = await baton(['prove', 'inclusion', ledgerDir, '7', '--json'])
    expect(r.code).toBe(0)
    const p = JSON.parse(r.stdout)
    expect(p).toMatchObject({ type: 'inclusion', seq: 7, size: 25 })
    expect(leafHash(p.receipt)).toBe(p.leafHash)
    const proof = p.proof.map((h: string) => new Uint8Array(Buffer.from(h, 'base64')))
    expect(verifyInclusion(all[7]!, 7, 25, proof, Buffer.from(p.root, 'base64'))).toBe(true)
    expect(p.root).toBe(Buffer.from(merkleRoot(all)).toString('base64'))
    const text = await baton(['prove', 'inclusion', ledgerDir, '7', '--size', '10'])
    const lines = text.stdout.trim().split('\n')
    expect(lines[0]).toBe('Inclusion proof: receipt 7 in the tree of 10 receipts')
    expect(lines[2]).toBe(`Root: ${Buffer.from(merkleRoot(all.slice(0, 10))).toString('base64')}`)
    expect(lines.slice(4)).toHaveLength(Number(/\((\d+) hashes/.exec(lines[3]!)![1]))
    for (const h of lines.slice(4)) expect(Buffer.from(h, 'base64')).toHaveLength(32)
  })

  it('proves consistency', async () => {
    const all = await leaves()
    const r = await baton(['prove', 'consistency', ledgerDir, '9', '25', '--json'])
    const p = JSON.parse(r.stdout)
    const proof = p.proof.map((h: string) => new Uint8Array(Buffer.from(h, 'base64')))
    expect(
      verifyConsistency(9, 25, proof, merkleRoot(all.slice(0, 9)), Buffer.from(p.rootN, 'base64')),
    ).toBe(true)
    const text = await baton(['prove', 'consistency', ledgerDir, '3', '20'])
    expect(text.stdout).toMatch(/^Consistency proof: 3 → 20 receipts\nRoot of 3: /)
  })

  it('refuses bad arguments naming them', async () => {
    const cases: [string[], RegExp][] = [
      [['inclusion', ledgerDir, '25'], /<seq> 25 is not below the ledger's 25 receipts/],
      [['inclusion', ledgerDir, '3', '--size', '99'], /--size 99 is beyond the ledger's 25/],
      [['inclusion', ledgerDir, '5', '--size', '5'], /<seq> 5 is not below --size 5/],
      [['inclusion', ledgerDir, 'x'], /<seq> must be a non-negative integer, got "x"/],
      [['inclusion', ledgerDir, '-1'], /error: /],
      [['consistency', ledgerDir, '9', '3'], /<m> 9 is greater than <n> 3/],
      [['consistency', ledgerDir, '3', '26'], /<n> 26 is beyond the ledger's 25 receipts/],
      [['consistency', ledgerDir, '3'], /missing required argument 'n'/],
      [['inclusion', join(dir, 'none'), '0'], /no baton ledger/],
    ]
    for (const [args, message] of cases) {
      const r = await baton(['prove', ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
    }
  })
})

describe('baton verify with a checkpoint', () => {
  let cpFile: string
  beforeEach(async () => {
    cpFile = join(dir, 'cp.txt')
    await baton(['checkpoint', ledgerDir, '--key', keyFile, '--out', cpFile])
  })

  it('verifies: size and root match; key as text or as a file', async () => {
    const r = await baton(['verify', ledgerDir, '--checkpoint', cpFile, '--key', verifierKey])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Checkpoint: example\.com\/log, 25 receipts, root /)
    expect(r.stdout).toContain('Checkpoint: MATCHES')
    expect(r.stdout).toMatch(/Chain integrity: VERIFIED\n$/)
    const vkFile = join(dir, 'log.pub')
    await writeFile(vkFile, `# the log key\n${verifierKey}\n`)
    await appendReceipts(3, 25)
    const json = await baton([
      'verify',
      ledgerDir,
      '--checkpoint',
      cpFile,
      '--key',
      vkFile,
      '--json',
    ])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).checkpoint).toMatchObject({ status: 'matches', size: 25 })
  })

  it('exits 1 for a checkpoint signed by an unknown key or altered', async () => {
    const other = await baton(['keygen', '--name', 'example.com/log', '--json'])
    const r = await baton([
      'verify',
      ledgerDir,
      '--checkpoint',
      cpFile,
      '--key',
      JSON.parse(other.stdout).verifierKey,
    ])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Bad signatures: 1')
    expect(r.stdout).toContain('Checkpoint: NOT CHECKED')
    const text = await readFile(cpFile, 'utf8')
    await writeFile(cpFile, text.replace('\n25\n', '\n24\n'))
    const altered = await baton(['verify', ledgerDir, '--checkpoint', cpFile, '--key', verifierKey])
    expect(altered.code).toBe(1)
    expect(altered.stdout).toMatch(/bad-signature: the checkpoint does not verify/)
  })

  it('exits 1 for a ledger that is shorter than, or diverges from, the checkpoint', async () => {
    const seg = await segmentFile()
    const original = await readFile(seg, 'utf8')
    await writeFile(seg, original.replace('{"i":3}', '{"i":4}'))
    const forked = await baton(['verify', ledgerDir, '--checkpoint', cpFile, '--key', verifierKey])
    expect(forked.code).toBe(1)
    expect(forked.stdout).toContain('Forks: 1')
    expect(forked.stdout).toContain(
      'Checkpoint: FAILED: the ledger does not have the checkpoint root',
    )
    const lines = original.split('\n')
    await writeFile(seg, `${lines.slice(0, 20).join('\n')}\n`)
    const short = await baton(['verify', ledgerDir, '--checkpoint', cpFile, '--key', verifierKey])
    expect(short.code).toBe(1)
    expect(short.stdout).toContain('Truncations: 1')
  })

  it('exits 2 for bad key and checkpoint arguments, naming them', async () => {
    const cases: [string[], RegExp][] = [
      [['--checkpoint', cpFile], /--checkpoint needs at least one --key/],
      [['--key', verifierKey], /--key needs --checkpoint FILE/],
      [
        ['--checkpoint', join(dir, 'none.txt'), '--key', verifierKey],
        /--checkpoint .*none\.txt: cannot read it/,
      ],
      [
        ['--checkpoint', cpFile, '--key', 'not-a-key'],
        /--key not-a-key: not a verifier key .* and no such file/,
      ],
    ]
    const badFile = join(dir, 'bad.pub')
    await writeFile(badFile, 'x+00000000+AQ==\n')
    cases.push([
      ['--checkpoint', cpFile, '--key', badFile],
      /--key .*bad\.pub: key 1: verifier key: /,
    ])
    for (const [args, message] of cases) {
      const r = await baton(['verify', ledgerDir, ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
    }
  })
})

describe('baton verify-proof', () => {
  let cp25: string
  let cp10: string
  beforeEach(async () => {
    cp25 = join(dir, 'cp25.txt')
    cp10 = join(dir, 'cp10.txt')
    await baton(['checkpoint', ledgerDir, '--key', keyFile, '--out', cp25])
    // A checkpoint of the first 10 receipts, as a client may hold from earlier.
    const tenDir = join(dir, 'ten')
    await baton(['init', tenDir])
    const seg = await readFile(await segmentFile(), 'utf8')
    const ten = seg.split('\n').slice(0, 10)
    await writeFile(join(tenDir, 'segments', '00000000000000000000.jsonl'), `${ten.join('\n')}\n`)
    await baton(['checkpoint', tenDir, '--key', keyFile, '--out', cp10])
  })

  async function proofFile(args: string[]): Promise<string> {
    const r = await baton(['prove', ...args, '--json'])
    expect(r.code).toBe(0)
    const path = join(dir, `proof-${args.join('-').replaceAll('/', '_').slice(-30)}.json`)
    await writeFile(path, r.stdout)
    return path
  }

  it('verifies an inclusion proof against a checkpoint of its size (0), tampering fails (1)', async () => {
    const file = await proofFile(['inclusion', ledgerDir, '7'])
    const ok = await baton(['verify-proof', file, '--checkpoint', cp25, '--key', verifierKey])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toBe(
      'Inclusion of receipt 7 in example.com/log at 25 receipts\nProof: VERIFIED\n',
    )
    const at10 = await proofFile(['inclusion', ledgerDir, '7', '--size', '10'])
    const both = await baton([
      'verify-proof',
      at10,
      '--checkpoint',
      cp25,
      '--checkpoint',
      cp10,
      '--key',
      verifierKey,
      '--json',
    ])
    expect(JSON.parse(both.stdout)).toMatchObject({ status: 'VERIFIED', size: 10 })
    const p = JSON.parse(await readFile(file, 'utf8'))
    const flipped = Buffer.from(p.proof[0], 'base64')
    flipped[0]! ^= 1
    await writeFile(
      file,
      JSON.stringify({ ...p, proof: [flipped.toString('base64'), ...p.proof.slice(1)] }),
    )
    const bad = await baton(['verify-proof', file, '--checkpoint', cp25, '--key', verifierKey])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(
      /Reason: the proof leads to a root other than the checkpoint's\nProof: FAILED/,
    )
    await writeFile(file, JSON.stringify({ ...p, receipt: p.receipt.replace('"i":7', '"i":8') }))
    const receipt = await baton(['verify-proof', file, '--checkpoint', cp25, '--key', verifierKey])
    expect(receipt.code).toBe(1)
    expect(receipt.stdout).toContain('the receipt text does not have the leaf hash given')
  })

  it('verifies a consistency proof between two checkpoints', async () => {
    const file = await proofFile(['consistency', ledgerDir, '10', '25'])
    const args = ['--checkpoint', cp10, '--checkpoint', cp25, '--key', verifierKey]
    expect((await baton(['verify-proof', file, ...args])).code).toBe(0)
    const p = JSON.parse(await readFile(file, 'utf8'))
    await writeFile(file, JSON.stringify({ ...p, proof: [...p.proof].reverse() }))
    const bad = await baton(['verify-proof', file, ...args, '--json'])
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.stdout)).toMatchObject({ status: 'FAILED', type: 'consistency' })
  })

  it('exits 1 for a checkpoint that does not verify, 2 for unusable input', async () => {
    const file = await proofFile(['inclusion', ledgerDir, '3'])
    const other = JSON.parse(
      (await baton(['keygen', '--name', 'example.com/log', '--json'])).stdout,
    )
    const unknown = await baton([
      'verify-proof',
      file,
      '--checkpoint',
      cp25,
      '--key',
      other.verifierKey,
    ])
    expect(unknown.code).toBe(1)
    expect(unknown.stdout).toMatch(/checkpoint .* does not verify/)
    const wrongSize = await baton([
      'verify-proof',
      file,
      '--checkpoint',
      cp10,
      '--key',
      verifierKey,
    ])
    expect(wrongSize.code).toBe(2)
    expect(wrongSize.stderr).toMatch(/--checkpoint: none has size 25/)
    const junk = join(dir, 'junk.json')
    for (const [content, message] of [
      [
        '{"type":"inclusion","seq":-1,"size":2,"proof":[]}',
        /junk\.json: seq: must be a non-negative integer/,
      ],
      [
        '{"type":"inclusion","seq":1,"size":25,"proof":[],"leafHash":"00"}',
        /leafHash: must be 64 lowercase hex/,
      ],
      ['{"type":"inclusion","seq":1,"size":25,"proof":["xx"]}', /proof\[0\]: must be a 32-byte/],
      ['{"type":"nope"}', /type: must be "inclusion" or "consistency"/],
      ['[1]', /must be a JSON object/],
      ['{"type":', /invalid JSON/],
    ] as const) {
      await writeFile(junk, content)
      const r = await baton(['verify-proof', junk, '--checkpoint', cp25, '--key', verifierKey])
      expect(r.code, content).toBe(2)
      expect(r.stderr, content).toMatch(message)
    }
    expect((await baton(['verify-proof', file, '--key', verifierKey])).stderr).toMatch(
      /--checkpoint: at least one/,
    )
    expect((await baton(['verify-proof', file, '--checkpoint', cp25])).stderr).toMatch(
      /--key: at least one verifier key/,
    )
  })
})
