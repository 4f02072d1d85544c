import { defineProject } from 'vitest/config'
import { workspaceAliases } from '../../vitest.shared.js'

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: {
    name: 'adapters-postgres',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Every file starts its own PostgreSQL clusters: one file at a time keeps a 2-core machine responsive.
    fileParallelism: false,
  },
})
