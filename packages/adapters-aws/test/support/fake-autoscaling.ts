/**
 * Auto Scaling groups behind aws-sdk-client-mock'ed clients, one per
 * region, following the request/response contract the scaler uses:
 * SetDesiredCapacity (ValidationError outside MinSize–MaxSize, and for an
 * unknown group; ScalingActivityInProgress with HonorCooldown during a
 * cooldown), UpdateAutoScalingGroup (ValidationError when Min > desired or
 * desired > Max), and DescribeAutoScalingGroups (new instances are
 * `Pending` for a few describes, then `InService`/`Healthy`; surplus ones
 * go `Terminating` and disappear). Faults are queued per operation.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type Instance,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling'
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock'

export type Fault = Error | 'hang'

export interface FakeGroup {
  name: string
  min: number
  max: number
  desired: number
  instances: { id: string; state: string; healthy: boolean; polls: number }[]
  cooldownUntil: number
}

export interface FakeAutoScaling {
  readonly clients: Record<string, AutoScalingClient>
  readonly mocks: Record<string, AwsClientStub<AutoScalingClient>>
  readonly groups: Map<string, FakeGroup>
  readonly faults: Record<string, Fault[]>
  readonly calls: string[]
  /** Describes a new instance stays Pending. */
  bootPolls: number
  /** New instances fail their health check (never count as ready). */
  unhealthy: boolean
}

function validation(message: string): Error {
  return Object.assign(new Error(message), {
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  })
}

export function createFakeAutoScaling(
  groups: Record<string, { name: string; min?: number; max?: number; desired?: number }>,
): FakeAutoScaling {
  const fake: FakeAutoScaling = {
    clients: {},
    mocks: {},
    groups: new Map(),
    faults: {},
    calls: [],
    bootPolls: 2,
    unhealthy: false,
  }
  let next = 1
  const launch = (g: FakeGroup, state = 'Pending'): void => {
    g.instances.push({
      id: `i-${(next++).toString(16).padStart(17, '0')}`,
      state,
      healthy: !fake.unhealthy,
      polls: fake.bootPolls,
    })
  }
  const resize = (g: FakeGroup, desired: number): void => {
    g.desired = desired
    const live = g.instances.filter((i) => i.state !== 'Terminating')
    for (let n = live.length; n < desired; n++) launch(g)
    for (const i of live.slice(desired)) i.state = 'Terminating'
  }
  for (const [region, spec] of Object.entries(groups)) {
    const g: FakeGroup = {
      name: spec.name,
      min: spec.min ?? 0,
      max: spec.max ?? 10,
      desired: 0,
      instances: [],
      cooldownUntil: 0,
    }
    for (let n = 0; n < (spec.desired ?? 1); n++) launch(g, 'InService')
    g.desired = spec.desired ?? 1
    fake.groups.set(region, g)
    const client = new AutoScalingClient({
      region,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    })
    const mock = mockClient(client)
    fake.clients[region] = client
    fake.mocks[region] = mock
    const enter = async (op: string, name: string | undefined): Promise<FakeGroup> => {
      fake.calls.push(`${region} ${op}`)
      const f = fake.faults[op]?.shift()
      if (f === 'hang') await new Promise(() => undefined)
      if (f !== undefined) throw f
      if (name !== g.name) throw validation(`AutoScalingGroup name not found - ${name}`)
      return g
    }
    mock.on(SetDesiredCapacityCommand).callsFake(async (input) => {
      const group = await enter('SetDesiredCapacity', input.AutoScalingGroupName)
      const d = input.DesiredCapacity ?? -1
      if (d > group.max) {
        throw validation(
          `New SetDesiredCapacity value ${d} is above max value ${group.max} for the AutoScalingGroup.`,
        )
      }
      if (d < group.min) {
        throw validation(
          `New SetDesiredCapacity value ${d} is below min value ${group.min} for the AutoScalingGroup.`,
        )
      }
      if (input.HonorCooldown === true && Date.now() < group.cooldownUntil) {
        throw Object.assign(new Error('Scaling activity in progress'), {
          name: 'ScalingActivityInProgressFault',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        })
      }
      resize(group, d)
      return {}
    })
    mock.on(UpdateAutoScalingGroupCommand).callsFake(async (input) => {
      const group = await enter('UpdateAutoScalingGroup', input.AutoScalingGroupName)
      const min = input.MinSize ?? group.min
      const max = input.MaxSize ?? group.max
      const d = input.DesiredCapacity ?? group.desired
      if (min > max || d < min || d > max) {
        throw validation(
          `Desired capacity:${d} must be between the specified min size:${min} and max size:${max}`,
        )
      }
      group.min = min
      group.max = max
      resize(group, d)
      return {}
    })
    mock.on(DescribeAutoScalingGroupsCommand).callsFake(async (input) => {
      fake.calls.push(`${region} DescribeAutoScalingGroups`)
      const f = fake.faults.DescribeAutoScalingGroups?.shift()
      if (f === 'hang') await new Promise(() => undefined)
      if (f !== undefined) throw f
      if (!(input.AutoScalingGroupNames ?? []).includes(g.name)) return { AutoScalingGroups: [] }
      g.instances = g.instances.filter((i) => i.state !== 'Terminating' || --i.polls > 0)
      for (const i of g.instances) {
        if (i.state === 'Pending' && --i.polls <= 0) i.state = 'InService'
      }
      const instances: Instance[] = g.instances.map((i) => ({
        InstanceId: i.id,
        AvailabilityZone: `${region}a`,
        LifecycleState: i.state as Instance['LifecycleState'],
        HealthStatus: i.healthy ? 'Healthy' : 'Unhealthy',
        ProtectedFromScaleIn: false,
      }))
      return {
        AutoScalingGroups: [
          {
            AutoScalingGroupName: g.name,
            MinSize: g.min,
            MaxSize: g.max,
            DesiredCapacity: g.desired,
            DefaultCooldown: 300,
            AvailabilityZones: [`${region}a`],
            HealthCheckType: 'EC2',
            CreatedTime: new Date(0),
            Instances: instances,
          },
        ],
      }
    })
  }
  return fake
}
