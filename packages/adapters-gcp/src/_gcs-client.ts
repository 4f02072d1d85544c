/**
 * The Cloud Storage client the Storage adapters share (the caller's, or one
 * created and cached, see `_clients.ts`) and the create-only upload both
 * use: a single-request upload with `ifGenerationMatch: 0`, so the object is
 * created whole or not at all, and only if no live object has the name.
 *
 * @module
 */
import { createHash, randomUUID } from 'node:crypto'
import { ConfigError } from '@baton/core'
import { Storage } from '@google-cloud/storage'
import { acquireClient, borrowedClient, type ClientRef } from './_clients.js'

/** Options every Cloud Storage adapter takes to reach Cloud Storage. */
export interface GcsConnectionOptions {
  /** A client you built (settings, credentials, retries and lifetime are yours). Takes precedence over the fields below. */
  readonly client?: Storage
  /** Google Cloud project id; default from the environment. */
  readonly projectId?: string
  /**
   * Another API endpoint, e.g. an emulator: `http://127.0.0.1:9199`. Requests
   * to it carry no credentials.
   */
  readonly endpoint?: string
}

/** Takes a reference to the Storage client for `options`. */
export function storageClient(options: GcsConnectionOptions): ClientRef<Storage> {
  if (options.client !== undefined) return borrowedClient(options.client)
  let endpoint: string | undefined
  if (options.endpoint !== undefined) {
    try {
      const url = new URL(options.endpoint)
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme')
      endpoint = url.origin
    } catch {
      throw new ConfigError(
        'endpoint',
        `must be an http:// or https:// URL, got ${JSON.stringify(options.endpoint)}`,
      )
    }
  }
  const key = JSON.stringify(['storage', options.projectId, endpoint])
  return acquireClient(
    key,
    () =>
      new Storage({
        ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
        ...(endpoint === undefined ? {} : { apiEndpoint: endpoint }),
      }),
    async () => {},
  )
}

/** The HTTP status of a Storage error, if it has one. */
export function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

/** Checks a bucket name (Cloud Storage's rules, loosely: 3–222 characters of a-z 0-9 - _ .). */
export function checkBucket(bucket: unknown, path = 'bucket'): string {
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(
      path,
      `must be a Cloud Storage bucket name, got ${JSON.stringify(bucket)}`,
    )
  }
  return bucket
}

/** Checks an object name prefix: no leading or trailing `/`, no empty, `.` or `..` segment. */
export function checkPrefix(prefix: unknown, path = 'prefix'): string {
  if (prefix === undefined || prefix === '') return ''
  if (typeof prefix !== 'string') throw new ConfigError(path, 'must be a string')
  const segments = prefix.split('/')
  if (segments.some((s) => s === '' || s === '.' || s === '..') || prefix.includes('\0')) {
    throw new ConfigError(path, `${JSON.stringify(prefix)} must be /-separated non-empty segments`)
  }
  return prefix
}

/** Extra metadata for a create-only upload. */
interface CreateOnlyMetadata {
  readonly contentType?: string
  readonly temporaryHold?: boolean
  readonly eventBasedHold?: boolean
}

/** A Storage JSON API error answered to a create-only upload: `code` is the HTTP status. */
class UploadError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Creates `name` in `bucket` from `chunks` with `ifGenerationMatch=0`, as one
 * multipart upload request streamed as the chunks come (each copied as it
 * passes: a producer may refill its buffer). The object exists only once the
 * request completes: if the body fails part way the request is aborted and
 * nothing is created; the server answers 412 when a live object has the name.
 * The stored object's MD5 is checked against the bytes sent.
 *
 * The request goes to the client's endpoint with the client's credentials
 * (none for a custom endpoint unless the client was built with
 * `useAuthWithCustomEndpoint`). It is not retried: a retry after a lost reply
 * would meet its own object, which callers resolve by reading it back.
 *
 * @throws {@link UploadError} for an HTTP error; {@link BodyError} holding the body's own error.
 */
export async function uploadCreateOnly(
  storage: Storage,
  bucket: string,
  name: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  metadata: CreateOnlyMetadata = {},
): Promise<void> {
  const boundary = `baton-${randomUUID()}`
  const resource = JSON.stringify({
    name,
    contentType: metadata.contentType ?? 'application/octet-stream',
    ...(metadata.temporaryHold === true ? { temporaryHold: true } : {}),
    ...(metadata.eventBasedHold === true ? { eventBasedHold: true } : {}),
  })
  const opening = Buffer.from(
    `--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${resource}\r\n` +
      `--${boundary}\r\ncontent-type: ${metadata.contentType ?? 'application/octet-stream'}\r\n\r\n`,
  )
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`)
  const md5 = createHash('md5')
  const abort = new AbortController()
  let bodyError: { error: unknown } | undefined
  const source = (
    Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (chunks as Iterable<Uint8Array>)[Symbol.iterator]()
  ) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>
  let stage: 'opening' | 'body' | 'done' = 'opening'
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 'opening') {
        stage = 'body'
        controller.enqueue(opening)
        return
      }
      let next: IteratorResult<Uint8Array>
      try {
        next = await source.next()
      } catch (error) {
        bodyError = { error }
        abort.abort()
        controller.error(error)
        return
      }
      if (next.done === true) {
        stage = 'done'
        controller.enqueue(closing)
        controller.close()
        return
      }
      const copy = Buffer.from(next.value)
      md5.update(copy)
      controller.enqueue(copy)
    },
    async cancel() {
      await source.return?.()
    },
  })
  const url = new URL(`${storage.apiEndpoint}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o`)
  url.searchParams.set('uploadType', 'multipart')
  url.searchParams.set('name', name)
  url.searchParams.set('ifGenerationMatch', '0')
  const headers = new Headers(await authHeaders(storage, url.href))
  headers.set('content-type', `multipart/related; boundary=${boundary}`)
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: abort.signal,
      duplex: 'half',
    } as RequestInit)
  } catch (error) {
    if (bodyError !== undefined) throw new BodyError(bodyError.error)
    throw error
  }
  if (bodyError !== undefined) {
    await response.body?.cancel()
    throw new BodyError(bodyError.error)
  }
  const text = await response.text()
  if (!response.ok) {
    let message = text
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message
    } catch {
      /* not JSON: keep the text */
    }
    throw new UploadError(response.status, `HTTP ${response.status}: ${message.slice(0, 500)}`)
  }
  let stored: { md5Hash?: unknown }
  try {
    stored = JSON.parse(text) as { md5Hash?: unknown }
  } catch {
    throw new UploadError(502, 'the upload answered something other than object metadata')
  }
  if (typeof stored.md5Hash === 'string' && stored.md5Hash !== md5.digest('base64')) {
    throw new UploadError(
      502,
      `the stored object's MD5 (${stored.md5Hash}) differs from the bytes sent`,
    )
  }
}

/** The headers that authorize a request the way `storage` would. */
async function authHeaders(
  storage: Storage,
  url: string,
): Promise<ConstructorParameters<typeof Headers>[0]> {
  const s = storage as unknown as {
    customEndpoint?: boolean
    useAuthWithCustomEndpoint?: boolean
    authClient: {
      getRequestHeaders(url?: string): Promise<ConstructorParameters<typeof Headers>[0]>
    }
  }
  if (s.customEndpoint === true && s.useAuthWithCustomEndpoint !== true) return {}
  return await s.authClient.getRequestHeaders(url)
}

/** The body of an upload failed (not the request): {@link error} is what it threw. */
export class BodyError extends Error {
  constructor(readonly error: unknown) {
    super('the body failed')
  }
}
