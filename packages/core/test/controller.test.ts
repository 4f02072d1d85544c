import {
  createAnchor,
  createLedger,
  createMemoryStore,
  type Ledger,
  leafHash,
  type Receipt,
  verify,
} from '@baton/ledger'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Controller,
  createController,
  createMemoryLease,
  createSimulatedWorld,
  createVirtualClock,
  type EngineEvent,
  type MemoryLease,
  replay,
  type SimulatedWorld,
  type VirtualClock,
} from '../src/index.js'

const A = 'us-east-1'
const B = 'us-west-2'
const MIN = 60_000

interface Rig {
  clock: VirtualClock
  world: SimulatedWorld
  lease: MemoryLease
  ledger: Ledger
  store: ReturnType<typeof createMemoryStore>
  controllers: Controller[]
  events: EngineEvent[]
}

let rigs: Rig[] = []
afterEach(async () => {
  for (const r of rigs) for (const c of r.controllers) await c.stop()
  rigs = []
})

interface RigOptions {
  instances?: number
  regions?: { id: string; jurisdiction: string; pinned?: boolean }[]
  failback?: {
    automatic?: boolean
    stages?: number[]
    gate?: { windowMs?: number; intervalMs?: number }
  }
  workload?: boolean
}

function rig(instancesOrOptions: number | RigOptions = 1): Rig {
  const o: RigOptions =
    typeof instancesOrOptions === 'number' ? { instances: instancesOrOptions } : instancesOrOptions
  const instances = o.instances ?? 1
  const regions = o.regions ?? [
    { id: A, jurisdiction: 'US' },
    { id: B, jurisdiction: 'US' },
  ]
  const clock = createVirtualClock(Date.UTC(2026, 10, 23, 3, 0))
  const world = createSimulatedWorld({
    clock,
    seed: 7,
    home: A,
    regions: regions.map((r) => ({ id: r.id, jurisdiction: r.jurisdiction, latencyMs: 0 })),
    ...(o.workload === true ? {} : { workload: false as const }),
  })
  const lease = createMemoryLease({ clock })
  const store = createMemoryStore()
  const ledger = createLedger({ store, clock })
  const events: EngineEvent[] = []
  const controllers = Array.from({ length: instances }, (_, i) => {
    const id = `i${i + 1}`
    const ports = world.connect(id)
    const c = createController({
      instance: id,
      topology: { home: A, regions, databasePrimary: A },
      ports: {
        probes: regions.map((r) => ports.probe(r.id)),
        globalProbe: ports.endpointProbe(),
        router: ports.router,
        database: ports.database,
        scaler: ports.scaler,
        notifier: ports.notifier,
        lease: lease.view(id),
      },
      ledger,
      clock,
      ...(o.failback === undefined ? {} : { failback: o.failback }),
    })
    c.onAny((e) => events.push(e))
    return c
  })
  const r = { clock, world, lease, ledger, store, controllers, events }
  rigs.push(r)
  return r
}

async function receipts(ledger: Ledger): Promise<Receipt[]> {
  const out: Receipt[] = []
  for await (const r of ledger.read()) out.push(r)
  return out
}

describe('controller: an unplanned region outage', () => {
  it('detects it, decides, fails over, and records a ledger that verifies and replays', async () => {
    const { clock, world, ledger, store, controllers, events } = rig()
    const [c] = controllers
    await c!.start()
    await clock.advance(2 * MIN)
    expect(c!.lease?.holder).toBe('i1')
    expect(c!.state.name).toBe('active')

    world.faults.outage(A)
    await clock.advance(20 * MIN)
    await c!.idle()
    expect(c!.state).toMatchObject({ name: 'failed-over', serving: B })
    expect(world.truth.primary()).toBe(B)

    const types = (await receipts(ledger)).map((r) => r.type)
    expect(types).toContain('failover.decided')
    expect(types).toContain('step.succeeded')
    expect(types).toContain('failover.completed')
    const completed = (await receipts(ledger)).find((r) => r.type === 'failover.completed')!
    const data = completed.data as {
      rto: { measuredMs: number; met: boolean }
      rpo: { measuredMs: number | null }
    }
    expect(data.rto.measuredMs).toBeGreaterThan(0)
    expect(events.some((e) => e.type === 'failover.completed')).toBe(true)

    expect((await verify(store)).status).toBe('VERIFIED')
    const replayed = await replay(ledger.read())
    expect(replayed.problems).toEqual([])
    expect(replayed.final).toMatchObject({ name: 'failed-over', serving: B })
  })
})

