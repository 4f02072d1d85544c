/** In-process harness for the CLI: captured streams, temp dirs. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { type CliIo, runCli } from '../src/index.js'

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs `baton …args` in-process with `stdin` as input. */
export async function baton(
  args: string[],
  options: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (c: Buffer) => {
    out += c.toString()
  })
  stderr.on('data', (c: Buffer) => {
    err += c.toString()
  })
  const io: CliIo = {
    stdout,
    stderr,
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    env: { BATON_PROGRESS: '0', ...options.env },
    cwd: options.cwd ?? process.cwd(),
  }
  const code = await runCli(args, io)
  return { code, stdout: out, stderr: err }
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-cli-test-'))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}
