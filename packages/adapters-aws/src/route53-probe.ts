/**
 * A {@link Probe} from a Route 53 health check: `GetHealthCheckStatus`
 * returns what each Route 53 checker last observed; the region is healthy
 * when more than `healthyFraction` of the checkers report success (Route 53
 * itself counts an endpoint healthy when more than 18 % do, the default).
 *
 * A probe never throws for an unhealthy region: a failing status, a
 * missing health check or an unreachable API all give `ok: false` with the
 * error; only an aborted signal rejects (`ABORTED`).
 *
 * @module
 */
import {
  GetHealthCheckStatusCommand,
  type HealthCheckObservation,
  Route53Client,
  type Route53ClientConfig,
} from '@aws-sdk/client-route-53'
import {
  type CallContext,
  ConfigError,
  type Probe,
  type ProbeSample,
  type RegionId,
} from '@baton/core'
import { callAws, type RetryOptions, retrySettings, throwIfAborted } from './_aws.js'
import { AwsAdapterError } from './errors.js'

/** Options for {@link createRoute53Probe}. */
export interface Route53ProbeOptions {
  /** A client you built; default: one created (region `us-east-1`) and cached by this probe. */
  readonly client?: Route53Client
  /** Settings for the created client. */
  readonly clientConfig?: Route53ClientConfig
  /** The health check's id. */
  readonly healthCheckId: string
  /** The region the health check watches. */
  readonly region: RegionId
  /** Healthy when more than this fraction of checkers report success; default 0.18 (Route 53's rule). */
  readonly healthyFraction?: number
  /** Clock for sample times (epoch ms); default `Date.now`. */
  readonly now?: () => number
  /** Retries of the call (see {@link RetryOptions}); default 2 attempts of at most 10 s. */
  readonly retry?: RetryOptions
}

/**
 * Creates a probe over one Route 53 health check.
 *
 * @throws `ConfigError` (`INVALID_CONFIG`) naming the bad option.
 *
 * @example
 * ```ts
 * const probe = createRoute53Probe({ healthCheckId: 'abcd-…', region: 'eu-west-1' })
 * const sample = await probe.check({ epoch })
 * ```
 */
export function createRoute53Probe(options: Route53ProbeOptions): Probe {
  if (typeof options.healthCheckId !== 'string' || options.healthCheckId === '') {
    throw new ConfigError('healthCheckId', 'must be a non-empty string')
  }
  if (typeof options.region !== 'string' || options.region === '') {
    throw new ConfigError('region', 'must be a non-empty string')
  }
  const fraction = options.healthyFraction ?? 0.18
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1)) {
    throw new ConfigError('healthyFraction', `must be in [0, 1), got ${String(fraction)}`)
  }
  const now = options.now ?? Date.now
  const retry = retrySettings(
    { maxAttempts: 2, attemptTimeoutMs: 10_000, ...options.retry },
    'retry',
  )
  const client =
    options.client ?? new Route53Client({ region: 'us-east-1', ...options.clientConfig })
  const id = options.healthCheckId
  const name = `route53-health-check:${id}`

  return {
    name,
    region: options.region,
    async check(ctx: CallContext): Promise<ProbeSample> {
      throwIfAborted(ctx.signal, 'route53', 'GetHealthCheckStatus')
      const started = performance.now()
      const sample = (ok: boolean, error?: string): ProbeSample => ({
        region: options.region,
        ok,
        at: now(),
        latencyMs: Math.max(0, performance.now() - started),
        ...(error === undefined ? {} : { error }),
      })
      let observations: HealthCheckObservation[]
      try {
        const out = await callAws<{ HealthCheckObservations?: HealthCheckObservation[] }>(
          client,
          new GetHealthCheckStatusCommand({ HealthCheckId: id }),
          { service: 'route53', operation: 'GetHealthCheckStatus', retry, signal: ctx.signal },
        )
        observations = out.HealthCheckObservations ?? []
      } catch (error) {
        if (error instanceof AwsAdapterError && error.code === 'ABORTED') throw error
        return sample(false, error instanceof Error ? error.message : String(error))
      }
      if (observations.length === 0) return sample(false, `health check ${id} has no observations`)
      const statuses = observations.map((o) => o.StatusReport?.Status ?? '')
      const healthy = statuses.filter((s) => s.startsWith('Success')).length
      if (healthy / statuses.length > fraction) return sample(true)
      const failure = statuses.find((s) => !s.startsWith('Success')) ?? 'no checker reports success'
      return sample(false, `${healthy}/${statuses.length} checkers healthy: ${failure}`)
    },
  }
}
