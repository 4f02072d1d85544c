/**
 * A real S3-compatible server for the tests: s3rver (an S3 REST server on the
 * filesystem) behind a small loopback HTTP proxy that enforces conditional
 * writes the way AWS S3 does, since s3rver ignores them.
 *
 * The proxy serializes every write (PUT, POST, DELETE) to one key, and for a
 * PUT or a CompleteMultipartUpload carrying `If-None-Match: *` or
 * `If-Match: <etag>` it first checks the object on s3rver:
 *
 * - `If-None-Match: *` and the object exists → 412 `PreconditionFailed`;
 * - `If-Match` and the object is missing → 404 `NoSuchKey`;
 * - `If-Match` and the ETag differs → 412 `PreconditionFailed`;
 *
 * and forwards the request unchanged otherwise (the signature still holds:
 * the Host header is kept). Because the check and the write happen under one
 * per-key lock in one process, any number of client processes racing through
 * the proxy see exactly AWS's create-only and compare-and-swap semantics.
 *
 * Tests can also inject failures (`inject`): answer the next matching
 * requests with a given status and S3 error code (409
 * `ConditionalRequestConflict`, 503 `SlowDown`, 500 `InternalError`).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import {
  CreateBucketCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import S3rver from 's3rver'

/** The credentials s3rver accepts by default. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

/** A failure the proxy answers instead of forwarding. */
export interface InjectedFailure {
  /** Which requests: method and a substring of the path (with query). */
  readonly method?: string
  readonly pathIncludes?: string
  /** How many matching requests fail; default 1. */
  times?: number
  /** HTTP status, e.g. 503. */
  readonly status: number
  /** S3 error code, e.g. `SlowDown`. */
  readonly code: string
  /** Forward the request first (it takes effect), then answer with the error: a lost response. */
  readonly lose?: boolean
}

