/**
 * Reading keys and checkpoints named on the command line: signer keys from a
 * file, standard input or `BATON_SIGNER_KEY`; verifier keys as text or from
 * a file; checkpoint notes from a file. Every failure names the argument.
 *
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  type Ed25519Signer,
  type Ed25519Verifier,
  isBatonError,
  parseSignerKey,
  parseVerifierKey,
} from '@baton/ledger'
import { UsageError } from './errors.js'
import type { CliIo } from './io.js'

/** The environment variable a signer key may come from instead of `--key`. */
export const SIGNER_KEY_ENV = 'BATON_SIGNER_KEY'

/** Collects a repeatable option's values (commander's `--key A --key B`). */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads a file named by an option, with an error naming the option. */
export async function readArgFile(io: CliIo, option: string, file: string): Promise<string> {
  if (file === '-') return readStdin(io)
  try {
    return await readFile(resolve(io.cwd, file), 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : code
    throw new UsageError(`${option} ${file}: cannot read it (${why})`)
  }
}

/** Key lines of a key file: trimmed, without blank lines and `#` comments. */
function keyLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}

/**
 * The signer keys of `--key FILE|-` (repeatable: sign with old and new keys
 * during a rotation), or of `BATON_SIGNER_KEY` when no `--key` is given.
 */
export async function readSignerKeys(
  io: CliIo,
  files: readonly string[] | undefined,
): Promise<Ed25519Signer[]> {
  const sources: { label: string; text: string }[] = []
  if (files === undefined || files.length === 0) {
    const env = io.env[SIGNER_KEY_ENV]
    if (env === undefined || env.trim() === '') {
      throw new UsageError(
        `--key: no signer key; pass --key FILE (or - for standard input) or set ${SIGNER_KEY_ENV}`,
      )
    }
    sources.push({ label: SIGNER_KEY_ENV, text: env })
  } else {
    for (const file of files) {
      const text = await readArgFile(io, '--key', file)
      if (file !== '-') await warnIfShared(io, file)
      sources.push({ label: `--key ${file}`, text })
    }
  }
  const signers: Ed25519Signer[] = []
  for (const { label, text } of sources) {
    const lines = keyLines(text)
    if (lines.length !== 1) {
      throw new UsageError(
        `${label}: expected one signer key (PRIVATE+KEY+…), found ${lines.length} key lines`,
      )
    }
    try {
      signers.push(parseSignerKey(lines[0]!))
    } catch (error) {
      if (isBatonError(error)) throw new UsageError(`${label}: ${error.message}`)
      throw error
    }
  }
  return signers
}

/** Warns when a signer key file can be read by other users. */
async function warnIfShared(io: CliIo, file: string): Promise<void> {
  try {
    const mode = (await stat(resolve(io.cwd, file))).mode & 0o777
    if ((mode & 0o077) !== 0) {
      io.stderr.write(
        `baton: warning: signer key file ${file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it\n`,
      )
    }
  } catch {
    // Already read successfully; the mode is only advice.
  }
}

/**
 * The verifier keys of `--key VKEY` (repeatable): each is verifier key text
 * (`name+hash+base64`) or a file holding one or more, one per line.
 */
export async function readVerifierKeys(
  io: CliIo,
  args: readonly string[] | undefined,
): Promise<Ed25519Verifier[]> {
  if (args === undefined || args.length === 0) {
    throw new UsageError('--key: at least one verifier key (text or file) is needed')
  }
  const keys: Ed25519Verifier[] = []
  for (const arg of args) {
    const path = resolve(io.cwd, arg)
    const isFile = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    )
    if (!isFile) {
      try {
        keys.push(parseVerifierKey(arg.trim()))
      } catch (error) {
        if (!isBatonError(error)) throw error
        throw new UsageError(`--key ${arg}: not a verifier key (${error.message}) and no such file`)
      }
      continue
    }
    const lines = keyLines(await readArgFile(io, '--key', arg))
    if (lines.length === 0) throw new UsageError(`--key ${arg}: the file holds no verifier key`)
    for (const [i, line] of lines.entries()) {
      try {
        keys.push(parseVerifierKey(line))
      } catch (error) {
        if (!isBatonError(error)) throw error
        throw new UsageError(`--key ${arg}: key ${i + 1}: ${error.message}`)
      }
    }
  }
  return keys
}
