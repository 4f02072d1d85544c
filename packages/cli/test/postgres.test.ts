import { rm } from 'node:fs/promises'
import {
  createClusterRoot,
  createLocalPrimary,
  type LocalCluster,
} from '@baton/adapters-postgres/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { baton } from './support.js'

let root: string
let server: LocalCluster

beforeAll(async () => {
  root = await createClusterRoot()
  server = await createLocalPrimary({ name: 'cli', root, fsync: false })
}, 60_000)
afterAll(async () => {
  await server?.stop('immediate').catch(() => undefined)
  await rm(root, { recursive: true, force: true })
})

describe('baton with postgres:// ledgers (a real local server)', () => {
  it('appends to, verifies and detects tampering in a ledger stored in PostgreSQL', async () => {
    const url = `${server.url()}?ledger=cli_orders`
    for (let i = 0; i < 3; i++) {
      const r = await baton(['append', url, '--type', 'test.cli', '--data', JSON.stringify({ i })])
      expect(r.code, r.stderr).toBe(0)
    }
    const ok = await baton(['verify', url])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/VERIFIED/)
    const rows = await server.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM baton_receipts WHERE ledger = 'cli_orders'",
    )
    expect(rows[0]!.n).toBe(3)
    await server.query(
      "UPDATE baton_receipts SET bytes = convert_to(replace(convert_from(bytes, 'UTF8'), '\"i\":1', '\"i\":9'), 'UTF8') WHERE ledger = 'cli_orders' AND seq = 1",
    )
    const bad = await baton(['verify', url])
    expect(bad.code).toBe(1)
    expect(bad.stdout).not.toMatch(/^VERIFIED/m)
  })

  it('does not create a ledger when only reading, and says it is missing (exit 2)', async () => {
    const r = await baton(['verify', `${server.url()}?ledger=never_created`])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/never_created/)
    const rows = await server.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM baton_receipts_ledgers WHERE name = 'never_created'",
    )
    expect(rows[0]!.n).toBe(0)
  })
})