async function settledFailover(r: Rig): Promise<void> {
  const [c] = r.controllers
  await c!.start()
  await r.clock.advance(2 * MIN)
  r.world.faults.outage(A)
  await r.clock.advance(20 * MIN)
  await c!.idle()
  expect(c!.state.name).toBe('failed-over')
}

describe('controller: manual switchover', () => {
  it('waits for approval, then switches over gracefully with no data loss', async () => {
    const r = rig()
    const [c] = r.controllers
    await c!.start()
    await r.clock.advance(2 * MIN)
    const request = await c!.requestFailover({
      kind: 'planned-maintenance',
      target: B,
      requestedBy: 'alice',
    })
    expect(request.status).toBe('awaiting-approval')
    expect(request.decision).toMatchObject({
      mode: 'manual',
      graceful: true,
      zeroDataLoss: true,
      to: B,
    })
    expect(c!.state.name).toBe('active')
    const approved = c!.approve(request.id, 'bob')
    await r.clock.advance(10 * MIN)
    expect((await approved).status).toBe('decided')
    await c!.idle()
    expect(c!.state).toMatchObject({ name: 'failed-over', serving: B })
    expect(r.world.truth.dataLoss().lost).toBe(0)
    const all = await receipts(r.ledger)
    expect(all.map((x) => x.type)).toEqual(
      expect.arrayContaining([
        'failover.blocked',
        'approval.granted',
        'failover.decided',
        'failover.completed',
      ]),
    )
    const done = all.find((x) => x.type === 'failover.completed')!.data as {
      rpo: { measuredMs: number; met: boolean }
    }
    expect(done.rpo).toMatchObject({ measuredMs: 0, met: true })
    expect((await replay(r.ledger.read())).problems).toEqual([])
  })

  it('records a denial and does nothing', async () => {
    const r = rig()
    const [c] = r.controllers
    await c!.start()
    await r.clock.advance(2 * MIN)
    const request = await c!.requestFailover({ kind: 'cost', target: B, requestedBy: 'alice' })
    await c!.deny(request.id, 'bob', 'not tonight')
    await expect(c!.approve(request.id, 'bob')).rejects.toThrow(/no request/)
    expect(c!.state.name).toBe('active')
    expect((await receipts(r.ledger)).map((x) => x.type)).toContain('approval.denied')
  })
})

describe('controller: guards that say no', () => {
  it('never fails pinned EU users over to a non-EU region; the refusal is recorded with its values', async () => {
    const r = rig({
      regions: [
        { id: A, jurisdiction: 'EU', pinned: true },
        { id: B, jurisdiction: 'US' },
      ],
    })
    const [c] = r.controllers
    await c!.start()
    await r.clock.advance(2 * MIN)
    r.world.faults.outage(A)
    await r.clock.advance(10 * MIN)
    await c!.idle()
    expect(c!.state.name).toBe('suspect')
    expect(r.world.truth.weights().effective[A]).toBeGreaterThan(0)
    const blocked = (await receipts(r.ledger)).filter((x) => x.type === 'failover.blocked')
    expect(blocked.length).toBeGreaterThan(0)
    const data = blocked[0]!.data as {
      decision: { action: string; fallback?: string }
      guards: { name: string; ok: boolean }[]
    }
    expect(data.decision.action).toBe('fallback')
    expect(data.guards.find((g) => g.name === 'residency')).toMatchObject({ ok: false })
    expect(r.events.some((e) => e.type === 'failover.blocked')).toBe(true)
  })
})

