/**
 * Internal building blocks of the health detectors: a sliding window over
 * sample time kept as a ring of fixed-width buckets, so memory per region is
 * constant and adding a sample is O(1) amortized (at most `buckets` slots are
 * touched, and only when time has moved by that many buckets).
 *
 * @module
 */
import { ConfigError } from './errors.js'
import type { TripStatus, WindowConfig } from './health.js'

/** The most buckets a window may have (bounds memory per region and detector). */
export const MAX_BUCKETS = 10_000

/**
 * Sums of probe outcomes and request counts over the last `buckets` buckets
 * of `resolution` ms each, ending with the bucket of the newest sample.
 *
 * A sample at time `at` lands in bucket `floor(at / resolution)`; the window
 * holds the buckets `(head - buckets, head]`, where `head` is the bucket of
 * the newest sample. So the window spans between `window - resolution` and
 * `window` ms of history, and moves only when samples arrive.
 */
export class BucketWindow {
  /** Width of one bucket, ms. */
  readonly resolution: number
  /** Number of buckets. */
  readonly buckets: number
  /** Samples in the window. */
  samples = 0
  /** Samples with `ok: false` in the window. */
  failures = 0
  /** Sum of `requests.total` in the window. */
  requests = 0
  /** Sum of `requests.errors` in the window. */
  errors = 0

  private readonly ids: Float64Array
  private readonly slotSamples: Float64Array
  private readonly slotFailures: Float64Array
  private readonly slotRequests: Float64Array
  private readonly slotErrors: Float64Array
  private head = Number.NEGATIVE_INFINITY

  constructor(window: number, resolution: number) {
    this.resolution = resolution
    this.buckets = Math.ceil(window / resolution)
    const n = this.buckets
    this.ids = new Float64Array(n).fill(Number.NEGATIVE_INFINITY)
    this.slotSamples = new Float64Array(n)
    this.slotFailures = new Float64Array(n)
    this.slotRequests = new Float64Array(n)
    this.slotErrors = new Float64Array(n)
  }

  /** The bucket `at` falls in. */
  bucketOf(at: number): number {
    return Math.floor(at / this.resolution)
  }

  /**
   * Adds one sample. `at` must not be older than the newest sample's bucket
   * (an older one is counted in the newest bucket).
   */
  add(at: number, ok: boolean, requests: number, errors: number): void {
    let b = this.bucketOf(at)
    if (b > this.head) this.advance(b)
    else b = this.head
    const s = this.slot(b)
    this.slotSamples[s]! += 1
    this.samples += 1
    if (!ok) {
      this.slotFailures[s]! += 1
      this.failures += 1
    }
    if (requests > 0) {
      this.slotRequests[s]! += requests
      this.slotErrors[s]! += errors
      this.requests += requests
      this.errors += errors
    }
  }

  /** Empties the window. */
  clear(): void {
    this.ids.fill(Number.NEGATIVE_INFINITY)
    this.slotSamples.fill(0)
    this.slotFailures.fill(0)
    this.slotRequests.fill(0)
    this.slotErrors.fill(0)
    this.head = Number.NEGATIVE_INFINITY
    this.samples = 0
    this.failures = 0
    this.requests = 0
    this.errors = 0
  }

  private slot(bucket: number): number {
    const n = this.buckets
    return ((bucket % n) + n) % n
  }

  /** Moves the head to bucket `b` (> head), evicting buckets that leave the window. */
  private advance(b: number): void {
    const n = this.buckets
    if (b - this.head >= n) {
      // Everything counted so far is out of the window. Slots keep stale ids
      // (all <= b - n), which the loop below never subtracts again.
      this.samples = 0
      this.failures = 0
      this.requests = 0
      this.errors = 0
      this.reset(this.slot(b), b)
    } else {
      const oldest = this.head - n
      for (let k = this.head + 1; k <= b; k++) {
        const s = this.slot(k)
        if (this.ids[s]! > oldest) {
          // The slot holds bucket k - n, which leaves the window now.
          this.samples -= this.slotSamples[s]!
          this.failures -= this.slotFailures[s]!
          this.requests -= this.slotRequests[s]!
          this.errors -= this.slotErrors[s]!
        }
        this.reset(s, k)
      }
    }
    this.head = b
  }

  private reset(s: number, id: number): void {
    this.ids[s] = id
    this.slotSamples[s] = 0
    this.slotFailures[s] = 0
    this.slotRequests[s] = 0
    this.slotErrors[s] = 0
  }
}

// --- configuration checks (resolveHealthConfig) ---

type Num = (path: string, value: unknown, fallback: number, check: NumCheck) => number
type NumCheck = 'positive' | 'count' | 'ratio' | 'nonnegative'

/** A number option: `fallback` when absent, else checked. */
export const num: Num = (path, value, fallback, check) => {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigError(path, 'must be a finite number')
  if (check === 'positive' && value <= 0) throw new ConfigError(path, 'must be positive')
  if (check === 'nonnegative' && value < 0) throw new ConfigError(path, 'must not be negative')
  if (check === 'count' && (!Number.isInteger(value) || value < 1))
    throw new ConfigError(path, 'must be a positive integer')
  if (check === 'ratio' && (value < 0 || value > 1))
    throw new ConfigError(path, 'must be between 0 and 1')
  return value
}

/** An options object with only `keys`. */
export function object(
  path: string,
  value: unknown,
  keys: readonly string[],
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(path, 'must be an object')
  for (const key of Object.keys(value)) {
    if (!keys.includes(key))
      throw new ConfigError(path === '' ? key : `${path}.${key}`, 'unknown field')
  }
  return value as Record<string, unknown>
}

/** A detector's trip status option. */
export function tripStatus(path: string, value: unknown, fallback: TripStatus): TripStatus {
  if (value === undefined) return fallback
  if (value !== 'degraded' && value !== 'down')
    throw new ConfigError(path, "must be 'degraded' or 'down'")
  return value
}

/** The options every windowed detector shares; resolution defaults to 60 buckets of a custom window. */
export function windowed(
  path: string,
  raw: Record<string, unknown>,
  d: Required<WindowConfig>,
): Required<WindowConfig> {
  const window = num(`${path}.window`, raw.window, d.window, 'positive')
  const resolution = num(
    `${path}.resolution`,
    raw.resolution,
    raw.window === undefined ? d.resolution : Math.max(1, Math.round(window / 60)),
    'positive',
  )
  if (resolution > window) throw new ConfigError(`${path}.resolution`, 'must not exceed the window')
  if (Math.ceil(window / resolution) > MAX_BUCKETS)
    throw new ConfigError(
      `${path}.resolution`,
      `too fine: at most ${MAX_BUCKETS} buckets per window`,
    )
  return {
    window,
    resolution,
    minSamples: num(`${path}.minSamples`, raw.minSamples, d.minSamples, 'count'),
    status: tripStatus(`${path}.status`, raw.status, d.status),
  }
}
