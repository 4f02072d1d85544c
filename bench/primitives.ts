/**
 * Hashing and canonicalization choices, measured side by side.
 */
import { createHash, hash } from 'node:crypto'
import { leafHash, canonicalize as ours } from '@baton/ledger'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import reference from 'canonicalize'
import { fmt, opsPerSecond, type Row } from './_harness.ts'

/** ~450 bytes of typical receipt data. */
export function sampleData(i: number): Record<string, unknown> {
  return {
    attempt: i % 7,
    detail: 'replica lag within RPO; promoting standby in eu-central-1 after 3 failed checks',
    latencyMs: 12.5 + (i % 100),
    ok: i % 13 !== 0,
    probe: { name: 'api-health', status: 200, url: 'https://api.eu.example.com/healthz' },
    region: 'eu-west-1',
    guards: { lease: { held: true, epoch: 42 }, cooldownMs: 900000, lagMs: 120 },
    tags: ['p1', 'automatic', 'db'],
  }
}

export function benchPrimitives(): Row[] {
  const rows: Row[] = []
  const line = Buffer.from(
    `{"data":${ours(sampleData(1))},"id":"019ab0c4-5e5f-7a3b-8c1d-123456789abc","prev":"${'a'.repeat(64)}","seq":123456,"ts":"2026-11-23T10:00:00.000Z","type":"probe.sampled","v":1}`,
  )
  const prefixed = Buffer.concat([Buffer.from([0]), line])
  const nodeHash = opsPerSecond(() => hash('sha256', prefixed, 'hex'))
  const nodeCreate = opsPerSecond(() => createHash('sha256').update(prefixed).digest('hex'))
  const noble = opsPerSecond(() => nobleSha256(prefixed))
  const leaf = opsPerSecond(() => leafHash(line))
  const n = `${line.length}-byte receipt`
  rows.push(
    { group: 'hashing', name: `crypto.hash (chosen), ${n}`, value: `${fmt(nodeHash)}/s` },
    {
      group: 'hashing',
      name: `leafHash() incl. 0x00 prefix copy`,
      value: `${fmt(leaf)}/s`,
      baseline: `${fmt(nodeHash)}/s`,
      ratio: (leaf / nodeHash).toFixed(2),
    },
    {
      group: 'hashing',
      name: 'crypto.createHash().update().digest()',
      value: `${fmt(nodeCreate)}/s`,
      baseline: `${fmt(nodeHash)}/s`,
      ratio: (nodeCreate / nodeHash).toFixed(2),
    },
    {
      group: 'hashing',
      name: '@noble/hashes sha256 (pure JS)',
      value: `${fmt(noble)}/s`,
      baseline: `${fmt(nodeHash)}/s`,
      ratio: (noble / nodeHash).toFixed(2),
    },
  )
  const data = sampleData(3)
  const size = ours(data).length
  const mine = opsPerSecond(() => ours(data))
  const ref = opsPerSecond(() => reference(data))
  const plain = opsPerSecond(() => JSON.stringify(data))
  rows.push(
    {
      group: 'canonicalization',
      name: `canonicalize() with validation (chosen), ${size} B`,
      value: `${fmt(mine)}/s`,
      baseline: `${fmt(ref)}/s (canonicalize pkg)`,
      ratio: (mine / ref).toFixed(2),
    },
    {
      group: 'canonicalization',
      name: 'JSON.stringify (not canonical, for scale)',
      value: `${fmt(plain)}/s`,
      baseline: `${fmt(mine)}/s (ours)`,
      ratio: (plain / mine).toFixed(2),
    },
  )
  return rows
}