describe('controller: failback', () => {
  it('restores home gradually through gated stages once asked', async () => {
    const r = rig({
      failback: { stages: [10, 50, 100], gate: { windowMs: 2 * MIN, intervalMs: 20_000 } },
    })
    await settledFailover(r)
    const [c] = r.controllers
    r.world.faults.recover(A)
    r.world.rebuild(A)
    await r.clock.advance(5 * MIN)
    await c!.requestFailback('alice')
    await r.clock.advance(30 * MIN)
    await c!.idle()
    expect(c!.state).toMatchObject({ name: 'active', serving: A })
    expect(r.world.truth.weights().effective[A]).toBe(100)
    const done = (await receipts(r.ledger)).find((x) => x.type === 'failback.completed')!
    expect((done.data as { stages: { percent: number }[] }).stages.map((x) => x.percent)).toEqual([
      10, 50, 100,
    ])
    expect((await replay(r.ledger.read())).problems).toEqual([])
  })

  it('shifts traffic back when a stage gate fails, and says why', async () => {
    const r = rig({
      failback: { stages: [10, 50, 100], gate: { windowMs: 2 * MIN, intervalMs: 20_000 } },
    })
    await settledFailover(r)
    const [c] = r.controllers
    r.world.faults.recover(A)
    r.world.rebuild(A)
    await r.clock.advance(5 * MIN)
    await c!.requestFailback('alice')
    await r.clock.advance(30_000) // preflight done, the 10 % stage is being watched
    r.world.faults.degrade(A, { errorRate: 0.5 })
    await r.clock.advance(30 * MIN)
    await c!.idle()
    expect(c!.state).toMatchObject({ name: 'failed-over', serving: B })
    expect(r.world.truth.weights().effective[B]).toBe(100)
    const failed = (await receipts(r.ledger)).find((x) => x.type === 'step.failed')!
    expect((failed.data as { error: string }).error).toMatch(/error rate|gate/i)
    expect((await replay(r.ledger.read())).problems).toEqual([])
  })
})

describe('controller: several instances', () => {
  it('only the lease holder acts; a standby takes over a lost lease and continues the same run', async () => {
    const r = rig(2)
    const [c1, c2] = r.controllers
    await c1!.start()
    await r.clock.advance(MIN)
    await c2!.start()
    await r.clock.advance(MIN)
    expect(c1!.lease?.holder).toBe('i1')
    expect(c2!.lease).toBeUndefined()
    // i1 is cut off from the lease store: it expires, i2 takes over.
    r.lease.partition('i1', { mode: 'fail' })
    await r.clock.advance(2 * MIN)
    expect(c2!.lease?.holder).toBe('i2')
    expect(c2!.lease!.epoch).toBeGreaterThan(1)
    expect(c1!.state.name).toBe('halted')
    r.world.faults.outage(A)
    await r.clock.advance(20 * MIN)
    await c2!.idle()
    expect(c2!.state).toMatchObject({ name: 'failed-over', serving: B })
    const all = await receipts(r.ledger)
    const writers = new Set(
      all.filter((x) => x.type === 'state.changed').map((x) => (x.data as { epoch: number }).epoch),
    )
    expect([...writers]).toEqual([c2!.lease!.epoch])
    const report = await replay(r.ledger.read())
    expect(report.problems).toEqual([])
    expect(r.world.truth.violations()).toEqual([])
  })
})

