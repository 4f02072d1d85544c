import { defineConfig, type Options } from 'tsup'

const common: Options = {
  sourcemap: true,
  clean: false, // the package's build script empties dist/ once, before both builds
  target: 'node22',
  platform: 'node',
  external: [/^@baton\//, /^@aws-sdk\//, /^@smithy\//],
}

const entry = { index: 'src/index.ts', cli: 'src/cli.ts' }

export default defineConfig([
  { ...common, entry, format: ['esm'], splitting: true, dts: { entry } },
  { ...common, entry, format: ['cjs'], dts: { entry } },
])
