/**
 * Internal: database promotion in the simulated world — graceful
 * (switchover: stop writes, wait for lag 0) and ungraceful (failover).
 *
 * @module
 */
import { CoreError } from '../errors.js'
import type { CallContext, RegionId } from '../ports/context.js'
import type { Promotion } from '../ports/database.js'
import type { WorldCore } from './_world-core.js'
import { SimulatedFaultError } from './simulated-error.js'

/** Promotes the replica in `region` for `instance` (the body of `Database.promote`). */
export async function promote(
  core: WorldCore,
  instance: string,
  region: RegionId,
  graceful: boolean,
  ctx: CallContext,
): Promise<Promotion> {
  const call = 'database.promote'
  const { signal } = ctx
  const db = core.db
  await core.reach(instance, region, call, signal)
  core.sync()
  if (region === db.head) return { region, promotedAt: core.now() }
  const node = db.node(region)
  if (node.role !== 'replica') {
    throw new CoreError(
      'INVALID_STATE',
      `${call}: ${region} holds no replica of the current primary (it is a ${node.role} old primary): rebuild it first`,
    )
  }
  const from = db.head
  const old = db.nodes.get(from)!
  if (graceful) {
    await core.reach(instance, from, call, signal)
    // A fenced (read-only) primary is how a switchover stops writes first:
    // it still replicates what it committed, so the replica can catch up.
    if (old.role !== 'primary' && old.role !== 'fenced') {
      throw new CoreError('INVALID_STATE', `${call}: the primary in ${from} is ${old.role}`)
    }
    old.switching = true
    core.event('database.switchover', `switchover ${from} → ${region}: ${from} stops writes`, from)
  }
  try {
    if (graceful) await catchUp(core, region, from, signal)
    if (db.promoteMs > 0) await core.clock.sleep(db.promoteMs, signal)
    core.sync()
    if (db.head !== from) {
      throw new CoreError('INVALID_STATE', `${call}: the primary moved to ${db.head} meanwhile`)
    }
    const u = core.unreachable(instance, region)
    if (u !== undefined) throw new SimulatedFaultError(call, u.error, u.detail)
    if (node.role !== 'replica') {
      throw new CoreError('INVALID_STATE', `${call}: ${region} is no longer a replica`)
    }
    // The promotion commits now: a newer epoch seen meanwhile refuses it.
    core.checkEpoch({ resource: 'database' }, ctx.epoch, call)
    const record = db.promote(region, graceful, ctx.epoch, instance, core.now())
    core.event(
      'database.promoted',
      `${region} promoted (${graceful ? 'graceful' : 'ungraceful'}) by ${instance} (epoch ${ctx.epoch}); ${record.lostWrites} writes lost`,
      region,
    )
    return {
      region,
      promotedAt: record.at,
      lost: { transactions: record.lostWrites, ms: record.lostMs },
    }
  } catch (error) {
    if (graceful && old.switching) {
      old.switching = false
      core.event('database.switchover', `switchover ${from} → ${region} abandoned`, from)
    }
    throw error
  }
}

/** Waits until the replica in `region` has every write of the primary in `from` (lag 0). */
async function catchUp(
  core: WorldCore,
  region: RegionId,
  from: RegionId,
  signal: AbortSignal | undefined,
): Promise<void> {
  const call = 'database.promote'
  const db = core.db
  const node = db.node(region)
  const deadline = core.now() + db.switchoverTimeoutMs
  for (;;) {
    core.sync()
    const now = core.now()
    if (db.head !== from) {
      throw new CoreError('INVALID_STATE', `${call}: the primary moved to ${db.head} meanwhile`)
    }
    if (!core.timeline.up(from, now)) {
      throw new SimulatedFaultError(
        call,
        'UNAVAILABLE',
        `the primary in ${from} went down during the switchover`,
      )
    }
    const last = db.lastCommitAt()
    if (last === undefined || node.wm >= last) return
    if (now >= deadline) {
      throw new CoreError(
        'TIMEOUT',
        `${call}: ${region} still ${db.lag(node, now)} ms behind after ${db.switchoverTimeoutMs} ms`,
      )
    }
    let wait = 1_000
    if (core.timeline.up(region, now) && !core.timeline.stalled(region, now)) {
      const delay = core.timeline.replicationDelay(region, db.baseDelayMs, now)
      wait = Math.min(wait, Math.max(1, last + delay - now))
    }
    await core.clock.sleep(Math.min(wait, deadline - now), signal)
  }
}
