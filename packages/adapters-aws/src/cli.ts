/**
 * The CLI's entry into this package (`@baton/adapters-aws/cli`): `baton`
 * opens `s3://bucket/prefix` ledgers and export targets through it.
 *
 * Credentials and region come from the standard AWS chain; the variables
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
 * `AWS_REGION` / `AWS_DEFAULT_REGION` in the environment the CLI passes
 * take precedence. `--endpoint` (`BATON_ENDPOINT`) points at an
 * S3-compatible server (MinIO, Ceph), with path-style addressing; without
 * a region it then uses `us-east-1`.
 *
 * @module
 */
import type { ExportTarget, LedgerStore } from '@baton/ledger'
import { InvalidInputError } from '@baton/ledger'
import type { S3ConnectionOptions } from './_s3.js'
import { createS3ExportTarget } from './s3-export-target.js'
import { openS3LedgerStore } from './s3-ledger-store.js'

/** What the CLI passes (structurally the CLI's `CliAdapterOptions`). */
export interface CliOpenOptions {
  /** The option or argument that named the URL, for messages. */
  readonly name: string
  /** An S3-compatible server, e.g. `http://127.0.0.1:9000`. */
  readonly endpoint?: string
  /** Only reads follow: the ledger is opened read-only and not created. */
  readonly readOnly?: boolean
  /** The environment the CLI runs in. */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** Bucket, prefix and connection of an `s3://bucket/prefix` URL. */
export function s3Location(
  url: URL,
  options: CliOpenOptions,
): S3ConnectionOptions & { bucket: string; prefix: string } {
  if (url.protocol !== 's3:') {
    throw new InvalidInputError(options.name, `${url.href}: not an s3:// URL`)
  }
  if (url.username !== '' || url.password !== '' || url.port !== '') {
    throw new InvalidInputError(
      options.name,
      `${url.href}: s3://bucket/prefix takes no user, password or port`,
    )
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidInputError(
      options.name,
      `${url.href}: s3://bucket/prefix takes no query or fragment`,
    )
  }
  const bucket = url.hostname
  if (bucket === '')
    throw new InvalidInputError(options.name, `${url.href}: no bucket (s3://bucket/prefix)`)
  const prefix = decodeURIComponent(url.pathname.replace(/^\//, '')).replace(/\/+$/, '')
  const env = options.env
  const region =
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    (options.endpoint === undefined ? undefined : 'us-east-1')
  const id = env.AWS_ACCESS_KEY_ID
  const secret = env.AWS_SECRET_ACCESS_KEY
  return {
    bucket,
    prefix,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(id !== undefined && secret !== undefined
      ? {
          credentials: {
            accessKeyId: id,
            secretAccessKey: secret,
            ...(env.AWS_SESSION_TOKEN === undefined ? {} : { sessionToken: env.AWS_SESSION_TOKEN }),
          },
        }
      : {}),
  }
}

/**
 * Opens the ledger at `s3://bucket/prefix`: read-only when only reads
 * follow, else created when the prefix holds none.
 */
export function openLedger(url: URL, options: CliOpenOptions): Promise<LedgerStore> {
  const location = s3Location(url, options)
  return openS3LedgerStore(
    options.readOnly === true ? { ...location, readOnly: true } : { ...location, create: true },
  )
}

/** The export target at `s3://bucket/prefix`. */
export async function openTarget(url: URL, options: CliOpenOptions): Promise<ExportTarget> {
  return createS3ExportTarget(s3Location(url, options))
}
