/**
 * Registers the export commands on the `baton` program: `export`,
 * `verify-export` and `restore`.
 *
 * @module
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { collect, SIGNER_KEY_ENV } from './_key-args.js'
import { exportCommand } from './commands/export.js'
import { restoreCommand } from './commands/restore.js'
import { verifyExportCommand } from './commands/verify-export.js'
import type { CliIo } from './io.js'

function integer(name: string, min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
      throw new InvalidArgumentError(
        `${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got "${value}"`,
      )
    }
    return Number(value)
  }
}

const jsonOption = () => new Option('--json', 'print JSON instead of text').default(false)
const verifierKeyOption = () =>
  new Option('--key <vkey>', 'trusted verifier key: key text or a file (repeatable)').argParser(
    collect,
  )
const retainOption = () =>
  new Option(
    '--retain-days <n>',
    'bundles older than this many days are (export) / may be (verify-export) deleted; default 90',
  ).argParser(integer('--retain-days', 1))

/** Adds `export`, `verify-export` and `restore` to `cmd`; `run` receives each command's exit code. */
export function addExportCommands(
  cmd: Command,
  io: CliIo,
  run: (code: Promise<number>) => void,
): void {
  cmd
    .command('export')
    .description(
      'export new receipts as a bundle plus a signed manifest entry, then apply retention',
    )
    .argument('<dir>', 'ledger directory')
    .requiredOption('--to <target>', 'export target: a directory or a file: URL')
    .option(
      '--date <day>',
      'export the UTC day YYYY-MM-DD (it must be over); default: everything new',
    )
    .option(
      '--key <file>',
      `signer key file, - for standard input (repeatable; default: $${SIGNER_KEY_ENV})`,
      collect,
    )
    .option('--gzip', 'gzip the bundle', false)
    .addOption(retainOption())
    .option(
      '--origin <origin>',
      'checkpoint origin (default: the previous entry’s, else the key name)',
    )
    .addOption(jsonOption())
    .action((dir: string, o: Parameters<typeof exportCommand>[2]) => run(exportCommand(io, dir, o)))

  cmd
    .command('verify-export')
    .description('check an export: manifest chain, signatures, bundles, receipts; exit 0/1/2')
    .argument('<target>', 'export target: a directory or a file: URL')
    .addOption(verifierKeyOption())
    .addOption(retainOption())
    .addOption(jsonOption())
    .option('--show <n>', 'problems listed in the text summary', integer('--show', 0), 20)
    .action((spec: string, o: Parameters<typeof verifyExportCommand>[2]) =>
      run(verifyExportCommand(io, spec, o)),
    )

  cmd
    .command('restore')
    .description('restore the newest verified state of an export into a new ledger')
    .argument('<target>', 'export target: a directory or a file: URL')
    .requiredOption(
      '--into <dir>',
      'ledger directory to create (missing, empty, or an empty ledger)',
    )
    .option('--up-to <seq>', 'restore receipts 0 to <seq> only', integer('--up-to', 0))
    .addOption(verifierKeyOption())
    .addOption(jsonOption())
    .option('--show <n>', 'problems listed in the text summary', integer('--show', 0), 20)
    .action((spec: string, o: Parameters<typeof restoreCommand>[2]) =>
      run(restoreCommand(io, spec, o)),
    )
}
