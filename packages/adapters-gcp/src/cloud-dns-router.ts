/**
 * A {@link TrafficRouter} on Cloud DNS: one record set whose routing policy
 * carries the traffic split.
 *
 * - `weighted`: a weighted round-robin policy (`routingPolicy.wrr`), one
 *   item per region with that region's `rrdatas`; a region's weight is its
 *   item's weight.
 * - `primary-backup`: a primary-backup policy (`routingPolicy.primaryBackup`)
 *   with the primary region's targets and the backup region's geo item;
 *   weights map to trickle traffic, the share sent to the backup while the
 *   primary is healthy (`{primary: 75, backup: 25}` is `trickleTraffic:
 *   0.25`; all traffic on the backup is `1`).
 *
 * A change replaces the record set in one Cloud DNS change, deleting exactly
 * the set read, so a concurrent edit makes it fail with 412 rather than be
 * overwritten (the router then reads again and retries); with `fencing`, the
 * same change replaces a TXT record holding the caller's epoch, so a stale
 * epoch is refused (`FENCED`) atomically. `waitInSync` polls the change
 * until its status is `done`.
 *
 * @module
 */
import {
  ConfigError,
  CoreError,
  createSystemClock,
  FencedError,
  type RegionId,
  type RoutingChange,
  type TrafficRouter,
  type Weights,
} from '@baton/core'
import { DNS, type Zone } from '@google-cloud/dns'
import { acquireClient, borrowedClient, emulatorAuthClient } from './_clients.js'
import { messageOf } from './_common.js'
import { GcpError } from './errors.js'

/** Where a region's traffic goes. */
export interface CloudDnsTarget {
  /** Record data for the region, e.g. `['203.0.113.10']` for an `A` record. */
  readonly rrdatas: readonly string[]
}

/** A primary-backup routing policy: one primary, one backup region. */
export interface CloudDnsPrimaryBackup {
  readonly kind: 'primary-backup'
  /** The primary region. */
  readonly primary: RegionId
  /** Primary targets, as Cloud DNS takes them (`externalEndpoints` IPs, or `internalLoadBalancers`). */
  readonly primaryTargets: Readonly<Record<string, unknown>>
  /** The backup region. */
  readonly backup: RegionId
  /** The backup region's Cloud DNS location (e.g. `us-east1`) and its record data. */
  readonly backupTarget: CloudDnsTarget & { readonly location: string }
}

/** A weighted round-robin routing policy: one item per region. */
export interface CloudDnsWeighted {
  readonly kind: 'weighted'
  /** Each region's targets, in the order items are written. */
  readonly regions: Readonly<Record<RegionId, CloudDnsTarget>>
}

/** Options for {@link createCloudDnsRouter}. */
export interface CloudDnsRouterOptions {
  /** A client you built (credentials, endpoint and lifetime are yours). */
  readonly client?: DNS
  /** Google Cloud project id owning the zone; default from the environment. */
  readonly projectId?: string
  /** Another API host, `host:port` (HTTPS, no credentials), for a local endpoint speaking the Cloud DNS API. */
  readonly endpoint?: string
  /** The managed zone's name (not its DNS name), e.g. `prod-zone`. */
  readonly zone: string
  /** The record set's fully qualified name, with the final dot: `api.example.com.`. */
  readonly name: string
  /** The record type; default `A`. */
  readonly type?: string
  /** TTL of the record set written (s); default 60. */
  readonly ttl?: number
  /** The routing policy and the regions' targets. */
  readonly policy: CloudDnsWeighted | CloudDnsPrimaryBackup
  /** The weight meaning "all traffic" for primary-backup (trickle ratio × this); default 100. */
  readonly fullWeight?: number
  /** Interval between polls of a pending change (ms); default 2 000. */
  readonly pollMs?: number
  /** `waitInSync` gives up after this long (ms); default 600 000. */
  readonly syncTimeoutMs?: number
  /**
   * Fence changes by epoch: each change also replaces a TXT record
   * `_baton-fence.<name>` holding the caller's epoch, in the same atomic
   * change, deleting exactly the fence it read; a call whose epoch is older
   * than the fence's is refused with `FENCED`. Default false.
   */
  readonly fencing?: boolean
}

/** A Cloud DNS traffic router. */
export interface CloudDnsRouter extends TrafficRouter {
  /** The DNS client in use. */
  readonly client: DNS
  /** Gives back the client if this router created it. */
  close(): Promise<void>
}

type RecordSet = Record<string, unknown> & { routingPolicy?: Record<string, unknown> }

