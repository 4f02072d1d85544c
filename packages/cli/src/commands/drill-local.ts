/**
 * `baton drill postgres-local` and `baton drill postgres-switchover`: drills
 * against real servers on this machine (not the virtual clock), served by
 * `@baton/adapters-postgres/drill`, loaded only when named (it needs the
 * PostgreSQL server binaries, e.g. Debian `postgresql-15`).
 *
 * @module
 */

import { importOptional } from '../_adapters.js'
import { EXIT_INTEGRITY, EXIT_OK, UsageError } from '../errors.js'
import { type CliIo, println, reportTextFor, writeOutputFile } from '../io.js'

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
  const mod = await importOptional<LocalDrillModule>(
    specifier,
    `drill ${name} needs ${specifier}: install @baton/adapters-postgres`,
  )
  const report = await mod[run]({
    ...(options.asyncStandby === true ? { synchronous: false } : { synchronous: true }),
    ...(options.stallMs === undefined ? {} : { stallReplicationMs: options.stallMs }),
    ...(options.json ? {} : { log: (line: string) => println(io.stderr, line) }),
  })
  const markdown = mod.localDrillReportMarkdown(report)
  const json = JSON.stringify(report, null, 2)
  println(io.stdout, options.json ? json : markdown.trimEnd())
  if (options.report !== undefined) {
    await writeOutputFile(
      io,
      options.report,
      reportTextFor(options.report, markdown, json),
      'report',
    )
  }
  return report.passed ? EXIT_OK : EXIT_INTEGRITY
}
