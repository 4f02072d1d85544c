/**
 * Test support: local PostgreSQL clusters on loopback (a primary, a
 * streaming standby, hard kills and rebuilds) for adapter tests and drills.
 *
 * @module
 */
export * from '../local-cluster.js'
