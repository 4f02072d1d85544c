import { describe, expect, it } from 'vitest'
import { CONTRACT_FIELDS, checkContract } from '../src/contracts.ts'

const firestore = {
  operation: 'firestore_failover_executed',
  primary_region: 'us-central1',
  secondary_region: 'europe-west1',
  reason: 'primary_deadline_exceeded',
  failure_count: 3,
  failover_latency_ms: 85,
  status: 'failed_over',
}

describe('checkContract', () => {
  it('accepts the runbook’s own example', () => {
    expect(checkContract(firestore)).toEqual([])
  })

  it('names every bad field: missing, extra, wrong type, wrong constant, negative', () => {
    const { failure_count: _, ...missing } = firestore
    expect(checkContract(missing)).toEqual(['failure_count: missing'])
    expect(checkContract({ ...firestore, extra: 1 })).toEqual(['extra: not in the contract'])
    expect(checkContract({ ...firestore, failure_count: '3' })).toEqual([
      'failure_count: must be a number',
    ])
    expect(checkContract({ ...firestore, status: 'ok' })).toEqual(['status: must be "failed_over"'])
    expect(checkContract({ ...firestore, failover_latency_ms: -1 })).toEqual([
      'failover_latency_ms: must not be negative',
    ])
    expect(checkContract({ ...firestore, failure_count: Number.NaN })).toEqual([
      'failure_count: must be a number',
    ])
    expect(checkContract({ operation: 'nope' })).toEqual(['operation: unknown contract "nope"'])
    expect(checkContract(null)).toEqual(['(data): must be an object'])
  })

  it('knows the four contracts of runbook 004', () => {
    expect(Object.keys(CONTRACT_FIELDS).sort()).toEqual([
      'firestore_failover_executed',
      'image_rebuild_executed',
      'receipt_corruption_detected',
      'regional_failover_completed',
    ])
  })
})
