import { createLedger, createMemoryStore, type Receipt } from '@baton/ledger'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type EngineReceiptInput,
  initialState,
  type MachineEvent,
  replay,
  transition,
} from '../src/index.js'

const A = 'us-east-1'
const B = 'us-west-2'

/** Runs events through the machine and records what a controller would. */
function record(events: readonly MachineEvent[], epoch = 1): EngineReceiptInput[] {
  const out: EngineReceiptInput[] = [
    {
      type: 'controller.started',
      data: { instance: 'i1', home: A, regions: [A, B], resumedFrom: 'active', epoch },
    },
  ]
  let s = initialState(A)
  for (const event of events) {
    const [next] = transition(s, event)
    if (next.name !== s.name) {
      out.push({ type: 'state.changed', data: { from: s.name, to: next.name, event, epoch } })
    }
    s = next
  }
  return out
}

async function stored(inputs: readonly EngineReceiptInput[]): Promise<Receipt[]> {
  const ledger = createLedger({ store: createMemoryStore() })
  return ledger.appendBatch(inputs as never)
}

const failoverRun: MachineEvent[] = [
  { type: 'health.degraded', at: 1, region: A, status: 'down' },
  {
    type: 'failover.decided',
    at: 2,
    operation: 'f1',
    from: A,
    to: B,
    severity: 'P1',
    mode: 'automatic',
  },
  { type: 'plan.succeeded', at: 3, operation: 'f1' },
  { type: 'failback.decided', at: 4, operation: 'b1' },
  { type: 'plan.failed', at: 5, operation: 'b1', error: 'gate failed' },
  { type: 'plan.succeeded', at: 6, operation: 'b1:rollback' },
]

describe('replay', () => {
  it('replays a recorded run and ends where the machine does', async () => {
    const report = await replay(await stored(record(failoverRun)))
    expect(report).toMatchObject({ status: 'REPLAYED', transitions: 6, problems: [] })
    expect(report.final).toMatchObject({ name: 'failed-over', serving: B })
  })

  it('replays through a ledger read stream', async () => {
    const ledger = createLedger({ store: createMemoryStore() })
    await ledger.appendBatch(record(failoverRun) as never)
    expect((await replay(ledger.read())).status).toBe('REPLAYED')
  })

  it('finds a transition the machine does not allow', async () => {
    const inputs = record(failoverRun)
    const bad = inputs[3] as { type: 'state.changed'; data: { to: string } }
    ;(bad.data as { to: string }).to = 'active'
    const report = await replay(await stored(inputs))
    expect(report.status).toBe('FAILED')
    expect(report.problems[0]).toMatchObject({ kind: 'illegal-transition', seq: 3 })
  })

  it('finds receipts out of order and a stale epoch', async () => {
    const inputs = record(failoverRun)
    ;[inputs[2], inputs[3]] = [inputs[3]!, inputs[2]!]
    const swapped = await replay(await stored(inputs))
    expect(swapped.problems.map((p) => p.kind)).toContain('state-mismatch')

    const epochs = record(failoverRun, 5)
    ;(epochs[4]!.data as { epoch: number }).epoch = 4
    const stale = await replay(await stored(epochs))
    expect(stale.problems).toEqual([expect.objectContaining({ kind: 'stale-epoch', seq: 4 })])
  })

  it('refuses unreadable state changes and a run with no start', async () => {
    const report = await replay(
      await stored([
        {
          type: 'state.changed',
          data: { from: 'active', to: 'suspect', event: failoverRun[0]!, epoch: 1 },
        },
      ]),
    )
    expect(report.problems[0]!.kind).toBe('no-start')
    const bad = record(failoverRun)
    ;(bad[1]!.data as { event: unknown }).event = { type: 'nonsense', at: 1 }
    expect((await replay(await stored(bad))).problems[0]!.kind).toBe('bad-receipt')
  })

  it('replays every run the machine produces from random events', async () => {
    const region = fc.constantFrom(A, B)
    const op = fc.constantFrom('o1', 'o2', 'o1:rollback')
    const event: fc.Arbitrary<MachineEvent> = fc.oneof(
      fc.record({
        type: fc.constant('health.degraded' as const),
        at: fc.nat(),
        region,
        status: fc.constant('down' as const),
      }),
      fc.record({ type: fc.constant('health.recovered' as const), at: fc.nat(), region }),
      fc.record({
        type: fc.constant('failover.decided' as const),
        at: fc.nat(),
        operation: op,
        from: region,
        to: region,
        severity: fc.constant('P1' as const),
        mode: fc.constantFrom('automatic' as const, 'manual' as const),
      }),
      fc.record({ type: fc.constant('failback.decided' as const), at: fc.nat(), operation: op }),
      fc.record({ type: fc.constant('plan.succeeded' as const), at: fc.nat(), operation: op }),
      fc.record({
        type: fc.constant('plan.failed' as const),
        at: fc.nat(),
        operation: op,
        error: fc.constant('x'),
      }),
      fc.record({ type: fc.constant('lease.lost' as const), at: fc.nat() }),
      fc.record({ type: fc.constant('resume' as const), at: fc.nat(), serving: region }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 40 }), async (events) => {
        const report = await replay(
          record(events).map((r, seq) => ({ ...r, seq }) as unknown as Receipt),
        )
        expect(report.problems).toEqual([])
      }),
      { numRuns: 500 },
    )
  })
})
