/**
 * Internal: the simulated replicated database — nodes per region,
 * replication by watermark, the writes each node accepted, promotions,
 * fencing. Pure state; the world drives time and I/O around it.
 *
 * @module
 */
import { ConfigError, CoreError } from '../errors.js'
import type { RegionId } from '../ports/context.js'
import type { Timeline } from './_world-timeline.js'
import type {
  DatabaseNodeTruth,
  PromotionRecord,
  SimulatedDatabaseOptions,
  WriteRecord,
} from './world-types.js'

/** One region's database node. */
export interface DbNode {
  readonly region: RegionId
  role: 'primary' | 'replica' | 'fenced'
  /** Epoch of its last promotion. */
  epoch: number
  /** Replica watermark: every lineage write with `at <= wm` is applied. */
  wm: number
  /** Refusing writes during a graceful switchover. */
  switching: boolean
  /** When it was fenced, for auto-rebuild. */
  fencedAt?: number
}

/** A write, with a mutable status. */
export type WriteRec = { -readonly [K in keyof WriteRecord]: WriteRecord[K] }

/** The outcome of offering a write to the database. */
export type WriteOutcome =
  | { readonly ok: true; readonly write: WriteRec }
  | { readonly ok: false; readonly error: string }

/** The database's state. */
export class DbState {
  head: RegionId
  readonly nodes = new Map<RegionId, DbNode>()
  /** Writes in the current primary's history, in time order. */
  lineage: WriteRec[] = []
  readonly writes: WriteRec[] = []
  readonly promotions: PromotionRecord[] = []
  readonly snapshots: { id: string; region: RegionId; at: number }[] = []
  rpoMs = 0
  readonly baseDelayMs: number
  readonly promoteMs: number
  readonly switchoverTimeoutMs: number
  readonly autoRebuildMs: number | undefined

  constructor(
    options: SimulatedDatabaseOptions,
    known: ReadonlySet<RegionId>,
    start: number,
    path: string,
  ) {
    const nonNegative = (value: number | undefined, field: string, fallback: number): number => {
      const v = value ?? fallback
      if (!Number.isFinite(v) || v < 0) {
        throw new ConfigError(`${path}.${field}`, `must be a non-negative number, got ${v}`)
      }
      return v
    }
    if (!known.has(options.primary)) {
      throw new ConfigError(`${path}.primary`, `unknown region ${JSON.stringify(options.primary)}`)
    }
    if (!Array.isArray(options.replicas)) {
      throw new ConfigError(`${path}.replicas`, 'must be an array of region ids')
    }
    this.baseDelayMs = nonNegative(options.initialLagMs, 'initialLagMs', 0)
    this.promoteMs = nonNegative(options.promoteMs, 'promoteMs', 0)
    this.switchoverTimeoutMs = nonNegative(
      options.switchoverTimeoutMs,
      'switchoverTimeoutMs',
      300_000,
    )
    this.autoRebuildMs =
      options.autoRebuildMs === undefined
        ? undefined
        : nonNegative(options.autoRebuildMs, 'autoRebuildMs', 0)
    this.head = options.primary
    this.nodes.set(options.primary, {
      region: options.primary,
      role: 'primary',
      epoch: 0,
      wm: start,
      switching: false,
    })
    options.replicas.forEach((region, i) => {
      if (!known.has(region)) {
        throw new ConfigError(`${path}.replicas[${i}]`, `unknown region ${JSON.stringify(region)}`)
      }
      if (this.nodes.has(region)) {
        throw new ConfigError(`${path}.replicas[${i}]`, `region ${region} already has a node`)
      }
      this.nodes.set(region, { region, role: 'replica', epoch: 0, wm: start, switching: false })
    })
  }

  /** The node of `region`, or an `INVALID_CONFIG` error naming `path`. */
  node(region: RegionId, path = 'region'): DbNode {
    const node = this.nodes.get(region)
    if (node === undefined) {
      throw new ConfigError(path, `no database node in region ${JSON.stringify(region)}`)
    }
    return node
  }

  /**
   * Applies replication over `[prev, t]`: with the state (health, delays)
   * of `prev` over the span, then with the state of `t` at `t` itself (so a
   * replica catches up the moment a lag spike ends).
   */
  replicate(timeline: Timeline, prev: number, t: number): void {
    for (const at of [prev, t]) {
      if (!timeline.up(this.head, at)) continue
      for (const node of this.nodes.values()) {
        if (node.role !== 'replica') continue
        if (!timeline.up(node.region, at) || timeline.stalled(node.region, at)) continue
        const delay = timeline.replicationDelay(node.region, this.baseDelayMs, at)
        node.wm = Math.max(node.wm, t - delay)
      }
    }
  }

  /** Index of the first lineage write not applied at watermark `wm`. */
  private firstPending(wm: number): number {
    let lo = 0
    let hi = this.lineage.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.lineage[mid]!.at <= wm) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Replication lag of `node` at `now`: age of its oldest unapplied write, 0 when caught up. */
  lag(node: DbNode, now: number): number {
    if (node.region === this.head) return 0
    const i = this.firstPending(node.wm)
    const w = this.lineage[i]
    return w === undefined ? 0 : Math.max(0, now - w.at)
  }

