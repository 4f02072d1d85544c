/**
 * A progress bar on standard error for long work, drawn only on a terminal
 * (or when `BATON_PROGRESS=1`).
 *
 * @module
 */
import { Presets, SingleBar } from 'cli-progress'
import { bytes, count } from './format.js'
import { type CliIo, wantsProgress } from './io.js'

/** A progress display that may be a no-op. */
export interface Progress {
  /** Updates the display: `done` of `total` bytes, and items processed. */
  update(done: number, total: number | undefined, items: number): void
  /** Removes the bar. */
  stop(): void
}

const NONE: Progress = { update() {}, stop() {} }

/** What a progress bar counts. */
export type ProgressUnit = 'bytes' | 'receipts'

/**
 * Creates a progress bar labelled `label`, or a no-op when not wanted. It
 * counts bytes (with receipts alongside), or, with `unit: 'receipts'`,
 * receipts only (`done` and `total` are then receipts).
 */
export function createProgress(
  io: CliIo,
  label: string,
  json: boolean,
  unit: ProgressUnit = 'bytes',
): Progress {
  if (!wantsProgress(io, json)) return NONE
  const amounts =
    unit === 'bytes'
      ? '{doneBytes} of {totalBytes} | {items} receipts'
      : '{items} of {totalBytes} receipts'
  const bar = new SingleBar(
    {
      stream: io.stderr as NodeJS.WriteStream,
      format: `${label} |{bar}| {percentage}% | ${amounts} | {rate}/s`,
      hideCursor: true,
      clearOnComplete: true,
      noTTYOutput: true,
      notTTYSchedule: 1000,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  )
  const started = Date.now()
  let active = false
  return {
    update(done, total, items) {
      const amount = unit === 'bytes' ? bytes : count
      const payload = {
        doneBytes: amount(done),
        totalBytes: total === undefined ? '?' : amount(total),
        items: count(items),
        rate: count(Math.round(items / Math.max(0.001, (Date.now() - started) / 1000))),
      }
      if (!active) {
        bar.start(total ?? done, done, payload)
        active = true
      } else {
        if (total !== undefined) bar.setTotal(total)
        bar.update(done, payload)
      }
    },
    stop() {
      if (active) bar.stop()
    },
  }
}