/** A running local S3. */
export interface LocalS3 {
  /** The proxy's URL (use this: it enforces conditional writes). */
  readonly endpoint: string
  /** s3rver's own URL (no conditional checks). */
  readonly direct: string
  /** Every request the proxy saw: `METHOD path`. */
  readonly requests: string[]
  /** Fails matching requests (see {@link InjectedFailure}). */
  inject(failure: InjectedFailure): void
  /** An S3 client for the proxy, configured as the adapters need for s3rver. */
  client(extra?: Partial<S3ClientConfig>): S3Client
  /** Client options for the proxy (JSON-serialisable, for child processes). */
  readonly clientConfig: {
    readonly endpoint: string
    readonly region: string
    readonly forcePathStyle: true
    readonly credentials: typeof LOCAL_CREDENTIALS
  }
  /** Creates a bucket. */
  createBucket(name: string): Promise<void>
  /** Writes an object straight to s3rver, bypassing every condition (tampering). */
  overwrite(bucket: string, key: string, body: string | Uint8Array): Promise<void>
  /** Stops both servers and deletes s3rver's files. */
  close(): Promise<void>
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>local</RequestId></Error>`
}

/** `/bucket/key?query` → `bucket/key` (decoded), or undefined for bucket-level requests. */
function objectOf(url: string): string | undefined {
  const path = url.split('?')[0] ?? ''
  const parts = path.split('/').filter((p) => p !== '')
  if (parts.length < 2) return undefined
  return parts.map((p) => decodeURIComponent(p)).join('/')
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.trim().replace(/^W\//, '').replace(/^"|"$/g, '')
}

/** Starts s3rver and the conditional-write proxy on random loopback ports. */
export async function startLocalS3(): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'baton-s3rver-'))
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory })
  const upstream = (await s3rver.run()) as AddressInfo
  const upstreamPort = upstream.port
  const locks = new Map<string, Promise<void>>()
  const failures: InjectedFailure[] = []
  const requests: string[] = []

  const withLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((resolve) => {
      release = resolve
    })
    const chained = previous.then(() => mine)
    locks.set(key, chained)
    await previous
    try {
      return await fn()
    } finally {
      release()
      if (locks.get(key) === chained) locks.delete(key)
    }
  }

  const headUpstream = (url: string): Promise<{ status: number; etag?: string }> =>
    new Promise((resolve, reject) => {
      const path = url.split('?')[0]!
      const req = request(
        { host: '127.0.0.1', port: upstreamPort, method: 'HEAD', path },
        (res) => {
          res.resume()
          const etag = res.headers.etag
          resolve({ status: res.statusCode ?? 0, ...(etag === undefined ? {} : { etag }) })
        },
      )
      req.on('error', reject)
      req.end()
    })

  const drain = (req: IncomingMessage): Promise<void> =>
    new Promise((resolve) => {
      if (req.readableEnded) resolve()
      else {
        req.on('end', resolve)
        req.on('error', () => resolve())
        req.resume()
      }
    })

  const answer = async (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
  ): Promise<void> => {
    await drain(req)
    const body = errorXml(code, message)
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
  }

  const forward = (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    new Promise((resolve) => {
      const headers = { ...req.headers }
      const out = request(
        {
          host: '127.0.0.1',
          port: upstreamPort,
          method: req.method,
          path: req.url,
          headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers)
          up.pipe(res)
          up.on('end', () => resolve())
          up.on('error', () => resolve())
        },
      )
      out.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502)
        res.end(String(error))
        resolve()
      })
      req.pipe(out)
    })

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/'
    const method = req.method ?? 'GET'
    requests.push(`${method} ${url}`)
    const failure = failures.find(
      (f) =>
        (f.times ?? 1) > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.pathIncludes === undefined || url.includes(f.pathIncludes)),
    )
    if (failure !== undefined) {
      failure.times = (failure.times ?? 1) - 1
      if (failure.lose !== true) {
        return answer(req, res, failure.status, failure.code, 'injected by the test')
      }
      const sink = new PassThrough()
      sink.resume()
      await serve(req, Object.assign(sink, { writeHead: () => sink }) as never)
      const body = errorXml(failure.code, 'response lost (injected by the test)')
      res.writeHead(failure.status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
      })
      res.end(body)
      return
    }
    return serve(req, res)
  }

  /** Forwards a request, enforcing conditional writes under the key's lock. */
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/'
    const method = req.method ?? 'GET'
    const object = objectOf(url)
    const isWrite = method === 'PUT' || method === 'POST' || method === 'DELETE'
    if (object === undefined || !isWrite) return forward(req, res)
    return withLock(object, async () => {
      const ifNoneMatch = req.headers['if-none-match']
      const ifMatch = req.headers['if-match']
      const completes = method === 'POST' && url.includes('uploadId=')
      const conditional =
        (method === 'PUT' || completes) && (ifNoneMatch !== undefined || ifMatch !== undefined)
      // A part upload (PUT ?partNumber=&uploadId=) is not the object write itself.
      const isPart = method === 'PUT' && url.includes('uploadId=')
      if (conditional && !isPart) {
        const head = await headUpstream(url)
        const exists = head.status === 200
        if (ifNoneMatch !== undefined) {
          if (ifNoneMatch.trim() !== '*') {
            return answer(req, res, 501, 'NotImplemented', 'If-None-Match supports only *')
          }
          if (exists) {
            return answer(
              req,
              res,
              412,
              'PreconditionFailed',
              'At least one of the pre-conditions you specified did not hold',
            )
          }
        }
        if (ifMatch !== undefined) {
          if (!exists)
            return answer(req, res, 404, 'NoSuchKey', 'The specified key does not exist.')
          if (unquote(ifMatch) !== unquote(head.etag)) {
            return answer(
              req,
              res,
              412,
              'PreconditionFailed',
              'At least one of the pre-conditions you specified did not hold',
            )
          }
        }
      }
      return forward(req, res)
    })
  }

  const proxy = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500)
      res.end(String(error))
    })
  })
  proxy.keepAliveTimeout = 1000
  const port = await listen(proxy)
  const endpoint = `http://127.0.0.1:${port}`
  const clientConfig = {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true as const,
    credentials: LOCAL_CREDENTIALS,
  }
  const clients: S3Client[] = []
  const client = (extra: Partial<S3ClientConfig> = {}): S3Client => {
    const c = new S3Client({
      ...clientConfig,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...extra,
    })
    clients.push(c)
    return c
  }
  return {
    endpoint,
    direct: `http://127.0.0.1:${upstreamPort}`,
    requests,
    inject: (failure) => void failures.push({ ...failure }),
    client,
    clientConfig,
    async createBucket(name) {
      await client().send(new CreateBucketCommand({ Bucket: name }))
    },
    async overwrite(bucket, key, body) {
      const direct = client({ endpoint: `http://127.0.0.1:${upstreamPort}` })
      await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
    },
    async close() {
      for (const c of clients) c.destroy()
      proxy.closeAllConnections()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
      await s3rver.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}