/**
 * A router over the record set `options.name` in `options.zone`.
 *
 * @throws {@link ConfigError} (`INVALID_CONFIG`) naming a bad option.
 *
 * @example
 * ```ts
 * const router = createCloudDnsRouter({
 *   zone: 'prod', name: 'api.example.com.',
 *   policy: { kind: 'weighted', regions: { 'europe-west1': { rrdatas: ['203.0.113.10'] }, 'us-east1': { rrdatas: ['198.51.100.7'] } } },
 * })
 * const change = await router.setWeights({ 'europe-west1': 0, 'us-east1': 100 }, { epoch })
 * await router.waitInSync(change, { epoch })
 * ```
 */
export function createCloudDnsRouter(options: CloudDnsRouterOptions): CloudDnsRouter {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'must be an object')
  }
  const zoneName = checkString(options.zone, 'zone', /^[a-z][a-z0-9-]{0,62}$/)
  const name = checkString(options.name, 'name', /^([A-Za-z0-9_*-]+\.)+$/)
  const type = checkString(options.type ?? 'A', 'type', /^[A-Z]+$/)
  const ttl = checkInt(options.ttl ?? 60, 'ttl', 0, 2_147_483_647)
  const pollMs = checkInt(options.pollMs ?? 2_000, 'pollMs', 1, 600_000)
  const syncTimeoutMs = checkInt(options.syncTimeoutMs ?? 600_000, 'syncTimeoutMs', 1, 86_400_000)
  const full = options.fullWeight ?? 100
  if (!Number.isFinite(full) || full <= 0) {
    throw new ConfigError('fullWeight', `must be a positive number, got ${full}`)
  }
  const policy = checkPolicy(options.policy)
  if (options.fencing !== undefined && typeof options.fencing !== 'boolean') {
    throw new ConfigError('fencing', `must be a boolean, got ${JSON.stringify(options.fencing)}`)
  }
  const fencing = options.fencing === true
  const regions =
    policy.kind === 'weighted' ? Object.keys(policy.regions) : [policy.primary, policy.backup]

  const ref =
    options.client !== undefined
      ? borrowedClient(options.client)
      : acquireClient(
          JSON.stringify(['dns', options.projectId, options.endpoint]),
          () =>
            new DNS({
              ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
              ...(options.endpoint === undefined
                ? {}
                : {
                    apiEndpoint: checkString(options.endpoint, 'endpoint', /^[^/\s]+:\d+$/),
                    authClient: emulatorAuthClient() as never,
                  }),
            }),
          async () => {},
        )
  const dns = ref.client
  const zone: Zone = dns.zone(zoneName)
  const routerName = `clouddns:${zoneName}/${name}${type === 'A' ? '' : ` ${type}`}`
  const fail = (what: string, error: unknown): GcpError =>
    new GcpError('GCP_REQUEST', `${routerName}: ${what} failed: ${messageOf(error)}`, {
      cause: error,
      status: (error as { code?: number | string } | null)?.code,
    })

  const readSet = async (setName: string, setType: string): Promise<RecordSet | undefined> => {
    try {
      const [records] = await zone.getRecords({
        name: setName,
        type: setType,
        maxResults: 10,
      } as never)
      return (records as unknown as { metadata: RecordSet }[])
        .map((r) => r.metadata)
        .find((m) => m.name === setName && m.type === setType)
    } catch (error) {
      throw fail(`reading the record set ${setName} ${setType}`, error)
    }
  }
  const read = (): Promise<RecordSet | undefined> => readSet(name, type)
  const fenceName = `_baton-fence.${name}`
  /** The epoch the fence record holds (0 without one). */
  const epochOf = (fence: RecordSet | undefined): number => {
    const text = ((fence?.rrdatas as string[] | undefined) ?? [])[0] ?? ''
    const m = /^"?baton-epoch=(\d+)"?$/.exec(text)
    if (fence !== undefined && m === null) {
      throw new GcpError(
        'GCP_CORRUPT',
        `${routerName}: ${fenceName} TXT is not a fence this router wrote: ${text}`,
      )
    }
    return m === null ? 0 : Number(m[1])
  }

  /** The weights `set` routes by; a set this router would not write is `GCP_CORRUPT`. */
  const weightsOf = (set: RecordSet | undefined): Weights => {
    const out: Record<RegionId, number> = Object.fromEntries(regions.map((r) => [r, 0]))
    if (set === undefined) return out
    const foreign = (why: string): GcpError =>
      new GcpError(
        'GCP_CORRUPT',
        `${routerName}: the record set is not one this router writes: ${why}`,
      )
    const rp = set.routingPolicy
    if (rp === undefined) {
      // A plain record set: all traffic to the region whose targets it holds.
      const data = (set.rrdatas as string[] | undefined) ?? []
      const region =
        policy.kind === 'weighted'
          ? regions.find((r) => sameData(policy.regions[r]!.rrdatas, data))
          : sameData(policy.backupTarget.rrdatas, data)
            ? policy.backup
            : undefined
      if (region === undefined) throw foreign(`plain rrdatas ${JSON.stringify(data)}`)
      out[region] = full
      return out
    }
    if (policy.kind === 'weighted') {
      const wrr = rp.wrr as { items?: { weight?: unknown; rrdatas?: string[] }[] } | undefined
      if (wrr === undefined) throw foreign('no weighted round-robin policy')
      for (const item of wrr.items ?? []) {
        const region = regions.find((r) => sameData(policy.regions[r]!.rrdatas, item.rrdatas ?? []))
        const weight = Number(item.weight ?? 0)
        if (region === undefined) throw foreign(`an item for ${JSON.stringify(item.rrdatas)}`)
        if (!Number.isFinite(weight) || weight < 0) throw foreign(`weight ${String(item.weight)}`)
        out[region] = weight
      }
      return out
    }
    const pb = rp.primaryBackup as { trickleTraffic?: unknown } | undefined
    if (pb === undefined) throw foreign('no primary-backup policy')
    const trickle = Number(pb.trickleTraffic ?? 0)
    if (!(trickle >= 0 && trickle <= 1))
      throw foreign(`trickleTraffic ${String(pb.trickleTraffic)}`)
    out[policy.primary] = round(full * (1 - trickle))
    out[policy.backup] = round(full * trickle)
    return out
  }

  const recordSetFor = (weights: Weights): RecordSet => {
    const w = checkWeights(weights, regions)
    if (policy.kind === 'weighted') {
      return {
        name,
        type,
        ttl,
        routingPolicy: {
          wrr: {
            items: regions.map((r) => ({
              weight: w[r]!,
              rrdatas: [...policy.regions[r]!.rrdatas],
            })),
          },
        },
      }
    }
    const total = w[policy.primary]! + w[policy.backup]!
    return {
      name,
      type,
      ttl,
      routingPolicy: {
        primaryBackup: {
          primaryTargets: policy.primaryTargets,
          backupGeoTargets: {
            items: [
              { location: policy.backupTarget.location, rrdatas: [...policy.backupTarget.rrdatas] },
            ],
          },
          trickleTraffic: w[policy.backup]! / total,
        },
      },
    }
  }

  const normalised = (weights: Weights): Weights => weightsOf(recordSetFor(weights))

  return {
    name: routerName,
    client: dns,
    async getWeights(ctx) {
      checkSignal(ctx.signal)
      return weightsOf(await read())
    },
    async setWeights(weights, ctx) {
      const set = recordSetFor(weights)
      for (let attempt = 1; ; attempt++) {
        checkSignal(ctx.signal)
        const [current, fence] = await Promise.all([
          read(),
          fencing ? readSet(fenceName, 'TXT') : Promise.resolve(undefined),
        ])
        const add = [zone.record(type.toLowerCase(), set as never)]
        const remove =
          current === undefined ? [] : [zone.record(type.toLowerCase(), current as never)]
        if (fencing) {
          const seen = epochOf(fence)
          if (ctx.epoch < seen) throw new FencedError(ctx.epoch, seen, `${routerName}: setWeights`)
          add.push(
            zone.record('txt', { name: fenceName, ttl: 300, data: [`"baton-epoch=${ctx.epoch}"`] }),
          )
          if (fence !== undefined) remove.push(zone.record('txt', fence as never))
        }
        try {
          const [created] = await zone.createChange({
            add,
            ...(remove.length === 0 ? {} : { delete: remove }),
          })
          const id = String((created as { id: string }).id)
          return { id, weights: normalised(weights), submittedAt: Date.now() }
        } catch (error) {
          // 412: a record set changed between the read and the change (another
          // writer); 409: one was created meanwhile. Read again and decide again.
          const status = (error as { code?: unknown }).code
          if ((status !== 412 && status !== 409) || attempt >= 5)
            throw fail('submitting the change', error)
        }
      }
    },
    async waitInSync(change: RoutingChange, ctx) {
      checkSignal(ctx.signal)
      const deadline = performance.now() + syncTimeoutMs
      for (;;) {
        let status: string | undefined
        try {
          const [meta] = await zone.change(change.id).getMetadata()
          status = (meta as { status?: string }).status
        } catch (error) {
          throw fail(`reading change ${change.id}`, error)
        }
        if (status === 'done') return
        if (status !== 'pending') {
          throw new GcpError('DNS_CHANGE', `${routerName}: change ${change.id} is ${status}`)
        }
        if (performance.now() >= deadline) {
          throw new GcpError(
            'DNS_CHANGE',
            `${routerName}: change ${change.id} still pending after ${syncTimeoutMs} ms`,
          )
        }
        await clock.sleep(pollMs, ctx.signal)
      }
    },
    async describe(weights) {
      const set = recordSetFor(weights)
      let before: Weights | undefined
      try {
        before = weightsOf(await read())
      } catch (error) {
        if (!(error instanceof GcpError && error.code === 'GCP_CORRUPT')) throw error
      }
      const after = weightsOf(set)
      const how =
        policy.kind === 'weighted'
          ? 'weighted round robin'
          : `primary-backup, trickle traffic ${round((set.routingPolicy!.primaryBackup as { trickleTraffic: number }).trickleTraffic)} to ${policy.backup}`
      return [
        `Cloud DNS zone ${zoneName}: replace ${type} ${name} (ttl ${ttl}s, ${how}) in one change, then wait until it is done`,
        ...(before === undefined
          ? ['the record set there now is not one this router writes: it is replaced whole']
          : []),
        ...regions.map((r) => `${r}: weight ${before?.[r] ?? '?'} -> ${after[r] ?? 0}`),
      ]
    },
    async close() {
      await ref.release()
    },
  }
}

