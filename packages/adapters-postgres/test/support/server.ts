/**
 * One local PostgreSQL server shared by a test file: started in `beforeAll`,
 * removed in `afterAll`. Each test uses its own ledger, lease or table
 * names on it, so tests never see each other's rows.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll } from 'vitest'
import {
  createClusterRoot,
  createLocalPrimary,
  type LocalCluster,
} from '../../src/testing/index.js'

/** The server of this file (valid once `beforeAll` ran). */
export interface SharedServer {
  readonly cluster: LocalCluster
  url(): string
}

/** Starts a primary for this file's tests and removes it after them. */
export function sharedServer(): SharedServer {
  let cluster: LocalCluster | undefined
  let root: string | undefined
  beforeAll(async () => {
    root = await createClusterRoot()
    cluster = await createLocalPrimary({ name: 'shared', root, fsync: false })
  })
  afterAll(async () => {
    await cluster?.stop('immediate').catch(() => undefined)
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })
  return {
    get cluster() {
      if (cluster === undefined) throw new Error('the shared server is not started yet')
      return cluster
    },
    url: () => {
      if (cluster === undefined) throw new Error('the shared server is not started yet')
      return cluster.url()
    },
  }
}

let counter = 0
/** A name no other test of this process uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${++counter}`
}