describe('controller: a ledger whose run does not replay', () => {
  it('restored at an anchor in the middle of a failover: halts, says why, resumes where traffic really is', async () => {
    const r = rig()
    await settledFailover(r)
    await r.controllers[0]!.stop()
    // The ledger restored after retention starts inside the failover: the
    // receipts that said where the run was are retired.
    const all = await receipts(r.ledger)
    const into = all.find(
      (x) => x.type === 'state.changed' && (x.data as { to: string }).to === 'failing-over',
    )!.seq
    const anchor = await createAnchor(r.store, into + 1)
    const restored = createMemoryStore({ anchor })
    for await (const line of r.store.read(into + 1)) {
      await restored.append([{ ...line, hash: leafHash(line.bytes) }])
    }
    expect((await replay(createLedger({ store: restored }).read(), { home: A })).status).toBe(
      'FAILED',
    )

    const ledger = createLedger({ store: restored, clock: r.clock })
    const ports = r.world.connect('i9')
    const c = createController({
      instance: 'i9',
      topology: {
        home: A,
        regions: [
          { id: A, jurisdiction: 'US' },
          { id: B, jurisdiction: 'US' },
        ],
        databasePrimary: A,
      },
      ports: {
        probes: [ports.probe(A), ports.probe(B)],
        globalProbe: ports.endpointProbe(),
        router: ports.router,
        database: ports.database,
        scaler: ports.scaler,
        notifier: ports.notifier,
        lease: r.lease.view('i9'),
      },
      ledger,
      clock: r.clock,
    })
    r.controllers.push(c)
    await c.start()
    await r.clock.advance(MIN)
    await c.idle()
    // Not "active at home" (the replay's guess): traffic is in B.
    expect(c.state).toMatchObject({ name: 'failed-over', serving: B })
    const fresh = (await receipts(ledger)).filter((x) => x.seq > all.at(-1)!.seq)
    const started = fresh.find((x) => x.type === 'controller.started')!
    expect(started.data).toMatchObject({ resumedFrom: 'active', replay: { status: 'FAILED' } })
    const changes = fresh
      .filter((x) => x.type === 'state.changed')
      .map((x) => x.data as { from: string; to: string; event: { reason?: string } })
    expect(changes.map((x) => [x.from, x.to])).toEqual([
      ['active', 'halted'],
      ['halted', 'failed-over'],
    ])
    expect(changes[0]!.event.reason).toMatch(/does not replay .*first at seq \d+/)
    expect((await verify(restored)).status).toBe('VERIFIED')
  })

  it('a ledger that replays is trusted: a takeover after a failover adds no halt', async () => {
    const r = rig(2)
    const [c1, c2] = r.controllers
    await settledFailover(r)
    await c2!.start()
    const before = (await receipts(r.ledger)).length
    await c1!.stop()
    await r.clock.advance(3 * MIN)
    await c2!.idle()
    expect(c2!.lease?.holder).toBe('i2')
    const fresh = (await receipts(r.ledger)).slice(before)
    const started = fresh.find(
      (x) => x.type === 'controller.started' && (x.data as { instance: string }).instance === 'i2',
    )!
    expect(started.data).toMatchObject({ resumedFrom: 'failed-over' })
    expect(started.data).not.toHaveProperty('replay')
    expect(fresh.some((x) => x.type === 'state.changed')).toBe(false)
    expect(c2!.state).toMatchObject({ name: 'failed-over', serving: B })
  })
})

describe('controller: operator control', () => {
  it('halts (cancelling nothing when idle) and resumes where traffic really is', async () => {
    const r = rig()
    await settledFailover(r)
    const [c] = r.controllers
    await c!.halt('incident commander says stop')
    expect(c!.state.name).toBe('halted')
    await c!.resume()
    expect(c!.state).toMatchObject({ name: 'failed-over', serving: B })
    expect((await replay(r.ledger.read())).problems).toEqual([])
  })

  it('describes a failover without doing it', async () => {
    const r = rig()
    const [c] = r.controllers
    await c!.start()
    await r.clock.advance(MIN)
    const changesBefore = r.world.truth.routingChanges().length
    const report = await c!.dryRun(B)
    expect(report.steps.map((x) => x.id)).toEqual(
      expect.arrayContaining(['preflight', 'promote', 'shift-traffic']),
    )
    expect(r.world.truth.routingChanges()).toHaveLength(changesBefore)
    expect(r.world.truth.primary()).toBe(A)
  })

  it('refuses bad options naming them', () => {
    const world = createSimulatedWorld({
      clock: createVirtualClock(0),
      home: A,
      regions: [{ id: A }, { id: B }],
      workload: false,
    })
    const ports = world.connect('x')
    const base = {
      instance: 'x',
      topology: { home: A, regions: [{ id: A }, { id: B }] },
      ports: {
        probes: [ports.probe(A), ports.probe(B)],
        router: ports.router,
        lease: createMemoryLease({ clock: createVirtualClock(0) }),
      },
      ledger: createLedger({ store: createMemoryStore() }),
    }
    expect(() => createController({ ...base, probeIntervalMs: 0 })).toThrow(/probeIntervalMs/)
    expect(() =>
      createController({ ...base, lease: { ttlMs: 10_000, renewEveryMs: 20_000 } }),
    ).toThrow(/renewEveryMs/)
    expect(() =>
      createController({ ...base, ports: { ...base.ports, probes: [ports.probe(A)] } }),
    ).toThrow(/no probe for region us-west-2/)
    expect(() => createController({ ...base, instance: '' })).toThrow(/instance/)
  })
})
