/**
 * `baton init <dir>`: create an empty file ledger.
 *
 * @module
 */
import { resolve } from 'node:path'
import { initFileStore } from '@baton/ledger'
import { EXIT_OK } from '../errors.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton init`. */
export interface InitOptions {
  readonly json: boolean
}

/** Runs `baton init`. */
export async function initCommand(io: CliIo, dir: string, options: InitOptions): Promise<number> {
  const store = await initFileStore(resolve(io.cwd, dir))
  await store.close()
  if (options.json) println(io.stdout, JSON.stringify({ created: store.dir }))
  else println(io.stdout, `Created an empty ledger in ${store.dir}`)
  return EXIT_OK
}
