import { defineConfig, type Options } from 'tsup'

const common: Options = {
  sourcemap: true,
  clean: false, // the package's build script empties dist/ once, before both builds
  target: 'node22',
  platform: 'node',
  external: ['vitest', '@baton/ledger', '@baton/core', 'pg'],
}

export default defineConfig([
  {
    // ESM: the adapters, the CLI seam, the local drill and the test-cluster helper.
    ...common,
    entry: {
      index: 'src/index.ts',
      cli: 'src/cli.ts',
      drill: 'src/drill/index.ts',
      testing: 'src/testing/index.ts',
    },
    format: ['esm'],
    splitting: true,
    dts: {
      entry: {
        index: 'src/index.ts',
        cli: 'src/cli.ts',
        drill: 'src/drill/index.ts',
        testing: 'src/testing/index.ts',
      },
    },
  },
  {
    // CommonJS: the adapters only.
    ...common,
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: { entry: { index: 'src/index.ts' } },
  },
])
