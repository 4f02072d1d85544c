/**
 * Conformance suites for the ports of `@baton/core`: every adapter runs the
 * suite of each port it implements (`describeProbe`, `describeTrafficRouter`,
 * `describeDatabase`, `describeScaler`, `describeLease`, `describeNotifier`,
 * `describeClock`).
 *
 * Needs vitest (an optional peer dependency).
 *
 * @module
 */
export type { Advance, Outcome, SettleOptions } from './_support.js'
export { settle } from './_support.js'
export * from './clock-conformance.js'
export * from './database-conformance.js'
export * from './lease-conformance.js'
export * from './notifier-conformance.js'
export * from './probe-conformance.js'
export * from './scaler-conformance.js'
export * from './traffic-router-conformance.js'
