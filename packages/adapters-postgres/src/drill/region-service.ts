/**
 * A small real HTTP service for one region of the local drill, on loopback:
 * `GET /health` answers 200 with `{region}` when the region's PostgreSQL
 * answers, `POST /orders` commits one order row on the current primary
 * through the fencing check (the lease epoch of the controller the service
 * embeds) and answers `{region, id, db}` only after the commit.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type pg from 'pg'
import type { Fencing } from '../fencing.js'

/** Options of {@link startRegionService}. */
export interface RegionServiceOptions {
  /** The region it reports. */
  readonly region: string
  /** The port on 127.0.0.1. */
  readonly port: number
  /** The region's own database (health). */
  readonly local: pg.Pool
  /** Where writes go now: the current primary's region and pool (`undefined`: none known). */
  readonly primary: () => Promise<{ readonly region: string; readonly pool: pg.Pool } | undefined>
  /** The fencing check writes go through. */
  readonly fencing: Fencing
  /** The lease epoch writes carry (`undefined`: no lease held, writes refused). */
  readonly epoch: () => number | undefined
}

/** A running region service. */
export interface RegionService {
  readonly region: string
  readonly port: number
  readonly url: string
  /** Stops it hard: open connections are destroyed. */
  kill(): Promise<void>
}

const send = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** Starts a region service. */
export async function startRegionService(options: RegionServiceOptions): Promise<RegionService> {
  const { region } = options
  const sockets = new Set<Socket>()
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET' && req.url === '/health') {
      try {
        await options.local.query('SELECT 1')
        send(res, 200, { region, ok: true })
      } catch (error) {
        send(res, 503, { region, ok: false, error: (error as Error).message })
      }
      return
    }
    if (req.method === 'POST' && req.url?.startsWith('/orders') === true) {
      const epoch = options.epoch()
      const primary = await options.primary().catch(() => undefined)
      if (epoch === undefined || primary === undefined) {
        send(res, 503, { region, error: epoch === undefined ? 'no lease epoch' : 'no primary' })
        return
      }
      try {
        const id = await options.fencing.write(primary.pool, epoch, async (client) => {
          const { rows } = await client.query<{ id: string }>(
            'INSERT INTO drill_orders (served_by, epoch) VALUES ($1, $2) RETURNING id::text AS id',
            [region, epoch],
          )
          return Number(rows[0]!.id)
        })
        send(res, 201, { region, id, db: primary.region })
      } catch (error) {
        send(res, 503, { region, error: (error as Error).message })
      }
      return
    }
    send(res, 404, { region, error: 'not found' })
  }
  const server: Server = createServer((req, res) => {
    req.resume()
    void handle(req, res)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', () => resolve())
  })
  return {
    region,
    port: options.port,
    url: `http://127.0.0.1:${options.port}`,
    async kill() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
