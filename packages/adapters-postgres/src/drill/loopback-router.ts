/**
 * The local drill's global endpoint: an HTTP reverse proxy on loopback that
 * sends each request to a region's service with probability proportional to
 * its weight, and the {@link TrafficRouter} port that moves those weights
 * (one atomic change, in effect for the next request).
 *
 * @module
 */
import { createServer, request, type Server } from 'node:http'
import type { Socket } from 'node:net'
import {
  type CallContext,
  ConfigError,
  type RoutingChange,
  type TrafficRouter,
  type Weights,
} from '@baton/core'
import { throwIfAborted } from '../_sql.js'

/** A running loopback router. */
export interface LoopbackRouter extends TrafficRouter {
  /** The global endpoint, `http://127.0.0.1:<port>`. */
  readonly url: string
  /** Every change applied, in order (the drill's record of traffic shifts). */
  readonly history: readonly { readonly at: number; readonly weights: Weights }[]
  /** Stops the proxy. */
  close(): Promise<void>
}

/** Options of {@link startLoopbackRouter}. */
export interface LoopbackRouterOptions {
  /** The port on 127.0.0.1 (0: any free one). */
  readonly port?: number
  /** Each region's service URL. */
  readonly backends: Readonly<Record<string, string>>
  /** The weights at start. */
  readonly weights: Weights
  /** Random source in [0, 1); default `Math.random`. */
  readonly random?: () => number
}

function checkWeights(weights: Weights, regions: readonly string[]): void {
  if (typeof weights !== 'object' || weights === null)
    throw new ConfigError('weights', 'must be an object')
  for (const [r, w] of Object.entries(weights)) {
    if (!regions.includes(r))
      throw new ConfigError(`weights.${r}`, `unknown region; known: ${regions.join(', ')}`)
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw new ConfigError(`weights.${r}`, 'must be a non-negative number')
  }
}

/** Starts the loopback router. */
export async function startLoopbackRouter(options: LoopbackRouterOptions): Promise<LoopbackRouter> {
  const regions = Object.keys(options.backends)
  checkWeights(options.weights, regions)
  const random = options.random ?? Math.random
  let weights: Weights = { ...options.weights }
  let changes = 0
  const history: { at: number; weights: Weights }[] = [{ at: Date.now(), weights }]
  const sockets = new Set<Socket>()
  const pick = (): string | undefined => {
    const total = regions.reduce((s, r) => s + (weights[r] ?? 0), 0)
    if (total <= 0) return undefined
    let x = random() * total
    for (const r of regions) {
      x -= weights[r] ?? 0
      if (x < 0) return r
    }
    return regions.findLast((r) => (weights[r] ?? 0) > 0)
  }
  const server: Server = createServer((req, res) => {
    const region = pick()
    if (region === undefined) {
      res.writeHead(503).end('{"error":"no region has traffic"}')
      return
    }
    const target = new URL(req.url ?? '/', options.backends[region])
    const upstream = request(
      target,
      { method: req.method, headers: req.headers, timeout: 5_000 },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')))
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: `${region}: ${error.message}` }))
    })
    req.pipe(upstream)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const url = `http://127.0.0.1:${port}`
  return {
    name: `loopback:${url}`,
    url,
    history,
    async getWeights(ctx: CallContext) {
      throwIfAborted(ctx.signal, 'getWeights')
      return { ...weights }
    },
    async setWeights(next: Weights, ctx: CallContext): Promise<RoutingChange> {
      throwIfAborted(ctx.signal, 'setWeights')
      checkWeights(next, regions)
      weights = Object.fromEntries(regions.map((r) => [r, next[r] ?? 0]))
      const at = Date.now()
      history.push({ at, weights })
      return { id: `change-${++changes}`, weights: { ...weights }, submittedAt: at }
    },
    async waitInSync(_change: RoutingChange, ctx: CallContext) {
      throwIfAborted(ctx.signal, 'waitInSync')
    },
    async describe(next: Weights) {
      checkWeights(next, regions)
      return regions.map((r) => `${r}: ${weights[r] ?? 0} → ${next[r] ?? 0}`)
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
