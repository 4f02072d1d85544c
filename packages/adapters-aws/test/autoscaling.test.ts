import {
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling'
import { describeScaler } from '@baton/core/testing'
import { describe, expect, it } from 'vitest'
import { type AutoScalingScalerOptions, createAutoScalingScaler } from '../src/index.js'
import { createFakeAutoScaling, type FakeAutoScaling } from './support/fake-autoscaling.js'

const R = 'us-west-2'
const ctx = { epoch: 1 }
const fast = {
  pollIntervalMs: 1,
  waitTimeoutMs: 5_000,
  retry: { baseDelayMs: 1, maxAttempts: 3, attemptTimeoutMs: 200 },
}

function scalerOf(fake: FakeAutoScaling, extra: Partial<AutoScalingScalerOptions> = {}) {
  return createAutoScalingScaler({
    groups: { [R]: 'api-usw2' },
    clients: fake.clients,
    ...fast,
    ...extra,
  })
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}

describeScaler('Auto Scaling group (aws-sdk-client-mock)', {
  create: async () => {
    const fake = createFakeAutoScaling({ [R]: { name: 'api-usw2', desired: 1 } })
    return { scaler: scalerOf(fake), region: R }
  },
  target: 3,
  checksEpoch: true,
  timeoutMs: 10_000,
})

describeScaler('Auto Scaling group, limits widened (aws-sdk-client-mock)', {
  create: async () => {
    const fake = createFakeAutoScaling({ [R]: { name: 'api-usw2', desired: 1, min: 1, max: 2 } })
    return { scaler: scalerOf(fake, { adjustLimits: true }), region: R }
  },
  target: 4,
  timeoutMs: 10_000,
})

describe('Auto Scaling scaler', () => {
  it('counts only InService and Healthy instances as ready, and waits for them', async () => {
    const fake = createFakeAutoScaling({ [R]: { name: 'api-usw2', desired: 1 } })
    fake.bootPolls = 3
    const scaler = scalerOf(fake)
    await scaler.scale(R, 3, ctx)
    expect(await scaler.capacity(R, ctx)).toEqual({ desired: 3, ready: 1 })
    const ready = await scaler.waitReady(R, 3, ctx)
    expect(ready).toEqual({ desired: 3, ready: 3 })
    expect(
      fake.calls.filter((c) => c.endsWith('DescribeAutoScalingGroups')).length,
    ).toBeGreaterThanOrEqual(3)
    const sent = fake.mocks[R]!.commandCalls(SetDesiredCapacityCommand)[0]!.args[0].input
    expect(sent).toEqual({
      AutoScalingGroupName: 'api-usw2',
      DesiredCapacity: 3,
      HonorCooldown: false,
    })
  })

  it('times out waiting for instances that never become healthy', async () => {
    const fake = createFakeAutoScaling({ [R]: { name: 'api-usw2', desired: 0 } })
    fake.unhealthy = true
    const scaler = scalerOf(fake, { waitTimeoutMs: 40, pollIntervalMs: 5 })
    await scaler.scale(R, 2, ctx)
    expect(await errorOf(scaler.waitReady(R, 2, ctx))).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/0 of 2 instances InService/),
    })
  })

  it('passes a ValidationError (above MaxSize) through unretried; adjustLimits widens MaxSize', async () => {
    const fake = createFakeAutoScaling({ [R]: { name: 'api-usw2', desired: 1, max: 2 } })
    const error = await errorOf(scalerOf(fake).scale(R, 5, ctx))
    expect(error).toMatchObject({
      code: 'ADAPTER',
      awsCode: 'ValidationError',
      message: expect.stringMatching(/above max value 2/),
    })
    expect(fake.calls.filter((c) => c.endsWith('SetDesiredCapacity'))).toHaveLength(1)
    await scalerOf(fake, { adjustLimits: true }).scale(R, 5, ctx)
    expect(fake.mocks[R]!.commandCalls(UpdateAutoScalingGroupCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'api-usw2',
      DesiredCapacity: 5,
      MinSize: 0,
      MaxSize: 5,
    })
    expect(fake.groups.get(R)!.desired).toBe(5)
  })

  it('retries throttling and a hung describe; gives up after maxAttempts', async () => {
    const fake = createFakeAutoScaling({ [R]: { name: 'api-usw2', desired: 1 } })
    const throttled = () =>
      Object.assign(new Error('Rate exceeded'), {
        name: 'Throttling',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      })
    fake.faults.SetDesiredCapacity = [throttled(), throttled()]
    fake.faults.DescribeAutoScalingGroups = ['hang']
    const scaler = scalerOf(fake)
    await scaler.scale(R, 2, ctx)
    expect(await scaler.waitReady(R, 2, ctx)).toMatchObject({ ready: 2 })
    expect(fake.calls.filter((c) => c.endsWith('SetDesiredCapacity'))).toHaveLength(3)
    fake.faults.SetDesiredCapacity = [throttled(), throttled(), throttled()]
    expect(await errorOf(scaler.scale(R, 1, ctx))).toMatchObject({
      code: 'ADAPTER',
      awsCode: 'Throttling',
    })
    expect(fake.groups.get(R)!.desired).toBe(2)
  })

  it('aborts a wait in progress; reports a missing group; refuses unknown regions and bad options', async () => {
    const fake = createFakeAutoScaling({ [R]: { name: 'api-usw2', desired: 0 } })
    fake.bootPolls = 1_000_000
    const scaler = scalerOf(fake, { pollIntervalMs: 20 })
    await scaler.scale(R, 1, ctx)
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('cancelled')), 50)
    expect(
      await errorOf(scaler.waitReady(R, 1, { epoch: 1, signal: controller.signal })),
    ).toMatchObject({ code: 'ABORTED' })
    const missing = createAutoScalingScaler({
      groups: { [R]: 'nope' },
      clients: fake.clients,
      ...fast,
    })
    expect(await errorOf(missing.capacity(R, ctx))).toMatchObject({
      code: 'ADAPTER',
      message: expect.stringMatching(/no Auto Scaling group nope/),
    })
    expect(await errorOf(scaler.capacity('eu-west-1', ctx))).toMatchObject({
      code: 'INVALID_CONFIG',
      path: 'region',
    })
    expect(await errorOf(scaler.waitReady(R, -2, ctx))).toMatchObject({
      code: 'INVALID_CONFIG',
      path: 'ready',
    })
    for (const [opts, path] of [
      [{ groups: {} }, 'groups'],
      [{ groups: { [R]: '' } }, `groups.${R}`],
      [{ groups: { [R]: 'a' }, pollIntervalMs: Number.NaN }, 'pollIntervalMs'],
      [{ groups: { [R]: 'a' }, retry: { attemptTimeoutMs: -1 } }, 'retry.attemptTimeoutMs'],
    ] as const) {
      let thrown: unknown
      try {
        createAutoScalingScaler(opts as AutoScalingScalerOptions)
      } catch (e) {
        thrown = e
      }
      expect(thrown, path).toMatchObject({ code: 'INVALID_CONFIG', path })
    }
  })
})
