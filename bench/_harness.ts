/** Small measuring helpers for the benchmarks (no test framework: plain timings). */
import { cpus, totalmem } from 'node:os'

/** Runs `fn` repeatedly for at least `ms` milliseconds; returns operations per second. */
export function opsPerSecond(fn: () => unknown, ms = 400): number {
  for (let i = 0; i < 1000; i++) fn() // warm up
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < 200; i++) fn()
    n += 200
    now = performance.now()
  }
  return (n * 1000) / (now - start)
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The p-th percentile (0..100) of a list. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/** A description of the machine the benchmarks ran on. */
export function machine(): string {
  const cpu = cpus()
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`
}

/** `1234567.8` → `1,234,568`. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** One benchmark result row. */
export interface Row {
  readonly group: string
  readonly name: string
  readonly value: string
  readonly baseline?: string
  readonly ratio?: string
  readonly target?: string
  readonly ok?: boolean
}
