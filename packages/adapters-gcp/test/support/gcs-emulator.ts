/**
 * Starts the Cloud Storage emulator of `firebase-tools` in this process,
 * without Java: its HTTP app is created and served directly (the storage
 * rules runtime, the part that needs Java, is never started; every request
 * is an admin request). In front of it runs a loopback proxy that enforces
 * what the emulator ignores: `ifGenerationMatch` preconditions on uploads,
 * checked and applied one request at a time per object, answering 412
 * `conditionNotMet` as Cloud Storage does. The proxy also records requests
 * (for contract checks) and can inject failures.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { within } from './deadline.ts'

const require = createRequire(import.meta.url)

interface StorageEmulatorLike {
  args: { port: number }
  stop(): Promise<void>
}

/** One request the proxy saw. */
export interface RecordedRequest {
  readonly method: string
  readonly url: string
  /** The first 8 KiB of an upload's body (its metadata part comes first). */
  readonly bodyHead: string
}

/** A running emulator behind its precondition proxy. */
export interface GcsEmulator {
  /** `http://127.0.0.1:<proxy port>`: give this to clients. */
  readonly endpoint: string
  /** Every request so far. */
  readonly requests: RecordedRequest[]
  /** Preconditions the proxy refused (412). */
  refused(): number
  /** Answers the next `count` requests matching `match` with `status` instead of forwarding them. */
  fail(count: number, status: number, match?: (method: string, url: string) => boolean): void
  stop(): Promise<void>
}

const CONDITION_NOT_MET = JSON.stringify({
  error: {
    code: 412,
    message: 'At least one of the pre-conditions you specified did not hold.',
    errors: [{ domain: 'global', reason: 'conditionNotMet', message: 'Precondition Failed' }],
  },
})

/** Starts the emulator and its proxy on 127.0.0.1, random free ports, within 30 s. */
export function startGcsEmulator(): Promise<GcsEmulator> {
  return within(start(), 30_000, 'starting the Cloud Storage emulator')
}

