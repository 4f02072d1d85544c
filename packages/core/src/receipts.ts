/**
 * The receipts the engine writes: their types and data. Every one carries
 * the fencing `epoch` of the instance that wrote it.
 *
 * These are the audit trail's contract: `replay` reads `state.changed`
 * receipts back through the machine, reports read them for timelines and
 * RTO/RPO, and operators read them at 3 a.m.
 *
 * @module
 */
import type { MachineEvent, Operation, StateName } from './machine.js'
import type { RegionId } from './ports/context.js'

/** A measured duration against its target. */
export interface Measured {
  /** What was measured, in milliseconds (`null` when it could not be measured). */
  readonly measuredMs: number | null
  /** The configured target. */
  readonly targetMs: number
  /** `measuredMs <= targetMs`. */
  readonly met: boolean
}

/** One guard's verdict, with the values it judged. */
export interface GuardRecord {
  readonly name: string
  readonly ok: boolean
  readonly value?: string | number | boolean | null
  readonly limit?: string | number | boolean | null
  readonly reason: string
  /** Set when an operator override let a failing guard pass (e.g. `allowDataLoss`). */
  readonly overriddenBy?: string
}

/** The data of every receipt type the engine writes, by type. */
export interface ReceiptDataMap {
  /** Every state change: the event that caused it, as the machine saw it. */
  'state.changed': {
    readonly from: StateName
    readonly to: StateName
    readonly event: MachineEvent
    readonly epoch: number
  }
  /** A region's assessment changed (healthy → degraded → down → healthy). */
  'health.changed': {
    readonly region: RegionId
    readonly from: string
    readonly to: string
    readonly reasons: readonly {
      readonly detector: string
      readonly value: number
      readonly threshold: number
    }[]
    readonly epoch: number
  }
  /** A decision to act, with the guards that allowed it. */
  'failover.decided': {
    readonly operation: string
    readonly decision: Readonly<Record<string, unknown>>
    readonly guards: readonly GuardRecord[]
    readonly epoch: number
  }
  /** A decision the guards refused: why, with their values. */
  'failover.blocked': {
    readonly decision: Readonly<Record<string, unknown>>
    readonly guards: readonly GuardRecord[]
    readonly epoch: number
  }
  'step.started': {
    readonly operation: string
    readonly step: string
    readonly attempt: number
    readonly epoch: number
  }
  'step.succeeded': {
    readonly operation: string
    readonly step: string
    readonly durationMs: number
    readonly attempts: number
    readonly epoch: number
    readonly result?: Readonly<Record<string, unknown>>
  }
  'step.failed': {
    readonly operation: string
    readonly step: string
    readonly durationMs: number
    readonly attempts: number
    readonly error: string
    readonly epoch: number
  }
  'step.compensated': {
    readonly operation: string
    readonly step: string
    readonly ok: boolean
    readonly error?: string
    readonly epoch: number
  }
  'approval.granted': { readonly operation: string; readonly by: string; readonly epoch: number }
  'approval.denied': {
    readonly operation: string
    readonly by: string
    readonly reason?: string
    readonly epoch: number
  }
  /** An audited override of a guard (e.g. `allowDataLoss` past the RPO). */
  'override.used': {
    readonly operation: string
    readonly guard: string
    readonly by: string
    readonly value?: string | number | boolean | null
    readonly epoch: number
  }
  'lease.acquired': { readonly holder: string; readonly epoch: number; readonly expiresAt: number }
  'lease.lost': { readonly holder: string; readonly epoch: number; readonly reason: string }
  /** A failover finished: measured RTO and RPO against the targets. */
  'failover.completed': {
    readonly operation: Operation
    readonly detectedAt: number | null
    readonly decidedAt: number
    readonly completedAt: number
    readonly rto: Measured
    readonly rpo: Measured
    readonly epoch: number
  }
  'failback.completed': {
    readonly operation: Operation
    readonly completedAt: number
    readonly durationMs: number
    readonly stages: readonly { readonly percent: number; readonly ok: boolean }[]
    readonly epoch: number
  }
  /**
   * An instance took charge (after acquiring the lease): its identity, the
   * topology, and the state it resumed from (replayed from this ledger).
   */
  'controller.started': {
    readonly instance: string
    readonly home: RegionId
    readonly regions: readonly RegionId[]
    readonly resumedFrom: StateName
    readonly epoch: number
  }
}

/** Every receipt type the engine writes. */
export type EngineReceiptType = keyof ReceiptDataMap

/** An input for `ledger.append` of one engine receipt. */
export type EngineReceiptInput<T extends EngineReceiptType = EngineReceiptType> = {
  [K in T]: { readonly type: K; readonly data: ReceiptDataMap[K] }
}[T]
