/**
 * Settings every package's vitest project shares: workspace packages resolve
 * to their TypeScript sources, so tests never depend on a stale build.
 */
import { fileURLToPath } from 'node:url'

const src = (path: string): string => fileURLToPath(new URL(`./packages/${path}`, import.meta.url))

/** Aliases from workspace package names to their sources (most specific first). */
export const workspaceAliases = [
  { find: /^@baton\/adapters-aws\/cli$/, replacement: src('adapters-aws/src/cli.ts') },
  { find: /^@baton\/adapters-aws$/, replacement: src('adapters-aws/src/index.ts') },
  { find: /^@baton\/adapters-gcp\/cli$/, replacement: src('adapters-gcp/src/cli.ts') },
  { find: /^@baton\/adapters-gcp$/, replacement: src('adapters-gcp/src/index.ts') },
  { find: /^@baton\/adapters-postgres\/cli$/, replacement: src('adapters-postgres/src/cli.ts') },
  {
    find: /^@baton\/adapters-postgres\/drill$/,
    replacement: src('adapters-postgres/src/drill/index.ts'),
  },
  {
    find: /^@baton\/adapters-postgres\/testing$/,
    replacement: src('adapters-postgres/src/testing/index.ts'),
  },
  { find: /^@baton\/adapters-postgres$/, replacement: src('adapters-postgres/src/index.ts') },
  { find: /^@baton\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
  { find: /^@baton\/core$/, replacement: src('core/src/index.ts') },
  { find: /^@baton\/ledger\/testing$/, replacement: src('ledger/src/testing/index.ts') },
  { find: /^@baton\/ledger$/, replacement: src('ledger/src/index.ts') },
]
