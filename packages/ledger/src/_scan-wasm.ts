/**
 * The WebAssembly (SIMD) fast path of the receipt scanner: a loader for the
 * module built from `wasm/scan.ts` (see `scripts/build-wasm.mjs`).
 *
 * The module checks the common case of a canonical receipt 16 bytes per step
 * and gives up (a negative result) on anything unusual; it never accepts a
 * line that `scanReceiptAt` in `_scan.ts` rejects, which stays the
 * authority. Its caller reads data straight into the module's linear memory
 * through {@link WasmScanner.buf}, so neither scanner copies anything.
 *
 * The compiled module is created once, lazily and synchronously. A
 * {@link WasmScanner} (an instance with its own memory) belongs to one
 * caller between {@link acquireWasmScanner} and {@link WasmScanner.release}:
 * concurrent verifications each get their own. One released scanner is kept
 * for reuse unless its memory grew large. Without WebAssembly or SIMD support,
 * {@link acquireWasmScanner} returns `undefined` and callers use the
 * JavaScript scanner alone.
 *
 * @internal
 * @module
 */
import type { LineFields } from './_scan.js'
import { SCAN_WASM_BASE64 } from './_scan-wasm.generated.js'

/** The parts of the WebAssembly JS API used here (not in the ES2023 + Node type libraries). */
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports?: object) => { readonly exports: object }
}
interface ScanExports {
  readonly memory: WasmMemory
  scan(start: number, limit: number): number
  resultPtr(): number
  expectedPtr(): number
  dataBase(): number
  heapBase(): number
}

const PAGE = 65536
/** Bytes of memory kept past the data region, so 16-byte loads at its last byte stay in memory. */
const SLACK = 64
/** A released scanner whose data region is larger than this is dropped, not kept for reuse. */
const MAX_CACHED_CAPACITY = 8 << 20

let compiled: object | null | undefined
let enabled = true
let idle: WasmScanner | undefined

function wasmModule(): object | null {
  if (compiled !== undefined) return compiled
  compiled = null
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly
  if (api === undefined) return null
  try {
    // Throws a CompileError where SIMD is not supported.
    const module = new api.Module(Buffer.from(SCAN_WASM_BASE64, 'base64'))
    const probe = new api.Instance(module).exports as ScanExports
    if (probe.heapBase() <= probe.dataBase()) compiled = module
  } catch {
    compiled = null
  }
  return compiled
}

/**
 * One instance of the WebAssembly scanner and its memory, owned by one
 * caller at a time (see {@link acquireWasmScanner}).
 */
export class WasmScanner {
  /**
   * The data region: read lines into it, then scan them with {@link scanAt}.
   * Replaced (and the old view detached) by {@link grow}: always re-read it.
   */
  buf: Buffer
  /** Scans a receipt at `buf[pos]` without reading past `buf[limit - 1]`. */
  private readonly scan: (start: number, limit: number) => number
  private readonly memory: WasmMemory
  private readonly base: number
  private readonly res: number
  private readonly exp: number
  private f64: Float64Array
  private i32: Int32Array
  /** The static data (page 0), where {@link expectPrev} writes. */
  private low: Buffer

  /** @internal use {@link acquireWasmScanner}. */
  constructor(exports: ScanExports, capacity: number) {
    this.memory = exports.memory
    this.scan = exports.scan
    this.base = exports.dataBase()
    this.res = exports.resultPtr()
    this.exp = exports.expectedPtr()
    this.buf = Buffer.alloc(0)
    this.low = this.buf
    this.f64 = new Float64Array(0)
    this.i32 = new Int32Array(0)
    this.grow(capacity)
  }

  /** Bytes in {@link buf}. */
  get capacity(): number {
    return this.buf.length
  }

  /**
   * Makes {@link buf} at least `capacity` bytes long, keeping its contents,
   * and returns the new view (the old one is detached when memory grows).
   */
  grow(capacity: number): Buffer {
    const need = Math.ceil((this.base + capacity + SLACK) / PAGE)
    const have = this.memory.buffer.byteLength / PAGE
    if (need > have) this.memory.grow(need - have)
    const buffer = this.memory.buffer
    if (this.buf.buffer !== buffer) {
      this.buf = Buffer.from(buffer, this.base, buffer.byteLength - this.base - SLACK)
      this.f64 = new Float64Array(buffer, this.res, 1)
      this.i32 = new Int32Array(buffer, this.res + 8, 8)
      this.low = Buffer.from(buffer, 0, this.base)
    }
    return this.buf
  }

  /**
   * Scans the receipt starting at `buf[pos]`, reading nothing meaningful at
   * or past `buf[limit]`. Returns the offset just after it (its fields are
   * then readable), or a negative value when the fast path does not accept
   * it: the caller then asks `scanReceiptAt`, which decides. Like
   * `scanReceiptAt`, it does not check that `prev` is hex.
   */
  scanAt(pos: number, limit: number): number {
    return this.scan(pos, limit)
  }

  /** `seq` of the receipt last accepted by {@link scanAt}. */
  get seq(): number {
    return this.f64[0]!
  }

  /** Offset in {@link buf} of `prev`'s 64 characters, for the receipt last accepted. */
  get prevAt(): number {
    return this.i32[0]!
  }

  /**
   * True if the `prev` of the receipt last accepted by {@link scanAt} is the
   * string last given to {@link expectPrev}.
   */
  get prevExpected(): boolean {
    return this.i32[7] === 1
  }

  /**
   * Sets the `prev` that {@link scanAt} compares each accepted receipt's
   * `prev` with (see {@link prevExpected}): 64 characters, normally the leaf
   * hash of the receipt before, in hex.
   */
  expectPrev(hex: string): void {
    this.low.write(hex, this.exp, 64, 'latin1')
  }

  /** Copies every field of the receipt last accepted by {@link scanAt} into `out`. */
  readFields(out: LineFields): void {
    const r = this.i32
    out.seq = this.f64[0]!
    out.prevAt = r[0]!
    out.idAt = r[1]!
    out.tsAt = r[2]!
    out.typeAt = r[3]!
    out.typeEnd = r[4]!
    out.dataAt = r[5]!
    out.dataEnd = r[6]!
  }

  /** Hands the scanner back; neither it nor {@link buf} may be used afterwards. */
  release(): void {
    if (idle === undefined && this.buf.length <= MAX_CACHED_CAPACITY) idle = this
  }
}

/**
 * A WebAssembly scanner whose {@link WasmScanner.buf} holds at least
 * `capacity` bytes, for the caller's exclusive use until it calls
 * {@link WasmScanner.release}; `undefined` when WebAssembly or SIMD is not
 * available (or the fast path was disabled), in which case use the
 * JavaScript scanner.
 */
export function acquireWasmScanner(capacity: number): WasmScanner | undefined {
  if (!enabled) return undefined
  const reuse = idle
  if (reuse !== undefined) {
    idle = undefined
    reuse.grow(capacity)
    return reuse
  }
  const module = wasmModule()
  if (module === null) return undefined
  const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
  return new WasmScanner(new api.Instance(module).exports as ScanExports, capacity)
}

/**
 * Turns the WebAssembly fast path on or off (it is on by default), for tests
 * and benchmarks that compare it with the JavaScript scanner.
 */
export function setWasmScanEnabled(on: boolean): void {
  enabled = on
  idle = undefined
}

/** True when the WebAssembly scanner is enabled and can run here. */
export function wasmScanAvailable(): boolean {
  return enabled && wasmModule() !== null
}
