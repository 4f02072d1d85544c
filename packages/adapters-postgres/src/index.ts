export * from './errors.js'
export * from './ledger-store.js'
