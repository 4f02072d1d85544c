/**
 * Errors thrown by `@baton/adapters-aws`. Every one is a `BatonError` (from
 * `@baton/ledger`): configuration problems are `@baton/core`'s `ConfigError`
 * (`INVALID_CONFIG`, naming the field), stale epochs its `FencedError`
 * (`FENCED`), ledger stores throw `@baton/ledger`'s errors (`CONFLICT`, `IO`,
 * …), and everything an AWS call reports is an {@link AwsAdapterError}.
 *
 * @module
 */
import { BatonError, type BatonErrorOptions } from '@baton/ledger'

/** Every code an {@link AwsAdapterError} can carry (the `@baton/core` codes callers branch on). */
export type AwsErrorCode =
  /** An AWS call failed after its retries (its cause is attached). */
  | 'ADAPTER'
  /** A wait (INSYNC, available, InService) ran out of time. */
  | 'TIMEOUT'
  /** The call was aborted through its `AbortSignal`. */
  | 'ABORTED'

/** An AWS call failed, timed out or was aborted. */
export class AwsAdapterError extends BatonError<AwsErrorCode> {
  /** The AWS service, e.g. `route53`. */
  readonly service: string
  /** The operation, e.g. `ChangeResourceRecordSets`. */
  readonly operation: string
  /** The AWS error code (`InvalidChangeBatch`, `Throttling`, …), when AWS gave one. */
  readonly awsCode: string | undefined

  constructor(
    code: AwsErrorCode,
    service: string,
    operation: string,
    message: string,
    options?: BatonErrorOptions & { readonly awsCode?: string | undefined },
  ) {
    super(code, `${service} ${operation}: ${message}`, options)
    this.service = service
    this.operation = operation
    this.awsCode = options?.awsCode
  }
}
