/**
 * A {@link TrafficRouter} over Route 53 records: weighted records (one per
 * region, told apart by `SetIdentifier`) or a failover pair (PRIMARY and
 * SECONDARY).
 *
 * baton's weights are percentages (0–100); Route 53's are integers 0–255,
 * relative to their sum. A percentage `p` is written as `round(p · 2.55)`
 * and read back as `round(w / 2.55)`, which gives back every integer
 * percentage exactly. In failover mode, the region with all the traffic is
 * PRIMARY and the other SECONDARY; weights that split traffic are refused.
 *
 * A change is one `ChangeResourceRecordSets` batch of `UPSERT`s that keep
 * every other field of each record (values or alias target, TTL, health
 * check) as read; `waitInSync` polls `GetChange` until `INSYNC`. Throttling
 * and `PriorRequestNotComplete` are retried (see `_aws.ts`);
 * `InvalidChangeBatch` is not, and reaches the caller with AWS's messages.
 *
 * @module
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
  type Route53ClientConfig,
  type RRType,
} from '@aws-sdk/client-route-53'
import {
  type CallContext,
  ConfigError,
  FencedError,
  type RegionId,
  type RoutingChange,
  type TrafficRouter,
  type Weights,
} from '@baton/core'
import {
  callAws,
  nonNegative,
  type RetryOptions,
  retrySettings,
  sleep,
  throwIfAborted,
} from './_aws.js'
import { AwsAdapterError } from './errors.js'

/** Options for {@link createRoute53TrafficRouter}. */
export interface Route53TrafficRouterOptions {
  /** A client you built; default: one created (region `us-east-1`, Route 53 is global) and cached by this router. */
  readonly client?: Route53Client
  /** Settings for the created client (credentials, endpoint, …). */
  readonly clientConfig?: Route53ClientConfig
  /** The hosted zone, e.g. `Z0123456789ABCDEF` (a leading `/hostedzone/` is accepted). */
  readonly hostedZoneId: string
  /** The record name, e.g. `api.example.com` (a trailing dot is added). */
  readonly recordName: string
  /** The record type; default `A`. */
  readonly recordType?: RRType
  /** `weighted` (default): one weighted record per region. `failover`: a PRIMARY/SECONDARY pair. */
  readonly routing?: 'weighted' | 'failover'
  /** Each region and the `SetIdentifier` of its record, e.g. `{ 'us-east-1': 'use1', 'us-west-2': 'usw2' }`. */
  readonly regions: Readonly<Record<RegionId, string>>
  /** Time between `GetChange` polls (ms); default 5 000. */
  readonly pollIntervalMs?: number
  /** Longest wait for `INSYNC` (ms) before `TIMEOUT`; default 300 000. */
  readonly syncTimeoutMs?: number
  /** The change batch's comment; default `baton traffic shift`. */
  readonly comment?: string
  /** Retries of each Route 53 call (see {@link RetryOptions}). */
  readonly retry?: RetryOptions
}

/** A {@link TrafficRouter} over Route 53. */
export interface Route53TrafficRouter extends TrafficRouter {
  /** The Route 53 client in use. */
  readonly client: Route53Client
  /** The change batch `setWeights(weights)` would submit (validated; no call is made). */
  changeBatch(weights: Weights): Promise<ResourceRecordSet[]>
}

/** Percentage → Route 53 weight (0–255). */
export function toRoute53Weight(percent: number): number {
  return Math.round(percent * 2.55)
}

/** Route 53 weight → percentage. */
export function fromRoute53Weight(weight: number): number {
  return Math.round(weight / 2.55)
}

/**
 * Creates a router over the weighted or failover records of one name.
 *
 * @throws `ConfigError` (`INVALID_CONFIG`) naming the bad option.
 *
 * @example
 * ```ts
 * const router = createRoute53TrafficRouter({
 *   hostedZoneId: 'Z0123456789ABCDEF', recordName: 'api.example.com',
 *   regions: { 'us-east-1': 'use1', 'us-west-2': 'usw2' },
 * })
 * await router.waitInSync(await router.setWeights({ 'us-west-2': 100 }, ctx), ctx)
 * ```
 */
