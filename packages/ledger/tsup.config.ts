import { defineConfig, type Options } from 'tsup'

const common: Options = {
  sourcemap: true,
  clean: false, // the package's build script empties dist/ once, before both builds
  target: 'node22',
  platform: 'node',
  external: ['vitest'],
}

export default defineConfig([
  {
    // ESM: the library, the store conformance suite and its worker process.
    ...common,
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing/index.ts',
      'testing-worker': 'src/testing/append-worker.ts',
    },
    format: ['esm'],
    splitting: true,
    dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  },
  {
    // CommonJS: the library only (the test suite needs vitest, which is ESM-only).
    ...common,
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: { entry: { index: 'src/index.ts' } },
  },
])
