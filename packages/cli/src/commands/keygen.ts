/**
 * `baton keygen --name N [--out FILE] [--json]`: a new Ed25519 key pair for
 * signing checkpoints, in the C2SP signed-note key formats.
 *
 * The signer key is secret: with `--out` it is written to a new file with
 * mode 0600 (an existing file is never overwritten); otherwise it is
 * printed. The verifier key is always printed: hand it to whoever verifies.
 *
 * @module
 */
import { type FileHandle, open } from 'node:fs/promises'
import { resolve } from 'node:path'
import { generateKeyPair, keyNameProblem } from '@baton/ledger'
import { EXIT_OK, UsageError } from '../errors.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton keygen`. */
export interface KeygenOptions {
  /** Key name, usually the log's origin, e.g. `example.com/baton/prod`. */
  readonly name: string
  /** Write the signer key to this new file (mode 0600) instead of printing it. */
  readonly out?: string
  readonly json: boolean
}

/** Writes `text` to a new file readable only by its owner. */
async function writeSecret(path: string, text: string, label: string): Promise<void> {
  let fh: FileHandle | undefined
  try {
    fh = await open(path, 'wx', 0o600)
    await fh.chmod(0o600) // whatever the umask
    await fh.writeFile(text, 'utf8')
    await fh.sync()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') {
      throw new UsageError(`${label}: already exists; refusing to overwrite a key file`)
    }
    throw new UsageError(
      `${label}: cannot write it (${error instanceof Error ? error.message : String(code)})`,
    )
  } finally {
    await fh?.close().catch(() => undefined)
  }
}

/** Runs `baton keygen`. */
export async function keygenCommand(io: CliIo, options: KeygenOptions): Promise<number> {
  const problem = keyNameProblem(options.name)
  if (problem !== undefined) throw new UsageError(`--name: key name ${problem}`)
  const { signerKey, verifierKey } = generateKeyPair(options.name)
  if (options.out !== undefined) {
    const path = resolve(io.cwd, options.out)
    await writeSecret(path, `${signerKey}\n`, `--out ${options.out}`)
    if (options.json) {
      println(io.stdout, JSON.stringify({ name: options.name, signerKeyFile: path, verifierKey }))
    } else {
      println(io.stdout, `Signer key written to ${path} (mode 0600); keep it secret.`)
      println(io.stdout, 'Verifier key (give it to verifiers):')
      println(io.stdout, verifierKey)
    }
    return EXIT_OK
  }
  if (options.json) {
    println(io.stdout, JSON.stringify({ name: options.name, signerKey, verifierKey }))
  } else {
    println(io.stdout, 'Signer key (secret: store it like a password):')
    println(io.stdout, signerKey)
    println(io.stdout, 'Verifier key (give it to verifiers):')
    println(io.stdout, verifierKey)
  }
  return EXIT_OK
}
