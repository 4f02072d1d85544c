export { runCli } from './cli.js'
export { EXIT_INTEGRITY, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js'
export type { CliIo } from './io.js'
