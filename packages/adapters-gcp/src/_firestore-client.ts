/**
 * The Firestore client the Firestore adapters share: the caller's, or one
 * created from the options and cached (see `_clients.ts`).
 *
 * @module
 */

import { ConfigError } from '@baton/core'
import { Firestore } from '@google-cloud/firestore'
import { acquireClient, borrowedClient, type ClientRef, emulatorAuthClient } from './_clients.js'

/** Options every Firestore adapter takes to reach Firestore. */
export interface FirestoreConnectionOptions {
  /** A client you built (its settings, credentials and lifetime are yours). Takes precedence over the fields below. */
  readonly client?: Firestore
  /** Google Cloud project id; default from the environment (`GOOGLE_CLOUD_PROJECT`, credentials). Required with {@link endpoint}. */
  readonly projectId?: string
  /** Firestore database id; default `(default)`. */
  readonly databaseId?: string
  /**
   * An emulator or local endpoint, `host:port` (or `http://host:port`): plain
   * gRPC without TLS and without credentials.
   */
  readonly endpoint?: string
}

/** `host:port` of an endpoint given with or without `http://`. */
function endpointHost(endpoint: string, path: string): string {
  const text = endpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '')
  if (!/^[^/\s]+:\d+$/.test(text)) {
    throw new ConfigError(
      path,
      `must be host:port or http://host:port, got ${JSON.stringify(endpoint)}`,
    )
  }
  return text
}

/** Takes a reference to the Firestore client for `options`. */
export function firestoreClient(options: FirestoreConnectionOptions): ClientRef<Firestore> {
  if (options.client !== undefined) return borrowedClient(options.client)
  const host =
    options.endpoint === undefined ? undefined : endpointHost(options.endpoint, 'endpoint')
  if (host !== undefined && (options.projectId === undefined || options.projectId === '')) {
    throw new ConfigError(
      'projectId',
      'is required with an endpoint (emulators have no default project)',
    )
  }
  const key = JSON.stringify(['firestore', options.projectId, options.databaseId, host])
  return acquireClient(
    key,
    () =>
      new Firestore({
        ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
        ...(options.databaseId === undefined ? {} : { databaseId: options.databaseId }),
        ...(host === undefined
          ? {}
          : { host, ssl: false, authClient: emulatorAuthClient() as never }),
      }),
    (client) => client.terminate(),
  )
}

/** The gRPC status code of a Firestore error, if it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

/** gRPC `ALREADY_EXISTS`: a `create()` found its document taken. */
export const ALREADY_EXISTS = 6

/** Checks a Firestore path of `segments` parity: documents have an even number of segments. */
export function checkDocumentPath(path: unknown, name: string): string {
  if (typeof path !== 'string' || path === '') {
    throw new ConfigError(name, `must be a non-empty document path, got ${JSON.stringify(path)}`)
  }
  const segments = path.split('/')
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('__'))) {
    throw new ConfigError(name, `${JSON.stringify(path)} has an empty, dot or reserved segment`)
  }
  if (segments.length % 2 !== 0) {
    throw new ConfigError(
      name,
      `${JSON.stringify(path)} is a collection path; give a document path (collection/document, e.g. ledgers/orders)`,
    )
  }
  return path
}

/** The client's project id (known once it has made a request), or the one configured. */
export function projectOf(db: Firestore, configured: string | undefined): string {
  if (configured !== undefined) return configured
  try {
    return (db as unknown as { readonly projectId: string }).projectId
  } catch {
    return '(project)'
  }
}
