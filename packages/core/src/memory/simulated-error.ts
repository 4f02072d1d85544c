/**
 * The error the in-memory implementations throw for an injected fault.
 *
 * @module
 */
import { CoreError } from '../errors.js'

/**
 * An adapter call failed because the simulation said so (an injected fault,
 * a region outage, a partition). Code `ADAPTER`, like a real adapter's
 * failure; `fault` says what kind, e.g. `UNAVAILABLE`, `DEADLINE_EXCEEDED`.
 */
export class SimulatedFaultError extends CoreError {
  /** The simulated error, e.g. `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `THROTTLED`. */
  readonly fault: string
  /** The call that failed, e.g. `database.promote`, `lease.acquire`. */
  readonly call: string

  /**
   * @param call the call that failed, e.g. `database.promote`
   * @param fault the simulated error, e.g. `UNAVAILABLE`
   * @param detail why, e.g. `eu-west-1 is down`
   */
  constructor(call: string, fault: string, detail?: string) {
    super('ADAPTER', `${call}: ${fault}${detail === undefined ? '' : ` (${detail})`}`)
    this.fault = fault
    this.call = call
  }
}
