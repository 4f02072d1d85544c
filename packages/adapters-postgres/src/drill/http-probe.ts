/**
 * A {@link Probe} over HTTP for the local drill: `GET <url>/health` within a
 * time limit; `ok` on a 2xx, `servedBy` from the body's `region`.
 *
 * @module
 */

import type { CallContext, Probe, ProbeSample } from '@baton/core'
import { isBatonError } from '@baton/ledger'
import { bounded, messageOf, throwIfAborted } from '../_sql.js'

/** An HTTP health probe of `region` at `url` (a service, or the global endpoint). */
export function createHttpProbe(region: string, url: string, timeoutMs = 1_000): Probe {
  const name = `http:${url}/health`
  return {
    name,
    region,
    async check(ctx: CallContext): Promise<ProbeSample> {
      throwIfAborted(ctx.signal, name)
      const started = performance.now()
      const controller = new AbortController()
      try {
        const body = await bounded(
          (async () => {
            const res = await fetch(`${url}/health`, { signal: controller.signal })
            const json = (await res.json()) as { region?: string; error?: string }
            if (!res.ok) throw new Error(`HTTP ${res.status}: ${json.error ?? ''}`)
            return json
          })(),
          timeoutMs,
          name,
          ctx.signal,
        )
        return {
          region,
          ok: true,
          at: Date.now(),
          latencyMs: performance.now() - started,
          ...(typeof body.region === 'string' ? { servedBy: body.region } : {}),
        }
      } catch (error) {
        if (isBatonError(error, 'ABORTED')) throw error
        return {
          region,
          ok: false,
          at: Date.now(),
          latencyMs: performance.now() - started,
          error: messageOf(error),
        }
      } finally {
        controller.abort()
      }
    },
  }
}
