import { describe, expect, it } from 'vitest'
import { createEventBus, type EngineEvent } from '../src/index.js'

const degraded: EngineEvent = {
  type: 'health.degraded',
  at: 1,
  region: 'a',
  status: 'down',
  reasons: [],
}

describe('event bus', () => {
  it('delivers by type, to onAny, once, and stops after dispose', () => {
    const bus = createEventBus()
    const seen: string[] = []
    const off = bus.on('health.degraded', (e) => seen.push(`on:${e.region}`))
    bus.once('health.degraded', () => seen.push('once'))
    const offAny = bus.onAny((e) => seen.push(`any:${e.type}`))
    bus.emit(degraded)
    bus.emit({ type: 'health.recovered', at: 2, region: 'a' })
    off()
    offAny()
    bus.emit(degraded)
    expect(seen).toEqual(['on:a', 'once', 'any:health.degraded', 'any:health.recovered'])
  })

  it('reports a throwing listener as an error event instead of throwing', () => {
    const bus = createEventBus()
    const errors: unknown[] = []
    bus.on('error', (e) => errors.push(e.context))
    bus.on('health.degraded', () => {
      throw new Error('listener bug')
    })
    expect(() => bus.emit(degraded)).not.toThrow()
    expect(errors).toEqual(['listener of health.degraded'])
  })
})
