import { defineConfig, type Options } from 'tsup'

const common: Options = {
  sourcemap: true,
  clean: false, // the package's build script empties dist/ once, before both builds
  target: 'node22',
  platform: 'node',
}

export default defineConfig([
  {
    // ESM: the library entry and the `baton` executable.
    ...common,
    entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
    format: ['esm'],
    splitting: true,
    dts: { entry: { index: 'src/index.ts' } },
  },
  {
    // CommonJS: the library entry only.
    ...common,
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: { entry: { index: 'src/index.ts' } },
  },
])
