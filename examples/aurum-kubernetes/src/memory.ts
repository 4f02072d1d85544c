/**
 * In-memory Kafka, backup buckets and row counts on the drill's simulated
 * world. Every accepted workload write is a row of `scenarios`; `tenants`
 * holds a fixed number of rows. A node's count is what it holds: the
 * current primary its committed history, a replica what it has applied,
 * an old primary everything it accepted (lost writes included). Backups are
 * taken every `backupEveryMs` and replicated to every region's bucket.
 * Checks take time on the virtual clock (`kafkaCheckMs`, `backupCheckMs`).
 *
 * @module
 */
import type { RegionId, SimulatedWorld } from '@baton/core'
import type { Backup, Backups, Kafka, RowCounts } from './ports.ts'

/** Options of {@link createMemoryAurum}. */
export interface MemoryAurumOptions {
  /** The drill's simulated world: its clock, region health and ground truth. */
  readonly world: SimulatedWorld
  /** Time between backups. Default 1 h. */
  readonly backupEveryMs?: number
  /** Age of the newest backup when the drill starts (the schedule's phase). Default 0. */
  readonly backupAgeAtStartMs?: number
  /** Topics every cluster has. Default `scenarios`, `curves`, `events`. */
  readonly topics?: readonly string[]
  /** Regions whose Kafka cluster lacks the topics (a broken mirror). Default none. */
  readonly kafkaBroken?: readonly RegionId[]
  /** Rows of `tenants`. Default 42. */
  readonly tenants?: number
  /** Time to list topics and round-trip a test message. Default 2 min. */
  readonly kafkaCheckMs?: number
  /** Time to stat the newest backup and verify its checksum (a large dump). Default 5 min. */
  readonly backupCheckMs?: number
}

/** The in-memory ports. */
export interface MemoryAurum {
  /** The secondary's Kafka cluster. */
  readonly kafka: Kafka
  /** The PostgreSQL backups in MinIO/S3. */
  readonly backups: Backups
  /** Row counts for the consistency check. */
  readonly rows: RowCounts
}

/** Creates the in-memory Kafka, backups and row counts over `options.world`. */
export function createMemoryAurum(options: MemoryAurumOptions): MemoryAurum {
  const { world } = options
  const every = options.backupEveryMs ?? 3_600_000
  const topics = options.topics ?? ['scenarios', 'curves', 'events']
  const tenants = options.tenants ?? 42
  const start = world.clock.now()
  const reach = (region: RegionId, what: string): void => {
    if (!world.truth.regionHealth(region).up) throw new Error(`UNAVAILABLE: ${what} in ${region}`)
  }
  const scenariosAt = (region: RegionId, asOf: number): number => {
    const node = world.truth.nodes().find((n) => n.region === region)
    if (node === undefined) throw new Error(`no PostgreSQL node in ${region}`)
    const writes = world.truth.writes().filter((w) => w.at <= asOf)
    if (node.current) return writes.filter((w) => w.status === 'committed').length
    if (node.role === 'replica') {
      return writes.filter((w) => w.status === 'committed' && w.at <= node.appliedThrough).length
    }
    // An old primary holds what it accepted itself.
    return writes.filter((w) => w.region === region).length
  }
  return {
    kafka: {
      name: 'memory:kafka',
      async topics(region, ctx) {
        reach(region, 'kafka')
        await world.clock.sleep(options.kafkaCheckMs ?? 2 * 60_000, ctx.signal)
        return options.kafkaBroken?.includes(region) === true ? [] : topics
      },
    },
    backups: {
      name: 'memory:minio',
      async latest(region, ctx) {
        reach(region, 'minio')
        await world.clock.sleep(options.backupCheckMs ?? 5 * 60_000, ctx.signal)
        const first = start - (options.backupAgeAtStartMs ?? 0)
        const takenAt = first + Math.floor((world.clock.now() - first) / every) * every
        const rows = world.truth
          .writes()
          .filter((w) => w.status !== 'diverged' && w.at <= takenAt).length
        const backup: Backup = {
          key: `postgresql/aurum-${new Date(takenAt).toISOString()}.dump`,
          takenAt,
          rows: { tenants, scenarios: rows },
          intact: true,
        }
        return backup
      },
    },
    rows: {
      name: 'memory:postgres',
      async count(region, table, _ctx, asOf) {
        reach(region, 'postgres')
        if (table === 'tenants') return tenants
        if (table === 'scenarios') return scenariosAt(region, asOf ?? world.clock.now())
        throw new Error(`relation "${table}" does not exist`)
      },
    },
  }
}
