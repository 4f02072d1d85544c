import { defineConfig, type Options } from 'tsup'

const common: Options = {
  sourcemap: true,
  clean: false, // the package's build script empties dist/ once, before both builds
  target: 'node22',
  platform: 'node',
  external: ['vitest', '@baton/ledger'],
}

export default defineConfig([
  {
    // ESM: the engine and the port conformance suites.
    ...common,
    entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
    format: ['esm'],
    splitting: true,
    dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  },
  {
    // CommonJS: the engine only (the suites need vitest, which is ESM-only).
    ...common,
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: { entry: { index: 'src/index.ts' } },
  },
])
