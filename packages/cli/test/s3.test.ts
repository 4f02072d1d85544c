/// <reference path="../../adapters-aws/test/support/s3rver.d.ts" />
/**
 * `baton` against a real S3-compatible server started here (s3rver behind
 * the conditional-write proxy of @baton/adapters-aws's tests): ledgers and
 * exports at s3:// URLs, through @baton/adapters-aws/cli.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@baton/ledger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LOCAL_CREDENTIALS,
  type LocalS3,
  startLocalS3,
} from '../../adapters-aws/test/support/local-s3.js'
import { baton, tempDir } from './support.js'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
let s3: LocalS3
let dir: string
let cleanup: () => Promise<void>
let keyFile: string
let verifierKey: string
let env: Record<string, string>

beforeAll(async () => {
  s3 = await startLocalS3()
  await s3.createBucket('ledgers')
  await s3.createBucket('exports')
  ;({ dir, cleanup } = await tempDir())
  const pair = generateKeyPair('baton.test/s3', { seed: new Uint8Array(32).fill(9) })
  verifierKey = pair.verifierKey
  keyFile = join(dir, 'signer.key')
  await writeFile(keyFile, `${pair.signerKey}\n`, { mode: 0o600 })
  env = {
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    BATON_ENDPOINT: s3.endpoint,
  }
})
afterAll(async () => {
  await s3?.close()
  await cleanup?.()
})

const lines = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ type: 'probe.sampled', data: { i, tag } }),
  ).join('\n')

/** Runs the built executable without blocking this process (the server runs here). */
function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, ...env, BATON_PROGRESS: '0' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

describe('baton with s3:// ledgers and export targets (local S3 server)', () => {
  it('appends to, verifies and exports an S3 ledger; verify-export reads the S3 export back', async () => {
    const url = 's3://ledgers/cli/orders'
    const appended = await baton(['append', url], { stdin: lines(12, 'a'), env })
    expect(appended).toMatchObject({ code: 0, stderr: '' })
    const verified = await baton(['verify', url, '--json'], { env })
    expect(verified.code).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ status: 'VERIFIED', checked: 12 })

    const exported = await baton(
      ['export', url, '--to', 's3://exports/cli/orders', '--key', keyFile],
      {
        env,
      },
    )
    expect(exported).toMatchObject({ code: 0, stderr: '' })
    const checked = await baton(
      ['verify-export', 's3://exports/cli/orders', '--key', verifierKey, '--json'],
      { env },
    )
    expect(checked.code).toBe(0)
    expect(JSON.parse(checked.stdout)).toMatchObject({ status: 'VERIFIED', size: 12 })
    // The objects really are in the bucket, under the prefix.
    expect(s3.requests.some((r) => r.startsWith('PUT /exports/cli/orders/'))).toBe(true)
    expect(s3.requests.some((r) => r.startsWith('PUT /ledgers/cli/orders/receipts/'))).toBe(true)
  })

  it('fails verification (exit 1) when a receipt object is rewritten behind the ledger', async () => {
    const url = 's3://ledgers/cli/tampered'
    expect((await baton(['append', url], { stdin: lines(5, 'b'), env })).code).toBe(0)
    // Overwrite receipt 2 directly on the server (no conditional write).
    const key = `cli/tampered/receipts/${'2'.padStart(20, '0')}.json`
    const original = (await baton(['inspect', url, '--from', '2', '--json'], { env })).stdout
    const forged = JSON.parse(original.split('\n')[0]!)
    forged.data.tag = 'forged'
    await s3.overwrite('ledgers', key, JSON.stringify(forged))
    const verified = await baton(['verify', url], { env })
    expect(verified.code).toBe(1)
    expect(verified.stdout).not.toContain('VERIFIED\n')
  })

  it('the built executable verifies an S3 ledger through the installed adapter package', async () => {
    expect(existsSync(bin), `${bin} is missing: run pnpm build first (pnpm test does)`).toBe(true)
    const url = 's3://ledgers/cli/bin'
    expect((await baton(['append', url], { stdin: lines(3, 'c'), env })).code).toBe(0)
    const r = await runBin(['verify', url, '--endpoint', s3.endpoint])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain('VERIFIED')
    const missing = await runBin(['verify', 's3://ledgers/cli/none', '--endpoint', s3.endpoint])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/s3:\/\/ledgers\/cli\/none/)
  })

  it('refuses a malformed s3:// URL with exit 2 naming it', async () => {
    const r = await baton(['verify', 's3://ledgers/x?versionId=1'], { env })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/<dir>.*takes no query/)
  })
})
