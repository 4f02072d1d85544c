/**
 * Scenario 4, a lost Cloud Run image, as a drill on the virtual clock: the
 * deployment fails (image not found), the git tag is resolved to its
 * commit, the source is compiled, then the tests and the image build run
 * side by side (the runbook runs build, test and docker build one after
 * another), the image is pushed and the deployment retried. The
 * `ggen.image_rebuild_executed` receipt records it, matching the runbook's
 * contract.
 *
 * @module
 */
import { type Clock, createVirtualClock, type VirtualClock } from '@baton/core'
import { createLedger, createMemoryStore, type StoredReceipt } from '@baton/ledger'
import { contractType, type ImageRebuildContract } from './contracts.ts'

/** The container registry. */
export interface Registry {
  has(image: string): Promise<boolean>
  push(image: string, digest: string): Promise<void>
}

/** The git repository: a tag's commit, if the tag exists. */
export interface Git {
  resolveTag(tag: string): Promise<string | undefined>
}

/** Cloud Build and Cloud Run. */
export interface Build {
  /** `cargo build --release` of `commit`. */
  compile(commit: string): Promise<void>
  /** `cargo test`; true when every test passed. */
  test(commit: string): Promise<boolean>
  /** `docker build`; returns the image digest. */
  image(commit: string): Promise<string>
  /** Deploys `image` to Cloud Run; true when it is serving. */
  deploy(image: string): Promise<boolean>
}

/** Options of {@link createMemoryBuild}. */
export interface MemoryBuildOptions {
  /** The drill's virtual clock: every build step sleeps on it. */
  readonly clock: VirtualClock
  /** Tags that exist and their commits. Default `v1.2.3` → `abc123def456`. */
  readonly tags?: Readonly<Record<string, string>>
  /** Whether `cargo test` passes. Default true. */
  readonly testsPass?: boolean
}

/** In-memory registry (the image is gone), git and builds taking the runbook's times. */
export function createMemoryBuild(options: MemoryBuildOptions): {
  readonly registry: Registry
  readonly git: Git
  readonly build: Build
} {
  const { clock } = options
  const images = new Map<string, string>()
  const tags = options.tags ?? { 'v1.2.3': 'abc123def456' }
  return {
    registry: {
      async has(image) {
        return images.has(image)
      },
      async push(image, digest) {
        await clock.sleep(30_000)
        images.set(image, digest)
      },
    },
    git: {
      async resolveTag(tag) {
        await clock.sleep(60_000)
        return tags[tag]
      },
    },
    build: {
      async compile() {
        await clock.sleep(5 * 60_000)
      },
      async test() {
        await clock.sleep(3 * 60_000)
        return options.testsPass ?? true
      },
      async image(commit) {
        await clock.sleep(2 * 60_000)
        return `sha256:${commit.padEnd(64, '0')}`
      },
      async deploy(image) {
        await clock.sleep(45_000)
        return images.has(image)
      },
    },
  }
}

/** The runbook's timeline for scenario 4, one step after another (ms). */
export const REBUILD_RUNBOOK_TIMELINE = [
  { step: 'Operator notification', ms: 60_000 },
  { step: 'Rebuild decision: verify the git tag', ms: 2 * 60_000 },
  { step: 'cargo build --release', ms: 5 * 60_000 },
  { step: 'cargo test', ms: 3 * 60_000 },
  { step: 'docker build + push', ms: 2 * 60_000 + 30_000 },
  { step: 'Deployment retry', ms: 45_000 },
] as const

/** What the rebuild did. */
export interface ImageRebuildResult {
  /** The contract receipt. */
  readonly contract: StoredReceipt<string, ImageRebuildContract>
  /** From the failed deployment to the image serving (ms). */
  readonly rtoMs: number
  /** Every receipt of the drill's ledger (the contract last). */
  readonly receipts: readonly StoredReceipt[]
}

/** Runs scenario 4 for `image` (`gcr.io/…/governor:1.2.3`, tag `v1.2.3`). */
export async function runImageRebuildDrill(
  options: {
    readonly image?: string
    readonly start?: string
    readonly testsPass?: boolean
    readonly tags?: Readonly<Record<string, string>>
  } = {},
): Promise<ImageRebuildResult> {
  const image = options.image ?? 'gcr.io/ggen-prod/governor:1.2.3'
  const tag = `v${image.split(':').at(-1)}`
  const clock = createVirtualClock(Date.parse(options.start ?? '2026-01-25T12:40:00Z'))
  const ports = createMemoryBuild({
    clock,
    ...(options.testsPass === undefined ? {} : { testsPass: options.testsPass }),
    ...(options.tags === undefined ? {} : { tags: options.tags }),
  })
  const store = createMemoryStore({ name: 'ggen-receipts' })
  const ledger = createLedger({ store, clock: clock as Clock })
  // Settled as soon as it ends, so a failure is not left unhandled while the clock runs.
  const work = rebuild(image, tag, ports, clock).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  await clock.runUntilIdle()
  const settled = await work
  if ('error' in settled) throw settled.error
  const outcome = settled.value
  const contract = await ledger.append({
    type: contractType(outcome.data.operation),
    data: outcome.data,
  })
  const receipts: StoredReceipt[] = []
  for await (const r of ledger.read()) receipts.push(r)
  await ledger.close()
  return { contract, rtoMs: outcome.rtoMs, receipts }
}

async function rebuild(
  image: string,
  tag: string,
  ports: ReturnType<typeof createMemoryBuild>,
  clock: VirtualClock,
): Promise<{ data: ImageRebuildContract; rtoMs: number }> {
  const started = clock.now()
  if (await ports.registry.has(image)) throw new Error(`${image} is there: nothing to rebuild`)
  await clock.sleep(60_000) // the alert reaches the operator
  const commit = await ports.git.resolveTag(tag)
  if (commit === undefined)
    throw new Error(`tag ${tag} not found: the image cannot be rebuilt from source`)
  const buildStarted = clock.now()
  await ports.build.compile(commit)
  // Tests and the image build need only the compiled tree: side by side.
  const [testPassed, digest] = await Promise.all([
    ports.build.test(commit),
    ports.build.image(commit),
  ])
  if (!testPassed) throw new Error(`cargo test failed for ${commit}: ${image} is not pushed`)
  await ports.registry.push(image, digest)
  const deployed = await ports.build.deploy(image)
  const buildSeconds = Math.round((clock.now() - buildStarted) / 1_000)
  return {
    data: {
      operation: 'image_rebuild_executed',
      image,
      reason: 'image_not_found',
      source_commit: commit,
      build_duration_seconds: buildSeconds,
      test_passed: testPassed,
      deployment_successful: deployed,
      status: 'rebuilt',
    },
    rtoMs: clock.now() - started,
  }
}
