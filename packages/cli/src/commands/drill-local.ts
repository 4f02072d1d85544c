/**
 * `baton drill postgres-local` and `baton drill postgres-switchover`: drills
 * against real servers on this machine (not the virtual clock), served by
 * `@baton/adapters-postgres/drill`, loaded only when named (it needs the
 * PostgreSQL server binaries, e.g. Debian `postgresql-15`).
 *
 * @module
 */

import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { EXIT_INTEGRITY, EXIT_OK, UsageError } from '../errors.js'
import { type CliIo, println } from '../io.js'

/** The local drills by name: which function of `@baton/adapters-postgres/drill` runs each. */
export const LOCAL_DRILLS: Readonly<
  Record<string, 'runPostgresFailoverDrill' | 'runPostgresSwitchoverDrill'>
> = {
  'postgres-local': 'runPostgresFailoverDrill',
  'postgres-switchover': 'runPostgresSwitchoverDrill',
}

/** Options of a local drill. */
export interface LocalDrillCommandOptions {
  readonly json: boolean
  /** Markdown (or JSON for `.json`) report file. */
  readonly report?: string
  /** An asynchronous standby instead of a synchronous one. */
  readonly asyncStandby?: boolean
  /** Cut replication off this long before the kill (ms). */
  readonly stallMs?: number
}

interface LocalDrillModule {
  runPostgresFailoverDrill(o: object): Promise<{ passed: boolean }>
  runPostgresSwitchoverDrill(o: object): Promise<{ passed: boolean }>
  localDrillReportMarkdown(r: object): string
}

/** Test seam: how the drill module is imported. */
let importer: (specifier: string) => Promise<unknown> = (specifier) => import(specifier)

/** Replaces how the local drill module is imported (tests); returns the previous importer. */
export function setLocalDrillImporter(
  next: (specifier: string) => Promise<unknown>,
): (specifier: string) => Promise<unknown> {
  const previous = importer
  importer = next
  return previous
}

/** Runs a local drill; exit 0 when every check held, 1 when one failed. */
export async function localDrillCommand(
  io: CliIo,
  name: string,
  options: LocalDrillCommandOptions,
): Promise<number> {
  const run = LOCAL_DRILLS[name]
  if (run === undefined)
    throw new UsageError(
      `unknown local drill "${name}"; local drills: ${Object.keys(LOCAL_DRILLS).join(', ')}`,
    )
  const specifier = '@baton/adapters-postgres/drill'
  let mod: LocalDrillModule
  try {
    mod = (await importer(specifier)) as LocalDrillModule
  } catch (error) {
    throw new UsageError(
      `drill ${name} needs ${specifier}: install @baton/adapters-postgres (${(error as Error).message})`,
    )
  }
  const report = await mod[run]({
    ...(options.asyncStandby === true ? { synchronous: false } : { synchronous: true }),
    ...(options.stallMs === undefined ? {} : { stallReplicationMs: options.stallMs }),
    ...(options.json ? {} : { log: (line: string) => println(io.stderr, line) }),
  })
  const markdown = mod.localDrillReportMarkdown(report)
  const json = JSON.stringify(report, null, 2)
  println(io.stdout, options.json ? json : markdown.trimEnd())
  if (options.report !== undefined) {
    const path = resolve(io.cwd, options.report)
    try {
      await writeFile(path, path.toLowerCase().endsWith('.json') ? json : markdown)
    } catch (error) {
      throw new UsageError(`cannot write the report ${options.report}: ${(error as Error).message}`)
    }
  }
  return report.passed ? EXIT_OK : EXIT_INTEGRITY
}
