/**
 * The CLI's entry into this package (`@baton/adapters-aws/cli`): `baton`
 * opens `s3://bucket/prefix` ledgers and export targets through it.
 *
 * @module
 */
export {}
