#!/usr/bin/env node
/**
 * The `baton` executable.
 *
 * @module
 */
import { runCli } from './cli.js'

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`baton: ${String(error)}\n`)
    process.exitCode = 2
  },
)
