/**
 * What every adapter shares: calling an AWS client with the SDK's own retry
 * strategy around the call, a time limit per attempt, abort signals, and
 * telling AWS errors apart.
 *
 * Why retry here as well as in the client: a caller-built client may be set
 * to few or no retries, Route 53 answers `PriorRequestNotComplete` and
 * `Throttling` under load that a failover must ride out, and a hung
 * connection needs a per-attempt limit that the client does not set by
 * default. The loop asks the SDK's own `ConfiguredRetryStrategy` and error
 * classification (`@smithy/core/retry`, the code the clients use
 * internally) whether to retry, so the rules (which errors retry, the retry
 * quota) are AWS's; the backoff (exponential, full jitter) is waited here so
 * that an abort signal cuts it short.
 *
 * @internal
 * @module
 */
import { ConfigError } from '@baton/core'
import {
  ConfiguredRetryStrategy,
  isServerError,
  isThrottlingError,
  isTransientError,
} from '@smithy/core/retry'
import { AwsAdapterError } from './errors.js'

/** How AWS calls are retried. JSDoc on each field: see {@link RetryOptions}. */
export interface RetryOptions {
  /** Attempts per call, first included; default 5. */
  readonly maxAttempts?: number
  /** Backoff before retry n is `baseDelayMs · 2^(n-1)` with full jitter, capped by `maxDelayMs`; default 200. */
  readonly baseDelayMs?: number
  /** Longest backoff (ms); default 10 000. */
  readonly maxDelayMs?: number
  /** Time limit of one attempt (ms) before it is abandoned and retried as a timeout; default 30 000. */
  readonly attemptTimeoutMs?: number
}

/** Anything with the SDK v3 `send(command, {abortSignal})` shape. */
export interface Sender {
  // biome-ignore lint/suspicious/noExplicitAny: every SDK client's send is generic over its commands
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>
}

/** Checks {@link RetryOptions} and fills in defaults. */
export function retrySettings(
  options: RetryOptions | undefined,
  path: string,
): Required<RetryOptions> {
  const out = {
    maxAttempts: options?.maxAttempts ?? 5,
    baseDelayMs: options?.baseDelayMs ?? 200,
    maxDelayMs: options?.maxDelayMs ?? 10_000,
    attemptTimeoutMs: options?.attemptTimeoutMs ?? 30_000,
  }
  if (!Number.isInteger(out.maxAttempts) || out.maxAttempts < 1) {
    throw new ConfigError(
      `${path}.maxAttempts`,
      `must be a positive integer, got ${out.maxAttempts}`,
    )
  }
  for (const field of ['baseDelayMs', 'maxDelayMs', 'attemptTimeoutMs'] as const) {
    nonNegative(out[field], `${path}.${field}`)
  }
  return out
}

/** Checks a non-negative finite number option; `INVALID_CONFIG` naming `path` otherwise. */
export function nonNegative(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(path, `must be a non-negative number, got ${String(value)}`)
  }
  return value
}

/** The AWS error code (`name`) of an SDK error, or undefined. */
export function awsCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as { name?: unknown; Code?: unknown }
  if (typeof e.Code === 'string') return e.Code
  return typeof e.name === 'string' ? e.name : undefined
}

/** The HTTP status of an SDK error's response, or undefined. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata
    ?.httpStatusCode
  return typeof status === 'number' ? status : undefined
}

/** Network-level failures: the server could not be reached or the connection broke. */
export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return (
    typeof code === 'string' &&
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ENOTFOUND',
      'EPIPE',
      'ETIMEDOUT',
      'EAI_AGAIN',
    ].includes(code)
  )
}

function errorType(error: unknown): 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | undefined {
  const e = error as Parameters<typeof isThrottlingError>[0]
  if (isThrottlingError(e)) return 'THROTTLING'
  if (isTransientError(e) || isNetworkError(error)) return 'TRANSIENT'
  if (isServerError(e)) return 'SERVER_ERROR'
  return undefined
}

