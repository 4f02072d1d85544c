/**
 * `baton append <dir> --type T --data JSON`, or JSON lines on stdin.
 *
 * Every input is validated before anything is written; the receipts then go
 * to the ledger in one batch (one write and one fdatasync for a file ledger),
 * so bad input never leaves a ledger half-appended.
 *
 * @module
 */
import { createInterface } from 'node:readline'
import {
  createLedger,
  InvalidInputError,
  type JsonObject,
  parseJsonText,
  type ReceiptInput,
  type StoredReceipt,
} from '@baton/ledger'
import { openLedger } from '../_ledger-dir.js'
import { EXIT_OK, UsageError } from '../errors.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton append`. */
export interface AppendOptions {
  readonly type?: string
  readonly data?: string
  readonly json: boolean
}

interface StdinInputs {
  readonly inputs: ReceiptInput[]
  /** Line number of each input. */
  readonly lines: number[]
}

async function fromStdin(io: CliIo): Promise<StdinInputs> {
  const inputs: ReceiptInput[] = []
  const lineNos: number[] = []
  const lines = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY })
  let n = 0
  for await (const text of lines) {
    n++
    if (text.trim() === '') continue
    const source = `stdin line ${n}`
    const value = parseJsonText(text, { source })
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidInputError(source, 'must be a JSON object {"type": …, "data": {…}}')
    }
    const extra = Object.keys(value).filter((k) => k !== 'type' && k !== 'data')
    if (extra.length > 0) {
      throw new InvalidInputError(`${source}: ${extra[0]}`, 'is not allowed (only type and data)')
    }
    inputs.push(value as ReceiptInput)
    lineNos.push(n)
  }
  if (inputs.length === 0) throw new UsageError('no receipts on stdin (expected JSON lines)')
  return { inputs, lines: lineNos }
}

/** Runs `baton append`. */
export async function appendCommand(
  io: CliIo,
  dir: string,
  options: AppendOptions,
): Promise<number> {
  let inputs: ReceiptInput[]
  let lineNos: number[] | undefined
  if (options.type !== undefined || options.data !== undefined) {
    if (options.type === undefined) throw new UsageError('--data needs --type')
    const data =
      options.data === undefined
        ? {}
        : parseJsonText(options.data, { path: 'data', source: '--data' })
    inputs = [{ type: options.type, data: data as JsonObject }]
  } else {
    ;({ inputs, lines: lineNos } = await fromStdin(io))
  }
  const store = await openLedger(io, dir)
  const ledger = createLedger({ store })
  let stored: StoredReceipt[]
  try {
    stored = await ledger.appendBatch(inputs)
  } catch (e) {
    // Name the stdin line: "[3].data.x" → "stdin line 5: data.x".
    if (e instanceof InvalidInputError && lineNos !== undefined) {
      const m = /^\[(\d+)\]\.?(.*)$/.exec(e.path)
      if (m !== null) {
        throw new InvalidInputError(`stdin line ${lineNos[Number(m[1])]}: ${m[2]}`, e.reason, {
          cause: e,
        })
      }
    }
    throw e
  } finally {
    await ledger.close()
  }
  for (const r of stored) {
    if (options.json) println(io.stdout, JSON.stringify(r))
    else println(io.stdout, `appended #${r.seq} ${r.type} ${r.hash}`)
  }
  return EXIT_OK
}
