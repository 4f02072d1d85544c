/**
 * What the S3 adapters share: the connection options, the client they
 * create and cache when the caller gives none, key prefixes, and reading
 * an object body.
 *
 * @internal
 * @module
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { ConfigError } from '@baton/core'
import { awsCode, httpStatus } from './_aws.js'

/** How an S3 adapter reaches its bucket. */
export interface S3ConnectionOptions {
  /** A client you built (its region, credentials, endpoint and retries are used as they are); it is not destroyed on close. */
  readonly client?: S3Client
  /** Region of the client the adapter creates (default: the standard AWS chain, `AWS_REGION`). */
  readonly region?: string
  /**
   * An S3-compatible server (MinIO, Ceph, a local test server), e.g.
   * `http://127.0.0.1:9000`. Implies `forcePathStyle` and checksums only
   * when required (many such servers reject the newer default checksums).
   */
  readonly endpoint?: string
  /** Path-style addressing (`endpoint/bucket/key`); default true with `endpoint`, else false. */
  readonly forcePathStyle?: boolean
  /** Static credentials for the created client (default: the standard AWS chain). */
  readonly credentials?: S3ClientConfig['credentials']
  /** Extra settings for the created client (merged last). */
  readonly clientConfig?: S3ClientConfig
}

/** A client and whether the adapter owns it (created it, so destroys it on close). */
export interface OwnedClient {
  readonly client: S3Client
  readonly owned: boolean
}

/** The caller's client, or a new one from the options. */
export function s3Client(options: S3ConnectionOptions): OwnedClient {
  if (options.client !== undefined) return { client: options.client, owned: false }
  const custom = options.endpoint !== undefined
  const config: S3ClientConfig = {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(custom
      ? {
          endpoint: options.endpoint,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
    forcePathStyle: options.forcePathStyle ?? custom,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...options.clientConfig,
  }
  return { client: new S3Client(config), owned: true }
}

/** Checks a bucket name (the S3 rules that matter for URLs) and a key prefix. */
export function checkBucketAndPrefix(
  bucket: unknown,
  prefix: unknown,
): { bucket: string; prefix: string } {
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(
      'bucket',
      `must be an S3 bucket name (3–63 of a-z 0-9 . -), got ${JSON.stringify(bucket)}`,
    )
  }
  const p = prefix ?? ''
  if (typeof p !== 'string') throw new ConfigError('prefix', `must be a string, got ${typeof p}`)
  if (p.startsWith('/') || p.includes('//')) {
    throw new ConfigError(
      'prefix',
      `must be a relative key prefix without empty segments, got ${JSON.stringify(p)}`,
    )
  }
  return { bucket, prefix: p === '' || p.endsWith('/') ? p : `${p}/` }
}

/** True for "no such object" answers (404, `NoSuchKey`, `NotFound`). */
export function isNotFound(error: unknown): boolean {
  const code = awsCode(error)
  return code === 'NoSuchKey' || code === 'NotFound' || httpStatus(error) === 404
}

/** True for a failed precondition (412 `PreconditionFailed`). */
export function isPreconditionFailed(error: unknown): boolean {
  return awsCode(error) === 'PreconditionFailed' || httpStatus(error) === 412
}

/** True for S3's 409 `ConditionalRequestConflict` (another conditional write to the key is in flight). */
export function isConditionalConflict(error: unknown): boolean {
  return awsCode(error) === 'ConditionalRequestConflict' || httpStatus(error) === 409
}

/** The chunks of a GetObject body (a Node.js Readable, or a web stream elsewhere). */
export async function* bodyChunks(body: unknown): AsyncIterable<Uint8Array> {
  if (body === undefined || body === null) return
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    }
    return
  }
  const bytes = await (
    body as { transformToByteArray(): Promise<Uint8Array> }
  ).transformToByteArray()
  yield bytes
}

/** The whole body of a GetObject answer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of bodyChunks(body)) parts.push(chunk)
  return Buffer.concat(parts)
}
