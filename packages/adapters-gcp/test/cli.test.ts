/**
 * The baton CLI (built, in a child process) on gs:// and firestore:// URLs,
 * against the emulators this test starts: the CLI loads this package's
 * `./cli` entry by URL scheme.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isBatonError } from '@baton/ledger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLedger, openTarget } from '../src/cli.js'
import {
  type FirestoreEmulator,
  freshPath,
  startFirestoreEmulator,
} from './support/firestore-emulator.js'
import { freshPrefix, type GcsEmulator, startGcsEmulator } from './support/gcs-emulator.js'

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url))

let firestore: FirestoreEmulator
let gcs: GcsEmulator
beforeAll(async () => {
  firestore = await startFirestoreEmulator()
  gcs = await startGcsEmulator()
})
afterAll(async () => {
  await firestore?.stop()
  await gcs?.stop()
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

function baton(args: string[], env: Record<string, string> = {}): Promise<Run> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`)
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, BATON_PROGRESS: '0', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

describe('baton CLI on Google Cloud URLs', () => {
  it('appends to, verifies and exports a firestore:// ledger into gs://, then verifies and restores the export', async () => {
    const ledger = `firestore://baton-test/${freshPath()}`
    const fsEnv = { BATON_ENDPOINT: firestore.host }
    for (let i = 0; i < 3; i++) {
      const r = await baton(
        ['append', ledger, '--type', 'cli.test', '--data', JSON.stringify({ i })],
        fsEnv,
      )
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
    }
    const verified = await baton(['verify', ledger, '--json'], fsEnv)
    expect(verified.code, verified.stderr).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ status: 'VERIFIED', checked: 3 })

    const keys = JSON.parse((await baton(['keygen', '--name', 'baton-test', '--json'])).stdout) as {
      signerKey: string
      verifierKey: string
    }
    const target = `gs://baton-exports/${freshPrefix()}`
    // Two services in one command: each finds its emulator in its own variable.
    const exported = await baton(['export', ledger, '--to', target, '--json'], {
      BATON_SIGNER_KEY: keys.signerKey,
      FIRESTORE_EMULATOR_HOST: firestore.host,
      STORAGE_EMULATOR_HOST: gcs.endpoint,
    })
    expect(exported.code, exported.stderr).toBe(0)
    const checked = await baton(['verify-export', target, '--key', keys.verifierKey, '--json'], {
      BATON_ENDPOINT: gcs.endpoint,
    })
    expect(checked.code, checked.stderr).toBe(0)
    expect(checked.stdout).toContain('VERIFIED')

    // Restore reads the gs:// export into a new local ledger.
    const dir = await mkdtemp(join(tmpdir(), 'baton-gcp-cli-'))
    try {
      const restored = join(dir, 'ledger')
      const r = await baton(['restore', target, '--into', restored, '--key', keys.verifierKey], {
        BATON_ENDPOINT: gcs.endpoint,
      })
      expect(r.code, r.stderr).toBe(0)
      const again = await baton(['verify', restored, '--json'])
      expect(again.code, again.stderr).toBe(0)
      // The three exported receipts, then the `ledger.restored` receipt every restore appends.
      expect(JSON.parse(again.stdout)).toMatchObject({ status: 'VERIFIED', checked: 4 })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('exports a gs:// ledger to another gs:// prefix', async () => {
    const ledger = `gs://baton-ledgers/${freshPrefix()}`
    const env = { BATON_ENDPOINT: gcs.endpoint }
    for (let i = 0; i < 2; i++) {
      expect(
        (await baton(['append', ledger, '--type', 'cli.test', '--data', `{"i":${i}}`], env)).code,
      ).toBe(0)
    }
    const keys = JSON.parse((await baton(['keygen', '--name', 'baton-test', '--json'])).stdout) as {
      signerKey: string
      verifierKey: string
    }
    const target = `gs://baton-exports/${freshPrefix()}`
    const exported = await baton(['export', ledger, '--to', target], {
      ...env,
      BATON_SIGNER_KEY: keys.signerKey,
    })
    expect(exported.code, exported.stderr).toBe(0)
    const again = await baton(['verify-export', target, '--key', keys.verifierKey, '--json'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('VERIFIED')
  })

  it('exits 1 on a tampered gs:// ledger', async () => {
    const ledger = `gs://baton-ledgers/${freshPrefix()}`
    const env = { BATON_ENDPOINT: gcs.endpoint }
    for (let i = 0; i < 3; i++) {
      expect(
        (await baton(['append', ledger, '--type', 'cli.test', '--data', `{"i":${i}}`], env)).code,
      ).toBe(0)
    }
    const store = await openLedger(new URL(ledger), {
      name: '<dir>',
      endpoint: gcs.endpoint,
      env: {},
    })
    const prefix = ledger.slice('gs://baton-ledgers/'.length)
    const file = (store as unknown as { client: import('@google-cloud/storage').Storage }).client
      .bucket('baton-ledgers')
      .file(`${prefix}/receipts/${'1'.padStart(20, '0')}.json`)
    const [bytes] = await file.download()
    await file.save(Buffer.from(bytes.toString().replace('"i":1', '"i":9')), { resumable: false })
    await store.close()
    const verified = await baton(['verify', ledger], env)
    expect(verified.code).toBe(1)
  })

  it('names the argument for URLs it cannot serve', async () => {
    const options = { name: '--to', env: {} }
    for (const call of [
      () => openTarget(new URL('firestore://p/a/b'), options),
      () => openLedger(new URL('firestore://p'), options),
      () => openLedger(new URL('gs:///x'), options),
    ]) {
      const error = await call().catch((e: unknown) => e)
      expect(isBatonError(error, 'INVALID_CONFIG'), String(error)).toBe(true)
      expect((error as { path: string }).path).toBe('--to')
    }
    const r = await baton(['verify', 'firestore://p'], { BATON_ENDPOINT: firestore.host })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('firestore://p')
  })
})
