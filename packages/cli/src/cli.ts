/**
 * The `baton` program: argument parsing and dispatch to the commands.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { version } from '../package.json'
import { addExportCommands } from './_export-commands.js'
import { collect, SIGNER_KEY_ENV } from './_key-args.js'
import { appendCommand } from './commands/append.js'
import { checkpointCommand } from './commands/checkpoint.js'
import { demoCommand } from './commands/demo.js'
import { drillCommand } from './commands/drill.js'
import { initCommand } from './commands/init.js'
import { inspectCommand } from './commands/inspect.js'
import { keygenCommand } from './commands/keygen.js'
import { proveConsistencyCommand, proveInclusionCommand } from './commands/prove.js'
import { reportCommand } from './commands/report.js'
import { verifyCommand } from './commands/verify.js'
import { verifyProofCommand } from './commands/verify-proof.js'
import { describeError, EXIT_OK, EXIT_USAGE } from './errors.js'
import { type CliIo, processIo } from './io.js'

function nonNegativeInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`)
    }
    return Number(value)
  }
}

const jsonOption = () => new Option('--json', 'print JSON instead of text').default(false)

/** Builds the program; `run` receives each command's exit code. */
function program(baseIo: CliIo, run: (code: Promise<number>) => void): Command {
  // `--endpoint` may be given before or after the command; commands read it as
  // BATON_ENDPOINT, as adapters do when it is set in the environment.
  let endpoint: string | undefined
  const io: CliIo = {
    ...baseIo,
    get env() {
      return endpoint === undefined ? baseIo.env : { ...baseIo.env, BATON_ENDPOINT: endpoint }
    },
  }
  const cmd = new Command('baton')
    .description('Create, append to, inspect and verify baton receipt ledgers.')
    .version(version, '-V, --version')
    .option(
      '--endpoint <url>',
      'for s3://, gs://, firestore:// URLs: an S3-compatible server or an emulator (also BATON_ENDPOINT)',
    )
    .hook('preAction', () => {
      endpoint = cmd.opts<{ endpoint?: string }>().endpoint
    })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run baton --help for usage)')

  cmd
    .command('demo')
    .description(
      'run a failover and failback drill on simulated regions into a new file ledger, verify it and print the timeline',
    )
    .option('--dir <dir>', 'where to create the ledger (default: a new temporary directory)')
    .addOption(jsonOption())
    .action((o: { dir?: string; json: boolean }) =>
      run(demoCommand(io, o.dir === undefined ? { json: o.json } : { dir: o.dir, json: o.json })),
    )

  cmd
    .command('init')
    .description('create an empty file ledger in <dir>')
    .argument('<dir>', 'ledger directory (created if missing; must be empty)')
    .addOption(jsonOption())
    .action((dir: string, o: { json: boolean }) => run(initCommand(io, dir, o)))

  cmd
    .command('append')
    .description('append a receipt (--type/--data), or one per JSON line on stdin')
    .argument('<dir>', 'ledger directory')
    .option('--type <type>', 'dotted receipt type, e.g. failover.completed')
    .option('--data <json>', 'receipt data: a JSON object (default {})')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nWithout --type, reads JSON lines {"type": "...", "data": {...}} from stdin;\nall lines are checked before any is written.',
    )
    .action((dir: string, o: { type?: string; data?: string; json: boolean }) =>
      run(appendCommand(io, dir, o)),
    )

  cmd
    .command('verify')
    .description('check every receipt and link; exit 0 VERIFIED, 1 integrity problem, 2 error')
    .argument('<dir>', 'ledger directory')
    .addOption(jsonOption())
    .option('--show <n>', 'problems listed in the text summary', nonNegativeInt('--show'), 20)
    .option('--checkpoint <file>', 'a signed checkpoint the ledger must match (size and root)')
    .option(
      '--key <vkey>',
      'verifier key trusted to sign the checkpoint: key text or a file (repeatable)',
      collect,
    )
    .action(
      (dir: string, o: { json: boolean; show: number; checkpoint?: string; key?: string[] }) =>
        run(verifyCommand(io, dir, o)),
    )

  cmd
    .command('keygen')
    .description('generate an Ed25519 key pair for signing checkpoints')
    .requiredOption('--name <name>', 'key name, usually the log origin (e.g. example.com/baton)')
    .option(
      '--out <file>',
      'write the signer key to this new file (mode 0600) instead of printing it',
    )
    .addOption(jsonOption())
    .action((o: { name: string; out?: string; json: boolean }) => run(keygenCommand(io, o)))

  cmd
    .command('checkpoint')
    .description('update the tree state and print a signed checkpoint of the whole ledger')
    .argument('<dir>', 'ledger directory')
    .option(
      '--key <file>',
      `signer key file, - for standard input (repeatable; default: $${SIGNER_KEY_ENV})`,
      collect,
    )
    .option('--origin <origin>', 'the log origin line (default: the first key name)')
    .option('--out <file>', 'write the signed note to this file instead of standard output')
    .option('--rebuild', 'recompute the tree state from every receipt', false)
    .addOption(jsonOption())
    .action(
      (
        dir: string,
        o: { key?: string[]; origin?: string; out?: string; rebuild: boolean; json: boolean },
      ) => run(checkpointCommand(io, dir, o)),
    )

  const prove = cmd
    .command('prove')
    .description('RFC 9162 inclusion and consistency proofs from the tree state')
  prove
    .command('inclusion')
    .description('prove that receipt <seq> is in the tree of the first N receipts')
    .argument('<dir>', 'ledger directory')
    .argument('<seq>', 'the receipt', nonNegativeInt('<seq>'))
    .option(
      '--size <n>',
      'tree size, e.g. a checkpoint size (default: all)',
      nonNegativeInt('--size'),
    )
    .addOption(jsonOption())
    .action((dir: string, seq: number, o: { size?: number; json: boolean }) =>
      run(proveInclusionCommand(io, dir, seq, o)),
    )
  prove
    .command('consistency')
    .description('prove that the first <m> receipts are a prefix of the first <n>')
    .argument('<dir>', 'ledger directory')
    .argument('<m>', 'old tree size', nonNegativeInt('<m>'))
    .argument('<n>', 'new tree size', nonNegativeInt('<n>'))
    .addOption(jsonOption())
    .action((dir: string, m: number, n: number, o: { json: boolean }) =>
      run(proveConsistencyCommand(io, dir, m, n, o)),
    )

  cmd
    .command('verify-proof')
    .description('check a proof from baton prove --json against signed checkpoints (hashes only)')
    .argument('<proof>', 'proof JSON file, - for standard input')
    .option('--checkpoint <file>', 'a signed checkpoint (repeatable)', collect)
    .option('--key <vkey>', 'trusted verifier key: key text or a file (repeatable)', collect)
    .addOption(jsonOption())
    .action((file: string, o: { checkpoint?: string[]; key?: string[]; json: boolean }) =>
      run(verifyProofCommand(io, file, o)),
    )

  cmd
    .command('inspect')
    .description('print receipts, oldest first')
    .argument('<dir>', 'ledger directory')
    .option('--from <seq>', 'first receipt (default 0)', nonNegativeInt('--from'))
    .option('--to <seq>', 'last receipt, inclusive (default: the last)', nonNegativeInt('--to'))
    .addOption(jsonOption())
    .action((dir: string, o: { from?: number; to?: number; json: boolean }) =>
      run(inspectCommand(io, dir, o)),
    )

  cmd
    .command('drill')
    .description(
      'run a failover drill on the virtual clock; exit 0 when every expectation holds, 1 when one fails',
    )
    .argument(
      '<scenario>',
      'a scenario .json file, a built-in name (region-outage, lag-spike, …), random, or a real local drill: postgres-local, postgres-switchover',
    )
    .option(
      '--async',
      'postgres-local drills: an asynchronous standby (RPO measured, not guaranteed 0)',
    )
    .option(
      '--stall <ms>',
      'postgres-local: cut replication off this long before the kill',
      nonNegativeInt('--stall'),
    )
    .option('--seed <n>', 'the seed (default 0)', nonNegativeInt('--seed'))
    .option('--seeds <range>', 'run every seed of A..B (inclusive) and summarize')
    .option('--report <file>', 'write the report: Markdown, or JSON for a .json file')
    .addOption(jsonOption())
    .action(
      (
        scenario: string,
        o: {
          seed?: number
          seeds?: string
          report?: string
          json: boolean
          async?: boolean
          stall?: number
        },
      ) => run(drillCommand(io, scenario, o)),
    )

  cmd
    .command('report')
    .description(
      'report what a ledger records: detection, decision, steps, RTO/RPO against targets, verification (exit 1 when it does not verify)',
    )
    .argument('<ledger>', 'ledger directory, or a URL (s3://, gs://, firestore://, postgres://)')
    .option('--out <file>', 'write the Markdown report to this file instead of standard output')
    .option('--html <file>', 'also write a self-contained HTML page with an SVG timeline')
    .option('--title <text>', 'heading of the report')
    .addOption(jsonOption())
    .action((ledger: string, o: { out?: string; html?: string; title?: string; json: boolean }) =>
      run(reportCommand(io, ledger, o)),
    )

  addExportCommands(cmd, io, run)

  return cmd
}

/**
 * Runs the `baton` command line with `argv` (without the node and script
 * paths) and resolves to the exit code: 0 success, 1 integrity problem
 * (`verify`), 2 usage, input or I/O error.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(['verify', './ledger', '--json'])
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let result: Promise<number> | undefined
  try {
    await program(io, (code) => {
      result = code
    }).parseAsync([...argv], { from: 'user' })
    return result === undefined ? EXIT_OK : await result
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
        ? EXIT_OK
        : EXIT_USAGE
    }
    io.stderr.write(`${describeError(error)}\n`)
    if (io.env.BATON_DEBUG === '1' && error instanceof Error) io.stderr.write(`${error.stack}\n`)
    return EXIT_USAGE
  }
}