function checkString(value: unknown, path: string, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new ConfigError(path, `must match ${pattern}, got ${JSON.stringify(value)}`)
  }
  return value
}

function checkInt(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(path, `must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

function checkTarget(target: unknown, path: string): void {
  const rrdatas = (target as CloudDnsTarget | undefined)?.rrdatas
  if (
    !Array.isArray(rrdatas) ||
    rrdatas.length === 0 ||
    rrdatas.some((d) => typeof d !== 'string' || d === '')
  ) {
    throw new ConfigError(`${path}.rrdatas`, 'must be a non-empty array of non-empty strings')
  }
}

function checkPolicy(policy: unknown): CloudDnsWeighted | CloudDnsPrimaryBackup {
  const p = policy as
    | (Partial<Omit<CloudDnsWeighted, 'kind'>> &
        Partial<Omit<CloudDnsPrimaryBackup, 'kind'>> & { kind?: unknown })
    | undefined
  if (p?.kind === 'weighted') {
    const entries = Object.entries(p.regions ?? {})
    if (entries.length < 1) throw new ConfigError('policy.regions', 'must name at least one region')
    for (const [r, t] of entries) checkTarget(t, `policy.regions.${r}`)
    return p as CloudDnsWeighted
  }
  if (p?.kind === 'primary-backup') {
    if (typeof p.primary !== 'string' || p.primary === '') {
      throw new ConfigError('policy.primary', 'must be a region id')
    }
    if (typeof p.backup !== 'string' || p.backup === '' || p.backup === p.primary) {
      throw new ConfigError('policy.backup', 'must be a region id other than the primary')
    }
    if (typeof p.primaryTargets !== 'object' || p.primaryTargets === null) {
      throw new ConfigError(
        'policy.primaryTargets',
        'must be an object (Cloud DNS health-checked targets)',
      )
    }
    checkTarget(p.backupTarget, 'policy.backupTarget')
    if (typeof p.backupTarget?.location !== 'string' || p.backupTarget.location === '') {
      throw new ConfigError(
        'policy.backupTarget.location',
        'must be a Cloud DNS location, e.g. us-east1',
      )
    }
    return p as CloudDnsPrimaryBackup
  }
  throw new ConfigError(
    'policy.kind',
    `must be "weighted" or "primary-backup", got ${JSON.stringify(p?.kind)}`,
  )
}

/** Checks weights: finite, non-negative, for known regions, not all zero. */
function checkWeights(weights: Weights, regions: readonly RegionId[]): Record<RegionId, number> {
  if (typeof weights !== 'object' || weights === null) {
    throw new ConfigError('weights', 'must be an object of region weights')
  }
  for (const [r, w] of Object.entries(weights)) {
    if (!regions.includes(r))
      throw new ConfigError(
        `weights.${r}`,
        `is not a region of this router (${regions.join(', ')})`,
      )
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new ConfigError(
        `weights.${r}`,
        `must be a finite, non-negative number, got ${String(w)}`,
      )
    }
  }
  const out = Object.fromEntries(regions.map((r) => [r, weights[r] ?? 0]))
  if (Object.values(out).every((w) => w === 0)) {
    throw new ConfigError('weights', 'must give some region a positive weight')
  }
  return out
}

/** Polling waits: abortable, and they refuse a signal that has already aborted. */
const clock = createSystemClock()

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new CoreError('ABORTED', 'the call was aborted')
}

function sameData(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  const sortedB = [...b].sort()
  return [...a].sort().every((x, i) => x === sortedB[i])
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6
}
