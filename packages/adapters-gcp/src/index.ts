/**
 * Google Cloud adapters for baton: Firestore (ledger store, lease, probe),
 * Cloud Storage (export target, ledger store) and Cloud DNS (traffic router).
 *
 * @module
 */

export * from './cloud-dns-router.js'
export * from './errors.js'
export * from './firestore-lease.js'
export * from './firestore-probe.js'
export * from './firestore-store.js'
export * from './gcs-store.js'
export * from './gcs-target.js'
