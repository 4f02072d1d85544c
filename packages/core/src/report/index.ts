export * from './html.js'
export * from './ledger-report.js'
export * from './markdown.js'
export * from './svg.js'
