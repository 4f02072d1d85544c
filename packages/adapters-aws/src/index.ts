/**
 * `@baton/adapters-aws`: baton's ports on AWS — an S3 ledger store, export
 * target and lease; Route 53 traffic routing and health-check probes; RDS
 * promotion; Auto Scaling.
 *
 * @module
 */

export type { S3ConnectionOptions } from './_s3.js'
export * from './autoscaling-scaler.js'
export * from './errors.js'
export * from './rds-database.js'
export * from './route53-probe.js'
export * from './route53-traffic-router.js'
export * from './s3-export-target.js'
export * from './s3-lease.js'
export * from './s3-ledger-store.js'
