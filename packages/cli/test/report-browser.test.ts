/**
 * The HTML report in a real browser: Debian's chromium, headless, driven by
 * playwright-core (no browser download). `pnpm test` installs chromium when it is missing (scripts/system-packages.sh).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type BrowserContext, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { baton, tempDir } from './support.js'

const CHROMIUM = '/usr/bin/chromium'

/** The DOM parts the page functions use (the test is type-checked without the DOM library). */
interface Graphic {
  getBBox(): { x: number; y: number; width: number; height: number }
}
interface WithStyles {
  getComputedStyle(el: unknown): { fill: string }
}

let browser: BrowserContext
let profile: string
let dir: string
let cleanup: () => Promise<void>

beforeAll(async () => {
  ;({ dir, cleanup } = await tempDir())
  profile = await mkdtemp(join(tmpdir(), 'baton-chromium-'))
  // A fresh profile directory (--user-data-dir) for every run.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await rm(profile, { recursive: true, force: true })
  await cleanup()
})

describe('the HTML report in headless chromium', () => {
  it('renders the SVG timeline with its marks and logs no console error', async () => {
    const ledger = join(dir, 'demo')
    expect((await baton(['demo', '--dir', ledger])).code).toBe(0)
    const html = join(dir, 'report.html')
    expect((await baton(['report', ledger, '--html', html, '--out', join(dir, 'r.md')])).code).toBe(
      0,
    )

    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`)
    })
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 30_000 })

    expect(await page.title()).toContain('Ledger report')
    const svgs = page.locator('svg.timeline')
    expect(await svgs.count()).toBe(2)
    const failover = svgs.nth(0)
    // One bar per step of the failover, each drawn with a width.
    const stepNames = await failover
      .locator('rect.step')
      .evaluateAll((rs) => rs.map((r) => r.getAttribute('data-step')))
    expect(stepNames).toEqual(
      expect.arrayContaining(['preflight', 'shift-traffic', 'fence', 'promote', 'verify-writes']),
    )
    const widths = await failover
      .locator('rect.step')
      .evaluateAll((rs) => rs.map((r) => (r as unknown as Graphic).getBBox().width))
    for (const w of widths) expect(w).toBeGreaterThan(0)
    expect(await failover.locator('rect.step.succeeded').count()).toBe(stepNames.length)
    expect(await failover.locator('circle.mark.detection').count()).toBeGreaterThan(0)
    expect(await failover.locator('path.mark.decision').count()).toBe(1)
    expect(await failover.locator('line.mark.end.completed').count()).toBe(1)
    expect(await failover.locator('line.rto.met').count()).toBe(1)
    // The marks are where the times say: detection before the decision, the bars after it.
    const centre = (sel: string) =>
      failover
        .locator(sel)
        .first()
        .evaluate((el) => {
          const b = (el as unknown as Graphic).getBBox()
          return b.x + b.width / 2
        })
    const decided = await centre('path.mark.decision')
    expect(await centre('circle.mark.detection')).toBeLessThanOrEqual(decided + 0.01)
    expect(await centre('rect.step[data-step="verify-writes"]')).toBeGreaterThan(decided)
    const failback = svgs.nth(1)
    expect(await failback.locator('rect.step[data-step="stage-10"]').count()).toBe(1)
    // Rendered, on screen, with the page's styles applied.
    const box = await failover.boundingBox()
    expect(box?.width).toBeGreaterThan(300)
    const fill = await failover
      .locator('rect.step.succeeded')
      .first()
      .evaluate((el) => (globalThis as unknown as WithStyles).getComputedStyle(el).fill)
    expect(fill).toBe('rgb(45, 164, 78)')
    expect(await page.locator('.verdict.ok').textContent()).toContain('VERIFIED')
    await page.close()
    expect(problems).toEqual([])
  }, 90_000)
})
