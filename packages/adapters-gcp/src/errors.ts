/**
 * Errors thrown by `@baton/adapters-gcp`. Every one is a `BatonError` (from
 * `@baton/ledger`): ledger stores and export targets throw the ledger's own
 * errors (`CONFLICT`, `CLOSED`, `IO`, `INVALID_INPUT`), ports throw the
 * engine's (`INVALID_CONFIG`, `ABORTED`, `TIMEOUT`), and what only a Google
 * Cloud call can go wrong with is a {@link GcpError}.
 *
 * @module
 */
import { BatonError, type BatonErrorOptions } from '@baton/ledger'

/** Every code a {@link GcpError} can carry. */
export type GcpErrorCode =
  /** A Google Cloud API call failed; `cause` holds the client's error, `status` its code. */
  | 'GCP_REQUEST'
  /** A Cloud DNS change ended in a state other than `done`, or never got there. */
  | 'DNS_CHANGE'
  /** Stored data does not have the shape this adapter writes (a foreign or damaged document). */
  | 'GCP_CORRUPT'

/** An error from a Google Cloud adapter. */
export class GcpError extends BatonError<GcpErrorCode> {
  /** The API's status (gRPC code for Firestore, HTTP status for Storage and DNS), when known. */
  readonly status: number | string | undefined

  constructor(
    code: GcpErrorCode,
    message: string,
    options?: BatonErrorOptions & { readonly status?: number | string | undefined },
  ) {
    super(code, message, options)
    this.status = options?.status
  }
}
