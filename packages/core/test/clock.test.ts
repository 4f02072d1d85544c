import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createSystemClock, createVirtualClock } from '../src/clock.js'
import { describeClock } from '../src/testing/index.js'

describeClock('system', { create: () => ({ clock: createSystemClock() }) })

describeClock('virtual', {
  create: () => {
    const clock = createVirtualClock()
    return { clock, advance: (ms) => clock.advance(ms) }
  },
})

describe('createVirtualClock', () => {
  it('starts at the given time (default 2026-01-01) and stands still', async () => {
    expect(createVirtualClock().now()).toBe(Date.UTC(2026, 0, 1))
    const clock = createVirtualClock(1_000)
    expect(clock.now()).toBe(1_000)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(clock.now()).toBe(1_000)
  })

  it('fires timers due at the same time in creation order, each woken before the next fires', async () => {
    const clock = createVirtualClock(0)
    const log: string[] = []
    const sleeper = async (label: string, ms: number) => {
      await clock.sleep(ms)
      log.push(`${label}@${clock.now()}`)
      // Code woken by one timer runs before the next timer fires.
      await Promise.resolve()
      log.push(`${label}-after`)
    }
    const all = Promise.all([sleeper('a', 10), sleeper('b', 5), sleeper('c', 10), sleeper('d', 10)])
    expect(clock.pending).toBe(4)
    await clock.advance(10)
    await all
    expect(log).toEqual(['b@5', 'b-after', 'a@10', 'a-after', 'c@10', 'c-after', 'd@10', 'd-after'])
    expect(clock.now()).toBe(10)
    expect(clock.pending).toBe(0)
  })

  it('advance fires timers that woken code creates within the advanced span, at their own times', async () => {
    const clock = createVirtualClock(0)
    const times: number[] = []
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(30)
        times.push(clock.now())
      }
    })()
    await clock.advance(100)
    expect(times).toEqual([30, 60, 90])
    expect(clock.now()).toBe(100)
    expect(clock.pending).toBe(1)
    await clock.advance(50)
    await loop
    expect(times).toEqual([30, 60, 90, 120, 150])
  })

  it('advance fires a timer due exactly at the end of the span, and none after it', async () => {
    const clock = createVirtualClock(0)
    const fired: number[] = []
    void clock.sleep(100).then(() => fired.push(100))
    void clock.sleep(101).then(() => fired.push(101))
    await clock.advance(100)
    expect(fired).toEqual([100])
    expect(clock.pending).toBe(1)
    await clock.advance(0)
    expect(fired).toEqual([100])
    await clock.advance(1)
    expect(fired).toEqual([100, 101])
  })

  it('treats negative sleeps and advances as zero', async () => {
    const clock = createVirtualClock(500)
    let done = false
    void clock.sleep(-10).then(() => {
      done = true
    })
    await clock.advance(-20)
    expect(done).toBe(true)
    expect(clock.now()).toBe(500)
  })

  it('next() jumps to the next timer and fires every timer due then', async () => {
    const clock = createVirtualClock(0)
    const fired: string[] = []
    void clock.sleep(50).then(() => fired.push('x'))
    void clock.sleep(50).then(() => fired.push('y'))
    void clock.sleep(80).then(() => fired.push('z'))
    expect(await clock.next()).toBe(true)
    expect(clock.now()).toBe(50)
    expect(fired).toEqual(['x', 'y'])
    expect(await clock.next()).toBe(true)
    expect(clock.now()).toBe(80)
    expect(fired).toEqual(['x', 'y', 'z'])
    expect(await clock.next()).toBe(false)
    expect(clock.now()).toBe(80)
  })

  it('runUntilIdle runs everything to idle, including timers armed by woken code', async () => {
    const clock = createVirtualClock(0)
    let count = 0
    const chain = (async () => {
      for (let i = 0; i < 10; i++) {
        await clock.sleep(1_000)
        count++
      }
    })()
    await clock.runUntilIdle()
    await chain
    expect(count).toBe(10)
    expect(clock.now()).toBe(10_000)
    expect(clock.pending).toBe(0)
  })

  it('runUntilIdle stops at its time limit, leaving later timers pending', async () => {
    const clock = createVirtualClock(0)
    let ticks = 0
    let stop = false
    const forever = (async () => {
      while (!stop) {
        await clock.sleep(100)
        ticks++
      }
    })()
    await clock.runUntilIdle({ limit: 1_050 })
    expect(ticks).toBe(10)
    expect(clock.now()).toBe(1_050)
    expect(clock.pending).toBe(1)
    stop = true
    await clock.advance(100)
    await forever
  })

  it('runUntilIdle stops after maxTimers fired', async () => {
    const clock = createVirtualClock(0)
    let ticks = 0
    let stop = false
    const forever = (async () => {
      while (!stop) {
        await clock.sleep(10)
        ticks++
      }
    })()
    await clock.runUntilIdle({ maxTimers: 25 })
    expect(ticks).toBe(25)
    expect(clock.now()).toBe(250)
    expect(clock.pending).toBe(1)
    stop = true
    await clock.advance(10)
    await forever
  })

  it('runUntilIdle returns at once when nothing is pending', async () => {
    const clock = createVirtualClock(0)
    await clock.runUntilIdle({ limit: 10_000 })
    expect(clock.now()).toBe(0)
  })

  it('abort removes the timer: it no longer counts as pending and never fires', async () => {
    const clock = createVirtualClock(0)
    const controller = new AbortController()
    let fired = false
    const doomed = clock.sleep(100, controller.signal).then(
      () => {
        fired = true
      },
      (e: unknown) => e,
    )
    const other = clock.sleep(100)
    expect(clock.pending).toBe(2)
    const reason = new Error('stop')
    controller.abort(reason)
    const error = await doomed
    expect(isBatonError(error, 'ABORTED')).toBe(true)
    expect((error as Error).cause).toBe(reason)
    expect(clock.pending).toBe(1)
    await clock.advance(100)
    await other
    expect(fired).toBe(false)
    expect(clock.pending).toBe(0)
  })

  it('a signal aborted after its timer fired changes nothing', async () => {
    const clock = createVirtualClock(0)
    const controller = new AbortController()
    const sleep = clock.sleep(10, controller.signal)
    await clock.advance(10)
    await sleep
    controller.abort()
    expect(clock.pending).toBe(0)
  })

  it('is deterministic: the same script sees the same times', async () => {
    const script = async () => {
      const clock = createVirtualClock(7)
      const seen: number[] = []
      const tasks = [3, 1, 2].map(async (k) => {
        for (let i = 0; i < 3; i++) {
          await clock.sleep(k * 10)
          seen.push(k * 1_000_000 + clock.now())
        }
      })
      await clock.runUntilIdle()
      await Promise.all(tasks)
      return seen
    }
    expect(await script()).toEqual(await script())
  })
})

describe('virtual clock: runaway zero-delay timers', () => {
  it('gives up on a sleep(0) polling loop instead of hanging', async () => {
    const { createVirtualClock } = await import('../src/index.js')
    const clock = createVirtualClock(0)
    let stop = false
    const loop = (async () => {
      while (!stop) await clock.sleep(0)
    })()
    await expect(clock.advance(10)).rejects.toThrow(/sleep\(0\)/)
    stop = true
    await clock.runUntilIdle({ maxTimers: 5 })
    await loop
  }, 60_000)

  it('runUntilIdle stops after maxTimers without throwing', async () => {
    const { createVirtualClock } = await import('../src/index.js')
    const clock = createVirtualClock(0)
    let n = 0
    let stop = false
    const loop = (async () => {
      while (!stop) {
        await clock.sleep(0)
        n++
      }
    })()
    await clock.runUntilIdle({ maxTimers: 50 })
    expect(n).toBe(50)
    stop = true
    await clock.runUntilIdle({ maxTimers: 5 })
    await loop
  })
})