  /** The time of the last write in the current history, if any. */
  lastCommitAt(): number | undefined {
    return this.lineage.at(-1)?.at
  }

  /** Offers a write that entered through `routedTo` at `t` (whose region is up). */
  accept(
    timeline: Timeline,
    routedTo: RegionId,
    t: number,
    jurisdiction: string | undefined,
  ): WriteOutcome {
    const local = this.nodes.get(routedTo)
    let target: DbNode
    if (local !== undefined && local.role === 'primary' && !local.switching) {
      target = local
    } else {
      const head = this.nodes.get(this.head)!
      if (head.role !== 'primary' || head.switching) return { ok: false, error: 'READ_ONLY' }
      if (!timeline.up(head.region, t)) return { ok: false, error: 'DB_UNAVAILABLE' }
      target = head
    }
    const write: WriteRec = {
      seq: this.writes.length,
      at: t,
      region: target.region,
      routedTo,
      epoch: target.epoch,
      status: target.region === this.head ? 'committed' : 'diverged',
    }
    if (jurisdiction !== undefined) write.jurisdiction = jurisdiction
    this.writes.push(write)
    if (write.status === 'committed') this.lineage.push(write)
    return { ok: true, write }
  }

  /** Makes `region` the primary now; returns the writes lost. */
  promote(
    region: RegionId,
    graceful: boolean,
    epoch: number,
    instance: string,
    now: number,
  ): PromotionRecord {
    const target = this.node(region)
    const from = this.head
    const old = this.nodes.get(from)!
    let lost: WriteRec[] = []
    let lostMs = 0
    if (graceful) {
      old.role = 'replica'
      old.wm = now
      old.switching = false
    } else {
      const i = this.firstPending(target.wm)
      lost = this.lineage.slice(i)
      this.lineage = this.lineage.slice(0, i)
      for (const w of lost) w.status = 'lost'
      if (lost.length > 0) lostMs = Math.max(0, lost.at(-1)!.at - target.wm)
      this.rpoMs = Math.max(this.rpoMs, lostMs)
      for (const node of this.nodes.values()) {
        if (node.role === 'replica' && node !== target) node.wm = Math.min(node.wm, target.wm)
      }
      // The old primary is not told: it stays a primary (and takes writes
      // routed to it) until it is fenced.
    }
    target.role = 'primary'
    target.epoch = epoch
    target.switching = false
    this.head = region
    const record: PromotionRecord = {
      at: now,
      region,
      from,
      graceful,
      epoch,
      instance,
      lostWrites: lost.length,
      lostMs,
    }
    this.promotions.push(record)
    return record
  }

  /** Fences `region`'s node (reachable): a primary becomes read-only. */
  fence(region: RegionId, now: number): void {
    const node = this.node(region)
    if (node.role === 'primary') {
      node.role = 'fenced'
      node.switching = false
      node.fencedAt = now
    }
  }

  /** Re-seeds `region`'s node as an up-to-date replica of the current primary. */
  rebuild(region: RegionId, now: number): void {
    if (region === this.head) {
      throw new CoreError('INVALID_STATE', `rebuild: ${region} holds the current primary`)
    }
    const node = this.nodes.get(region)
    if (node === undefined) {
      this.nodes.set(region, { region, role: 'replica', epoch: 0, wm: now, switching: false })
      return
    }
    node.role = 'replica'
    node.wm = now
    node.switching = false
    delete node.fencedAt
  }

  /** Fenced nodes due for an automatic rebuild at `t`. */
  dueRebuilds(timeline: Timeline, t: number): DbNode[] {
    if (this.autoRebuildMs === undefined) return []
    const due: DbNode[] = []
    for (const node of this.nodes.values()) {
      if (node.role !== 'fenced' || node.region === this.head || node.fencedAt === undefined)
        continue
      if (node.fencedAt + this.autoRebuildMs <= t && timeline.up(node.region, t)) due.push(node)
    }
    return due
  }

  /** Pending auto-rebuild times in `(after, until]`. */
  rebuildTimes(after: number, until: number, out: number[]): void {
    if (this.autoRebuildMs === undefined) return
    for (const node of this.nodes.values()) {
      if (node.role !== 'fenced' || node.fencedAt === undefined) continue
      const t = node.fencedAt + this.autoRebuildMs
      if (t > after && t <= until) out.push(t)
    }
  }

  /** Truth about every node at `now`. */
  truth(now: number): DatabaseNodeTruth[] {
    return [...this.nodes.values()].map((n) => ({
      region: n.region,
      role: n.role,
      current: n.region === this.head,
      epoch: n.epoch,
      appliedThrough: n.region === this.head ? now : n.wm,
      lagMs: n.role === 'replica' ? this.lag(n, now) : 0,
      switching: n.switching,
    }))
  }
}