async function start(): Promise<GcsEmulator> {
  const { StorageEmulator } = require('firebase-tools/lib/emulator/storage') as {
    StorageEmulator: new (args: object) => StorageEmulatorLike
  }
  const { createApp } = require('firebase-tools/lib/emulator/storage/server') as {
    createApp(projectId: string, emulator: unknown): Promise<http.RequestListener>
  }
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry') as {
    EmulatorRegistry: { set(name: string, e: unknown): void; clear(name: string): void }
  }
  const blobs = await mkdtemp(join(tmpdir(), 'baton-gcs-emulator-'))
  // Its blobs go to a directory of this run, not the shared default.
  class Emulator extends StorageEmulator {
    getPersistenceTmpDir(): string {
      return blobs
    }
  }
  const emulator = new Emulator({
    projectId: 'baton-test',
    host: '127.0.0.1',
    port: 0,
    rules: { name: 'none', content: '' },
  })
  const app = await createApp('baton-test', emulator)
  const backend = http.createServer(app)
  await listen(backend)
  emulator.args.port = (backend.address() as AddressInfo).port
  // The emulator builds self links from its registry entry.
  EmulatorRegistry.set('storage', emulator)

  const upstream = `http://127.0.0.1:${emulator.args.port}`
  const requests: RecordedRequest[] = []
  const locks = new Map<string, Promise<void>>()
  let refusedCount = 0
  const holds = new Map<string, { temporary: boolean; eventBased: boolean }>()
  const created = new Map<string, number>()
  const retention = new Map<string, number>()
  const protectedBy = (bucket: string, key: string): string | undefined => {
    const hold = holds.get(key)
    if (hold?.temporary === true)
      return `Object '${key}' is under active Temporary hold and cannot be deleted`
    if (hold?.eventBased === true)
      return `Object '${key}' is under active Event-Based hold and cannot be deleted`
    const period = retention.get(bucket) ?? 0
    const at = created.get(key)
    if (period > 0 && at !== undefined && Date.now() - at < period * 1000) {
      return `Object '${key}' is subject to bucket's retention policy and cannot be deleted until it is ${period} s old`
    }
    return undefined
  }
  const faults: { count: number; status: number; match: (m: string, u: string) => boolean }[] = []

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, head: Buffer[]) =>
    new Promise<number>((resolveStatus) => {
      let status = 0
      const resolve = () => resolveStatus(status)
      const out = http.request(
        `${upstream}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          status = answer.statusCode ?? 502
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
          answer.on('end', resolve)
          answer.on('error', resolve)
        },
      )
      out.on('error', () => {
        if (!res.headersSent) res.writeHead(502)
        res.end()
        resolve()
      })
      for (const chunk of head) out.write(chunk)
      req.pipe(out)
      // A client that gives up mid-request abandons the upstream request too.
      req.on('error', () => out.destroy())
      res.on('close', () => {
        if (!res.writableFinished) out.destroy()
        resolve()
      })
      out.on('close', resolve)
    })

  const generationOf = async (bucket: string, name: string): Promise<string> => {
    const r = await fetch(`${upstream}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`)
    if (r.status === 404) return '0'
    const meta = (await r.json()) as { generation?: string | number }
    return String(meta.generation ?? '0')
  }

  const proxy = http.createServer((req, res) => {
    const handle = async (): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://proxy')
      const record: { method: string; url: string; bodyHead: string } = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        bodyHead: '',
      }
      requests.push(record)
      const fault = faults.find((f) => f.count > 0 && f.match(record.method, record.url))
      if (fault !== undefined) {
        fault.count--
        req.resume()
        res.writeHead(fault.status, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { code: fault.status, message: 'injected by the test' } }))
        return
      }
      const object = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname)
      const bucketPath = /^\/storage\/v1\/b\/([^/]+)$/.exec(url.pathname)
      if (object !== null && (req.method === 'DELETE' || req.method === 'PATCH')) {
        const key = `${object[1]}/${decodeURIComponent(object[2]!)}`
        if (req.method === 'DELETE') {
          const why = protectedBy(object[1]!, key)
          if (why !== undefined) {
            req.resume()
            res.writeHead(403, { 'content-type': 'application/json' })
            res.end(
              JSON.stringify({
                error: {
                  code: 403,
                  message: why,
                  errors: [{ reason: 'retentionPolicyNotMet', message: why }],
                },
              }),
            )
            return
          }
          const status = await forward(req, res, [])
          if (status < 300) {
            holds.delete(key)
            created.delete(key)
          }
          return
        }
        const patch = (await readJson(req)) as { temporaryHold?: boolean; eventBasedHold?: boolean }
        const meta = await fetch(`${upstream}/storage/v1/b/${object[1]}/o/${object[2]}`)
        if (meta.status !== 200) {
          res.writeHead(meta.status, { 'content-type': 'application/json' })
          res.end(await meta.text())
          return
        }
        const hold = { ...(holds.get(key) ?? { temporary: false, eventBased: false }) }
        if (typeof patch.temporaryHold === 'boolean') hold.temporary = patch.temporaryHold
        if (typeof patch.eventBasedHold === 'boolean') {
          // Releasing an event-based hold starts the retention period afresh.
          if (hold.eventBased && !patch.eventBasedHold) created.set(key, Date.now())
          hold.eventBased = patch.eventBasedHold
        }
        holds.set(key, hold)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            ...((await meta.json()) as object),
            temporaryHold: hold.temporary,
            eventBasedHold: hold.eventBased,
          }),
        )
        return
      }
      if (bucketPath !== null && req.method === 'PATCH') {
        const patch = (await readJson(req)) as {
          retentionPolicy?: { retentionPeriod?: string | number } | null
        }
        const period = Number(patch.retentionPolicy?.retentionPeriod ?? 0)
        retention.set(bucketPath[1]!, period)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            kind: 'storage#bucket',
            name: bucketPath[1],
            ...(period > 0
              ? {
                  retentionPolicy: {
                    retentionPeriod: String(period),
                    effectiveTime: new Date().toISOString(),
                  },
                }
              : {}),
          }),
        )
        return
      }
      const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname)
      const wanted = url.searchParams.get('ifGenerationMatch')
      const name = url.searchParams.get('name')
      if (req.method !== 'POST' || upload === null || wanted === null || name === null) {
        await forward(req, res, [])
        return
      }
      // Keep the head of the body for contract checks, without holding the rest.
      const head: Buffer[] = []
      const key = `${upload[1]}/${name}`
      const previous = locks.get(key) ?? Promise.resolve()
      let release!: () => void
      const mine = new Promise<void>((resolve) => {
        release = resolve
      })
      const chained = previous.then(() => mine)
      locks.set(key, chained)
      await previous
      try {
        const generation = await generationOf(upload[1]!, name)
        if (generation !== wanted) {
          refusedCount++
          req.resume()
          res.writeHead(412, { 'content-type': 'application/json' })
          res.end(CONDITION_NOT_MET)
          return
        }
        req.on('data', (chunk: Buffer) => {
          if (record.bodyHead.length < 8192)
            record.bodyHead += chunk.toString('latin1').slice(0, 8192)
        })
        const status = await forward(req, res, head)
        if (status >= 200 && status < 300) {
          created.set(key, Date.now())
          holds.set(key, {
            temporary: record.bodyHead.includes('"temporaryHold":true'),
            eventBased: record.bodyHead.includes('"eventBasedHold":true'),
          })
        }
      } finally {
        release()
        if (locks.get(key) === chained) locks.delete(key)
      }
    }
    handle().catch(() => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
  })
  await listen(proxy)
  const port = (proxy.address() as AddressInfo).port
  let stopped = false
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    refused: () => refusedCount,
    fail(count, status, match = () => true) {
      faults.push({ count, status, match })
    },
    async stop() {
      if (stopped) return
      stopped = true
      await close(proxy)
      await close(backend)
      EmulatorRegistry.clear('storage')
      await rm(blobs, { recursive: true, force: true })
    },
  }
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return {}
  }
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

let counter = 0
/** A fresh prefix for one test. */
export function freshPrefix(base = 'p'): string {
  counter++
  return `${base}/t${process.pid}-${Date.now().toString(36)}-${counter}`
}
