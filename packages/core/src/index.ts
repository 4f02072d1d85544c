export * from './clock.js'
export * from './errors.js'
export * from './machine.js'
export * from './ports/index.js'