/** Rejects with `ABORTED` if `signal` has aborted. */
export function throwIfAborted(
  signal: AbortSignal | undefined,
  service: string,
  what: string,
): void {
  if (signal?.aborted === true) {
    throw new AwsAdapterError('ABORTED', service, what, 'aborted', { cause: signal.reason })
  }
}

/** Waits `ms`, rejecting with `ABORTED` as soon as `signal` aborts. */
export function sleep(
  ms: number,
  signal: AbortSignal | undefined,
  service: string,
  what: string,
): Promise<void> {
  throwIfAborted(signal, service, what)
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new AwsAdapterError('ABORTED', service, what, 'aborted', { cause: signal?.reason }))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** A timeout of one attempt, shaped as the SDK's own (`TimeoutError`, retried as transient). */
class AttemptTimeoutError extends Error {
  override readonly name = 'TimeoutError'
}

async function attempt<T>(
  client: Sender,
  command: unknown,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<T> {
  const controller = new AbortController()
  const onAbort = (): void => controller.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new AttemptTimeoutError(`no answer within ${timeoutMs} ms`)
      controller.abort(error)
      reject(error)
    }, timeoutMs)
  })
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), {
      once: true,
    })
  })
  try {
    return (await Promise.race([
      client.send(command, { abortSignal: controller.signal }),
      timedOut,
      aborted,
    ])) as T
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

/** What {@link callAws} needs besides the command. */
export interface CallOptions {
  /** Service name for errors, e.g. `route53`. */
  readonly service: string
  /** Operation name for errors, e.g. `GetChange`. */
  readonly operation: string
  /** Retry settings (from {@link retrySettings}). */
  readonly retry: Required<RetryOptions>
  /** Aborts the call and any backoff. */
  readonly signal?: AbortSignal | undefined
  /** Return the raw SDK error instead of wrapping it (the caller classifies it). */
  readonly raw?: boolean
}

/**
 * Sends `command`, retrying throttling, transient and server errors with
 * the SDK's retry strategy, each attempt limited in time.
 *
 * @throws {@link AwsAdapterError} `ABORTED` when `signal` aborts; `ADAPTER`
 *   (the SDK error as cause) for an error that is not retried or the last
 *   one, unless `raw`, which rethrows the SDK error itself.
 */
export async function callAws<T>(
  client: Sender,
  command: unknown,
  options: CallOptions,
): Promise<T> {
  const { service, operation, retry, signal } = options
  // The SDK's strategy decides whether to retry (error type, attempts, retry
  // quota); its own wait is set to 0 so that the backoff below can be aborted.
  const strategy = new ConfiguredRetryStrategy(retry.maxAttempts, 0)
  let token = await strategy.acquireInitialRetryToken(service)
  for (;;) {
    throwIfAborted(signal, service, operation)
    try {
      const out = await attempt<T>(client, command, retry.attemptTimeoutMs, signal)
      strategy.recordSuccess(token)
      return out
    } catch (error) {
      if (signal?.aborted === true) {
        throw new AwsAdapterError('ABORTED', service, operation, 'aborted', {
          cause: signal.reason,
        })
      }
      const type = errorType(error)
      let retryable = type !== undefined
      if (retryable) {
        try {
          token = await strategy.refreshRetryTokenForRetry(token, {
            errorType: type!,
            error: error as never,
          })
        } catch {
          retryable = false
        }
      }
      if (!retryable) {
        if (options.raw === true) throw error
        const code = awsCode(error)
        const message = error instanceof Error ? error.message : String(error)
        throw new AwsAdapterError(
          'ADAPTER',
          service,
          operation,
          `${code === undefined ? '' : `${code}: `}${message}`,
          { cause: error, awsCode: code },
        )
      }
      const n = token.getRetryCount()
      const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, n - 1))
      await sleep(Math.floor(Math.random() * cap), signal, service, operation)
    }
  }
}
