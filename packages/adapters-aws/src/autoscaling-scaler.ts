/**
 * A {@link Scaler} over EC2 Auto Scaling groups, one group per region.
 *
 * `scale` is `SetDesiredCapacity` (or, with `adjustLimits`,
 * `UpdateAutoScalingGroup` widening `MinSize`/`MaxSize` to admit the new
 * desired capacity); `capacity` and `waitReady` read
 * `DescribeAutoScalingGroups` and count the instances that are `InService`
 * and `Healthy`. Throttling and transient errors are retried (see
 * `_aws.ts`); a `ValidationError` (e.g. a desired capacity above
 * `MaxSize`) reaches the caller with AWS's message. Auto Scaling is
 * regional: one client per region, given or created and cached.
 *
 * @module
 */
import {
  AutoScalingClient,
  type AutoScalingClientConfig,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling'
import {
  type CallContext,
  type Capacity,
  ConfigError,
  FencedError,
  type RegionId,
  type Scaler,
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

/** Options for {@link createAutoScalingScaler}. */
export interface AutoScalingScalerOptions {
  /** Each region's Auto Scaling group name, e.g. `{ 'us-west-2': 'api-usw2' }`. */
  readonly groups: Readonly<Record<RegionId, string>>
  /** Clients you built, per region; regions without one get a created and cached client. */
  readonly clients?: Readonly<Partial<Record<RegionId, AutoScalingClient>>>
  /** Settings for created clients (credentials, …; the region is set per client). */
  readonly clientConfig?: Omit<AutoScalingClientConfig, 'region'>
  /** Widen `MinSize`/`MaxSize` when the desired capacity is outside them (UpdateAutoScalingGroup); default false. */
  readonly adjustLimits?: boolean
  /** `HonorCooldown` of `SetDesiredCapacity`; default false (a failover does not wait for cooldowns). */
  readonly honorCooldown?: boolean
  /** Time between polls in `waitReady` (ms); default 10 000. */
  readonly pollIntervalMs?: number
  /** Longest `waitReady` (ms) before `TIMEOUT`; default 900 000. */
  readonly waitTimeoutMs?: number
  /** Retries of each Auto Scaling call (see {@link RetryOptions}). */
  readonly retry?: RetryOptions
}

/** A {@link Scaler} over Auto Scaling groups. */
export interface AutoScalingScaler extends Scaler {
  /** The Auto Scaling client of `region` (created and cached on first use). */
  client(region: RegionId): AutoScalingClient
}

/**
 * Creates a scaler over one Auto Scaling group per region.
 *
 * @throws `ConfigError` (`INVALID_CONFIG`) naming the bad option.
 *
 * @example
 * ```ts
 * const scaler = createAutoScalingScaler({ groups: { 'us-west-2': 'api-usw2' } })
 * await scaler.scale('us-west-2', 6, ctx)
 * await scaler.waitReady('us-west-2', 6, ctx)
 * ```
 */
export function createAutoScalingScaler(options: AutoScalingScalerOptions): AutoScalingScaler {
  const groups = Object.entries(options.groups ?? {})
  if (groups.length === 0) throw new ConfigError('groups', 'needs at least one region')
  for (const [region, name] of groups) {
    if (typeof name !== 'string' || !/^[\u0020-\uD7FF\uE000-\uFFFD]{1,255}$/.test(name)) {
      throw new ConfigError(`groups.${region}`, 'must be an Auto Scaling group name (1–255 chars)')
    }
  }
  const byRegion = new Map(groups)
  const pollMs = nonNegative(options.pollIntervalMs ?? 10_000, 'pollIntervalMs')
  const waitMs = nonNegative(options.waitTimeoutMs ?? 900_000, 'waitTimeoutMs')
  const retry = retrySettings(options.retry, 'retry')
  const created = new Map<RegionId, AutoScalingClient>()
  const client = (region: RegionId): AutoScalingClient => {
    let c = options.clients?.[region] ?? created.get(region)
    if (c === undefined) {
      c = new AutoScalingClient({ ...options.clientConfig, region })
      created.set(region, c)
    }
    return c
  }
  const label = `asg:${groups.map(([, n]) => n).join(',')}`
  let highest = Number.NEGATIVE_INFINITY
  const enter = (region: RegionId, ctx: CallContext, what: string, fence = true): string => {
    const group = byRegion.get(region)
    if (group === undefined) {
      throw new ConfigError('region', `${region} is not one of ${[...byRegion.keys()].join(', ')}`)
    }
    throwIfAborted(ctx.signal, 'autoscaling', what)
    if (fence) {
      if (ctx.epoch < highest) throw new FencedError(ctx.epoch, highest, `${label} ${what}`)
      highest = Math.max(highest, ctx.epoch)
    }
    return group
  }
  const call = <T>(region: RegionId, command: unknown, operation: string, ctx: CallContext) =>
    callAws<T>(client(region), command, {
      service: 'autoscaling',
      operation,
      retry,
      signal: ctx.signal,
    })
  const describe = async (region: RegionId, group: string, ctx: CallContext) => {
    const out = await call<{ AutoScalingGroups?: AutoScalingGroup[] }>(
      region,
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
      'DescribeAutoScalingGroups',
      ctx,
    )
    const found = out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === group)
    if (found === undefined) {
      throw new AwsAdapterError(
        'ADAPTER',
        'autoscaling',
        'DescribeAutoScalingGroups',
        `no Auto Scaling group ${group} in ${region}`,
      )
    }
    return found
  }
  const capacityOf = (g: AutoScalingGroup): Capacity => ({
    desired: g.DesiredCapacity ?? 0,
    ready: (g.Instances ?? []).filter(
      (i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy',
    ).length,
  })
  const count = (value: unknown, path: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new ConfigError(path, `must be a non-negative integer, got ${String(value)}`)
    }
    return value
  }

  return {
    name: label,
    client,
    async capacity(region, ctx) {
      const group = enter(region, ctx, 'capacity')
      return capacityOf(await describe(region, group, ctx))
    },
    async scale(region, desired, ctx) {
      count(desired, 'desired')
      const group = enter(region, ctx, 'scale')
      if (options.adjustLimits === true) {
        const g = await describe(region, group, ctx)
        await call(
          region,
          new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: group,
            DesiredCapacity: desired,
            MinSize: Math.min(g.MinSize ?? 0, desired),
            MaxSize: Math.max(g.MaxSize ?? 0, desired),
          }),
          'UpdateAutoScalingGroup',
          ctx,
        )
        return
      }
      await call(
        region,
        new SetDesiredCapacityCommand({
          AutoScalingGroupName: group,
          DesiredCapacity: desired,
          HonorCooldown: options.honorCooldown === true,
        }),
        'SetDesiredCapacity',
        ctx,
      )
    },
    async waitReady(region, ready, ctx) {
      count(ready, 'ready')
      const group = enter(region, ctx, 'waitReady', false)
      const deadline = Date.now() + waitMs
      for (;;) {
        const now = capacityOf(await describe(region, group, ctx))
        if (now.ready >= ready) return now
        if (Date.now() + pollMs > deadline) {
          throw new AwsAdapterError(
            'TIMEOUT',
            'autoscaling',
            'waitReady',
            `${group}: ${now.ready} of ${ready} instances InService after ${waitMs} ms`,
          )
        }
        await sleep(pollMs, ctx.signal, 'autoscaling', 'waitReady')
      }
    },
  }
}
