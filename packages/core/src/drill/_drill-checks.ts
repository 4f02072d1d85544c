/**
 * Internal: judges a drill's measurements against the scenario's
 * expectations and the invariants every drill checks.
 *
 * @internal
 * @module
 */
import type { DrillCheck, DrillJson, DrillResult } from './result.js'
import type { CountExpectation, ScenarioExpectations } from './scenario.js'

/** The measurements the checks read (the result without its checks). */
export type Measurements = Omit<DrillResult, 'checks' | 'passed'> & {
  /** Automatic failovers decided within the cooldown of the previous one. */
  readonly cooldownBreaches: readonly { readonly at: number; readonly gapMs: number }[]
  readonly cooldownMs: number
  /** The lease holder's own state at the end, if there was one. */
  readonly leaderState: { readonly state: string; readonly serving: string } | null
}

function inCount(expected: CountExpectation, actual: number): boolean {
  if (typeof expected === 'number') return actual === expected
  return (
    (expected.min === undefined || actual >= expected.min) &&
    (expected.max === undefined || actual <= expected.max)
  )
}

function check(
  name: string,
  expected: DrillJson,
  actual: DrillJson,
  passed: boolean,
  invariant = false,
): DrillCheck {
  return { name, expected, actual, passed, invariant }
}

/** The scenario's expectations, in a fixed order, then the invariants. */
export function judge(expect: ScenarioExpectations, m: Measurements): DrillCheck[] {
  const checks: DrillCheck[] = []
  const counts: [keyof ScenarioExpectations & string, number][] = [
    ['failovers', m.failovers.length],
    ['failbacks', m.failbacks.length],
    ['rollbacks', m.rollbacks],
    ['failedSteps', m.failedSteps.length],
    ['takeovers', m.takeovers],
    ['lostWrites', m.truth.lostWrites + m.truth.divergedWrites],
  ]
  for (const [name, actual] of counts) {
    const e = expect[name] as CountExpectation | undefined
    if (e !== undefined) checks.push(check(name, e as DrillJson, actual, inCount(e, actual)))
  }
  if (expect.severity !== undefined) {
    const seen = m.failovers.map((f) => f.severity)
    checks.push(
      check(
        'severity',
        expect.severity,
        seen,
        seen.length > 0 && seen.every((x) => x === expect.severity),
      ),
    )
  }
  if (expect.finalState !== undefined)
    checks.push(
      check('finalState', expect.finalState, m.final.state, m.final.state === expect.finalState),
    )
  if (expect.serving !== undefined)
    checks.push(
      check('serving', expect.serving, m.final.serving, m.final.serving === expect.serving),
    )
  if (expect.primary !== undefined)
    checks.push(
      check('primary', expect.primary, m.truth.primary, m.truth.primary === expect.primary),
    )
  if (expect.rtoMet !== undefined) {
    const met = m.failovers.length > 0 && m.failovers.every((f) => f.rto.met)
    checks.push(check('rtoMet', expect.rtoMet, met, met === expect.rtoMet))
  }
  if (expect.rpoMet !== undefined) {
    const met = m.failovers.length > 0 && m.failovers.every((f) => f.rpo.met)
    checks.push(check('rpoMet', expect.rpoMet, met, met === expect.rpoMet))
  }
  if (expect.blockedBy !== undefined) {
    const seen = [...new Set(m.refusals.flatMap((r) => r.guards.map((g) => g.name)))].sort()
    checks.push(
      check(
        'blockedBy',
        expect.blockedBy,
        seen,
        expect.blockedBy.every((g) => seen.includes(g)),
      ),
    )
  }
  if (expect.overrides !== undefined) {
    const seen = [...new Set(m.overrides.map((o) => o.guard))].sort()
    checks.push(
      check(
        'overrides',
        expect.overrides,
        seen,
        expect.overrides.every((g) => seen.includes(g)),
      ),
    )
  }

  checks.push(
    check(
      'ledger verifies',
      'VERIFIED',
      m.ledger.verify.status,
      m.ledger.verify.status === 'VERIFIED',
      true,
    ),
    check(
      'ledger replays',
      'REPLAYED',
      m.ledger.replay.status,
      m.ledger.replay.status === 'REPLAYED',
      true,
    ),
    check('no split brain', 0, m.truth.splitBrain, m.truth.splitBrain === 0, true),
    check('no residency violation', 0, m.truth.residency, m.truth.residency === 0, true),
    check(
      'cooldown between automatic failovers',
      { minGapMs: m.cooldownMs },
      m.cooldownBreaches.length === 0
        ? 'respected'
        : m.cooldownBreaches.map((b) => ({ at: b.at, gapMs: b.gapMs })),
      m.cooldownBreaches.length === 0,
      true,
    ),
  )
  if (m.leaderState !== null) {
    const agrees =
      m.leaderState.state === m.final.state && m.leaderState.serving === m.final.serving
    checks.push(
      check(
        'leader agrees with the ledger',
        { state: m.final.state, serving: m.final.serving },
        { state: m.leaderState.state, serving: m.leaderState.serving },
        agrees,
        true,
      ),
    )
  }
  return checks
}
