import { defineConfig, type Options } from 'tsup'

const common: Options = {
  sourcemap: true,
  clean: false, // the package's build script empties dist/ once, before both builds
  target: 'node22',
  platform: 'node',
  // Workspace packages and the Google Cloud clients stay imports, resolved at run time.
  external: [
    '@baton/core',
    '@baton/ledger',
    '@google-cloud/dns',
    '@google-cloud/firestore',
    '@google-cloud/storage',
  ],
}

const entry = { index: 'src/index.ts', cli: 'src/cli.ts' }

export default defineConfig([
  {
    // ESM: the adapters and the CLI's `./cli` entry.
    ...common,
    entry,
    format: ['esm'],
    splitting: true,
    dts: { entry },
  },
  {
    // CommonJS: the same entries.
    ...common,
    entry,
    format: ['cjs'],
    dts: { entry },
  },
])