export function createRoute53TrafficRouter(
  options: Route53TrafficRouterOptions,
): Route53TrafficRouter {
  if (typeof options.hostedZoneId !== 'string' || options.hostedZoneId === '') {
    throw new ConfigError('hostedZoneId', 'must be a non-empty string')
  }
  const zone = options.hostedZoneId.replace(/^\/hostedzone\//, '')
  if (typeof options.recordName !== 'string' || options.recordName === '') {
    throw new ConfigError('recordName', 'must be a non-empty string')
  }
  const name = options.recordName.endsWith('.') ? options.recordName : `${options.recordName}.`
  const type = options.recordType ?? 'A'
  const routing = options.routing ?? 'weighted'
  if (routing !== 'weighted' && routing !== 'failover') {
    throw new ConfigError('routing', `must be weighted or failover, got ${String(routing)}`)
  }
  const regions = Object.entries(options.regions ?? {})
  if (regions.length < 1 || (routing === 'failover' && regions.length !== 2)) {
    throw new ConfigError(
      'regions',
      routing === 'failover' ? 'needs exactly two regions' : 'needs at least one region',
    )
  }
  for (const [region, id] of regions) {
    if (typeof id !== 'string' || id === '')
      throw new ConfigError(`regions.${region}`, 'must be a SetIdentifier')
  }
  const pollMs = nonNegative(options.pollIntervalMs ?? 5_000, 'pollIntervalMs')
  const syncTimeoutMs = nonNegative(options.syncTimeoutMs ?? 300_000, 'syncTimeoutMs')
  const retry = retrySettings(options.retry, 'retry')
  const client =
    options.client ?? new Route53Client({ region: 'us-east-1', ...options.clientConfig })
  const label = `route53:${zone}/${name.slice(0, -1)}`
  let highest = Number.NEGATIVE_INFINITY
  const fence = (ctx: CallContext, what: string): void => {
    if (ctx.epoch < highest) throw new FencedError(ctx.epoch, highest, `${label} ${what}`)
    highest = Math.max(highest, ctx.epoch)
  }
  const call = <T>(command: unknown, operation: string, signal?: AbortSignal): Promise<T> =>
    callAws<T>(client, command, { service: 'route53', operation, retry, signal })

  const check = (weights: Weights): Record<RegionId, number> => {
    if (typeof weights !== 'object' || weights === null) {
      throw new ConfigError('weights', 'must be an object of region → percentage')
    }
    const full: Record<RegionId, number> = Object.fromEntries(regions.map(([r]) => [r, 0]))
    for (const [region, w] of Object.entries(weights)) {
      const at = `weights.${region}`
      if (!(region in full))
        throw new ConfigError(at, `unknown region ${region} (no record configured)`)
      if (typeof w !== 'number' || !Number.isFinite(w)) {
        throw new ConfigError(at, `weight of ${region} must be a finite number, got ${String(w)}`)
      }
      if (w < 0 || w > 100)
        throw new ConfigError(at, `weight of ${region} must be a percentage 0–100, got ${w}`)
      full[region] = w
    }
    if (routing === 'failover') {
      const positive = Object.values(full).filter((w) => w > 0).length
      if (positive !== 1) {
        throw new ConfigError(
          'weights',
          'failover records send all traffic to one region: give exactly one region a weight',
        )
      }
    }
    return full
  }

  /** The record of each region, as Route 53 holds it now. */
  const records = async (signal?: AbortSignal): Promise<Map<RegionId, ResourceRecordSet>> => {
    const byId = new Map(regions.map(([r, id]) => [id, r]))
    const out = new Map<RegionId, ResourceRecordSet>()
    let start: {
      StartRecordName: string
      StartRecordType: RRType
      StartRecordIdentifier?: string
    } = {
      StartRecordName: name,
      StartRecordType: type,
    }
    for (let page = 0; page < 100; page++) {
      const res = await call<{
        ResourceRecordSets?: ResourceRecordSet[]
        IsTruncated?: boolean
        NextRecordName?: string
        NextRecordType?: RRType
        NextRecordIdentifier?: string
      }>(
        new ListResourceRecordSetsCommand({ HostedZoneId: zone, ...start }),
        'ListResourceRecordSets',
        signal,
      )
      let past = false
      for (const set of res.ResourceRecordSets ?? []) {
        if (set.Name !== name || set.Type !== type) {
          past = true
          break
        }
        const region = set.SetIdentifier === undefined ? undefined : byId.get(set.SetIdentifier)
        if (region !== undefined) out.set(region, set)
      }
      if (past || res.IsTruncated !== true || res.NextRecordName === undefined) break
      start = {
        StartRecordName: res.NextRecordName,
        StartRecordType: res.NextRecordType ?? type,
        ...(res.NextRecordIdentifier === undefined
          ? {}
          : { StartRecordIdentifier: res.NextRecordIdentifier }),
      }
    }
    for (const [region, id] of regions) {
      if (!out.has(region)) {
        throw new ConfigError(
          `regions.${region}`,
          `no ${type} record ${name} with SetIdentifier ${id} in zone ${zone}`,
        )
      }
    }
    return out
  }

  const weightOf = (set: ResourceRecordSet): number =>
    routing === 'failover'
      ? set.Failover === 'PRIMARY'
        ? 100
        : 0
      : fromRoute53Weight(set.Weight ?? 0)

  const batch = (
    full: Record<RegionId, number>,
    current: Map<RegionId, ResourceRecordSet>,
  ): ResourceRecordSet[] =>
    regions.map(([region]) => {
      const set = current.get(region)!
      return routing === 'failover'
        ? { ...set, Failover: full[region]! > 0 ? 'PRIMARY' : 'SECONDARY' }
        : { ...set, Weight: toRoute53Weight(full[region]!) }
    })

  return {
    name: label,
    client,
    async getWeights(ctx: CallContext): Promise<Weights> {
      throwIfAborted(ctx.signal, 'route53', 'getWeights')
      fence(ctx, 'getWeights')
      const current = await records(ctx.signal)
      return Object.fromEntries([...current].map(([region, set]) => [region, weightOf(set)]))
    },
    async setWeights(weights: Weights, ctx: CallContext): Promise<RoutingChange> {
      const full = check(weights)
      throwIfAborted(ctx.signal, 'route53', 'setWeights')
      fence(ctx, 'setWeights')
      const sets = batch(full, await records(ctx.signal))
      const out = await call<{ ChangeInfo?: { Id?: string; SubmittedAt?: Date } }>(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone,
          ChangeBatch: {
            Comment: options.comment ?? 'baton traffic shift',
            Changes: sets.map((set) => ({ Action: 'UPSERT', ResourceRecordSet: set })),
          },
        }),
        'ChangeResourceRecordSets',
        ctx.signal,
      )
      const id = out.ChangeInfo?.Id
      if (id === undefined) {
        throw new AwsAdapterError(
          'ADAPTER',
          'route53',
          'ChangeResourceRecordSets',
          'the answer has no change id',
        )
      }
      return { id, weights: full, submittedAt: Date.now() }
    },
    async waitInSync(change: RoutingChange, ctx: CallContext): Promise<void> {
      throwIfAborted(ctx.signal, 'route53', 'waitInSync')
      const deadline = Date.now() + syncTimeoutMs
      for (;;) {
        const out = await call<{ ChangeInfo?: { Status?: string } }>(
          new GetChangeCommand({ Id: change.id }),
          'GetChange',
          ctx.signal,
        )
        if (out.ChangeInfo?.Status === 'INSYNC') return
        if (Date.now() + pollMs > deadline) {
          throw new AwsAdapterError(
            'TIMEOUT',
            'route53',
            'GetChange',
            `change ${change.id} not INSYNC after ${syncTimeoutMs} ms (status ${out.ChangeInfo?.Status ?? 'unknown'})`,
          )
        }
        await sleep(pollMs, ctx.signal, 'route53', 'waitInSync')
      }
    },
    async describe(weights: Weights): Promise<readonly string[]> {
      const full = check(weights)
      const current = await records()
      const sets = batch(full, current)
      const lines = [
        `ChangeResourceRecordSets on zone ${zone} (${routing} ${type} ${name}), one batch:`,
      ]
      for (const set of sets) {
        const region = regions.find(([, id]) => id === set.SetIdentifier)![0]
        const before = current.get(region)!
        lines.push(
          routing === 'failover'
            ? `UPSERT ${name} ${type} SetIdentifier=${set.SetIdentifier} (${region}): ${before.Failover} → ${set.Failover}`
            : `UPSERT ${name} ${type} SetIdentifier=${set.SetIdentifier} (${region}): weight ${before.Weight} → ${set.Weight} (${weightOf(before)}% → ${full[region]}%)`,
        )
      }
      if (routing === 'weighted' && Object.values(full).every((w) => w === 0)) {
        lines.push('All weights are 0: Route 53 then answers with every record equally.')
      }
      lines.push('Then poll GetChange until INSYNC.')
      return lines
    },
    changeBatch: async (weights) => batch(check(weights), await records()),
  }
}
