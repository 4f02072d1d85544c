/**
 * The {@link Notifier} conformance suite.
 *
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Notification, NotificationKind, Notifier } from '../ports/notifier.js'
import { type Advance, abortedSignal, expectBatonError, settle, settleOutcome } from './_support.js'

/** A notifier under test, plus whatever the hooks need. */
export interface NotifierFixture {
  /** The notifier. */
  readonly notifier: Notifier
}

/** Options for {@link describeNotifier}. */
export interface NotifierSuiteOptions<F extends NotifierFixture = NotifierFixture> {
  /** Returns a fresh fixture. */
  create(): Promise<F>
  /** Cleans up after each test. */
  dispose?(fixture: F): Promise<void>
  /** What the backing system received so far, in order; enables the delivery checks. */
  sent?(fixture: F): Promise<readonly Notification[]>
  /** Drives a virtual clock while the suite waits; without it the suite waits in real time. */
  readonly advance?: Advance
  /** Epoch passed in every call; default 1. */
  readonly epoch?: number
  /** Real-time limit of each wait (ms); default 10 000. */
  readonly timeoutMs?: number
}

const KINDS: readonly NotificationKind[] = [
  'initiated',
  'progress',
  'completed',
  'failed',
  'blocked',
  'approval-needed',
]

/** Text that breaks naive formatting: empty, control characters, markup, emoji, lone surrogates, very long. */
const ODD_TEXT: readonly string[] = [
  '',
  ' ',
  'line one\nline two\r\nline three\ttabbed',
  '\u0000\u0007\u001b[31mred\u001b[0m',
  '<script>alert(1)</script> & *bold* _it_ `code` [link](http://x) @channel <!here>',
  'emoji 🚨🔥 ZWJ 👩‍💻 flags 🇪🇺 RTL مرحبا combining é',
  'lone surrogates \ud800 and \udfff',
  '{"json": true, "quote": "\\"", "backslash": "\\\\"}',
  'x'.repeat(20_000),
]

/**
 * Registers the conformance tests for a {@link Notifier}: every kind and
 * severity sent, odd text (empty, control characters, markup, emoji, lone
 * surrogates, 20 000 characters) sent without throwing, delivery order
 * when the fixture can tell, abort honoured.
 *
 * @example
 * ```ts
 * describeNotifier('memory', {
 *   create: async () => ({ notifier: createMemoryNotifier() }),
 *   sent: async ({ notifier }) => notifier.sent.map((s) => s.notification),
 * })
 * ```
 */
export function describeNotifier<F extends NotifierFixture>(
  name: string,
  options: NotifierSuiteOptions<F>,
): void {
  const epoch = options.epoch ?? 1
  const ctx = { epoch }
  const wait = { advance: options.advance, timeoutMs: options.timeoutMs ?? 10_000 }

  describe(`Notifier conformance: ${name}`, () => {
    const fixtures: F[] = []
    const fresh = async (): Promise<F> => {
      const f = await options.create()
      fixtures.push(f)
      return f
    }
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await options.dispose?.(f)
    })

    it('has a name', async () => {
      const { notifier } = await fresh()
      expect(typeof notifier.name).toBe('string')
      expect(notifier.name.length).toBeGreaterThan(0)
    })

    it('sends every kind and severity, in order', async () => {
      const f = await fresh()
      const before = (await options.sent?.(f))?.length ?? 0
      const messages: Notification[] = KINDS.map((kind, i) => ({
        kind,
        severity: (['P1', 'P2', 'P3'] as const)[i % 3]!,
        title: `failover ${kind}`,
        body: `eu-west-1 → eu-central-1: ${kind}`,
        fields: { from: 'eu-west-1', to: 'eu-central-1', step: i, automatic: i % 2 === 0 },
      }))
      for (const m of messages) {
        await settle(f.notifier.notify(m, ctx), { ...wait, what: `notify ${m.kind}` })
      }
      if (options.sent !== undefined) {
        const sent = (await options.sent(f)).slice(before)
        expect(sent.map((s) => [s.kind, s.title])).toEqual(messages.map((m) => [m.kind, m.title]))
      }
    })

    it('sends odd text without throwing', async () => {
      const f = await fresh()
      const before = (await options.sent?.(f))?.length ?? 0
      for (const [i, text] of ODD_TEXT.entries()) {
        const m: Notification = {
          kind: 'progress',
          severity: 'P3',
          title: text,
          body: text,
          fields: { text, n: i, ok: true },
        }
        await settle(f.notifier.notify(m, ctx), { ...wait, what: `notify odd text #${i}` })
      }
      if (options.sent !== undefined) {
        expect((await options.sent(f)).length - before).toBe(ODD_TEXT.length)
      }
    })

    it('sends a notification without optional fields', async () => {
      const f = await fresh()
      await settle(
        f.notifier.notify({ kind: 'completed', severity: 'P2', title: 't', body: 'b' }, ctx),
        { ...wait, what: 'notify without fields' },
      )
    })

    it('rejects with ABORTED when the signal has already aborted', async () => {
      const f = await fresh()
      const result = await settleOutcome(
        f.notifier.notify(
          { kind: 'failed', severity: 'P1', title: 't', body: 'b' },
          { epoch, signal: abortedSignal() },
        ),
        { ...wait, what: 'notify with an aborted signal' },
      )
      expect(result.ok, 'notify resolved despite an aborted signal').toBe(false)
      if (!result.ok) expectBatonError(result.error, 'ABORTED')
    })
  })
}
