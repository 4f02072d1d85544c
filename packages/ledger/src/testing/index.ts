/**
 * Test helpers for `@baton/ledger` stores: the store conformance suite every
 * `LedgerStore` implementation runs, the export target conformance suite
 * every `ExportTarget` runs, and the helpers behind it (append
 * workers in other processes, chain checks).
 *
 * Needs vitest (an optional peer dependency).
 *
 * @module
 */
export * from './export-target-conformance.js'
export * from './store-conformance.js'
