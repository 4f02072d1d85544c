/**
 * The terminal a command talks to: output streams, input, environment.
 * Commands never touch `process` directly, so tests run them in-process.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { UsageError } from './errors.js'

/** What a command may read from and write to. */
export interface CliIo {
  /** Standard output: results (text or JSON). */
  readonly stdout: Writable
  /** Standard error: progress, warnings, errors. */
  readonly stderr: Writable
  /** Standard input (JSON lines for `baton append`). */
  readonly stdin: Readable
  /** Environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Working directory that relative paths resolve against. */
  readonly cwd: string
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  }
}

/** True when progress bars should be drawn on `io.stderr`. */
export function wantsProgress(io: CliIo, json: boolean): boolean {
  if (io.env.BATON_PROGRESS === '1') return true
  if (io.env.BATON_PROGRESS === '0' || json || io.env.CI === 'true') return false
  return (io.stderr as Writable & { isTTY?: boolean }).isTTY === true
}

/** Writes a line to a stream. */
export function println(stream: Writable, line = ''): void {
  stream.write(`${line}\n`)
}

/**
 * Writes a file a command was asked for (`--report`, `--out`, `--html`),
 * relative to `io.cwd`; returns its absolute path.
 *
 * @throws {@link UsageError} naming `what` and the file when it cannot be written.
 */
export async function writeOutputFile(
  io: CliIo,
  file: string,
  text: string,
  what: string,
): Promise<string> {
  const path = resolve(io.cwd, file)
  try {
    await writeFile(path, text)
  } catch (error) {
    throw new UsageError(`cannot write the ${what} ${file}: ${(error as Error).message}`)
  }
  return path
}

/** A report's text for `file`: the JSON form when its name ends in `.json`, else Markdown. */
export function reportTextFor(file: string, markdown: string, json: string): string {
  return extname(file).toLowerCase() === '.json' ? json : markdown
}
