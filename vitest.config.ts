import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'test'],
    // On CI, also write a machine-readable report: .ci/run prints its totals.
    ...(process.env.CI === 'true'
      ? {
          reporters: ['default', 'json'],
          outputFile: { json: '.ci/vitest-results.json' },
        }
      : {}),
  },
})
