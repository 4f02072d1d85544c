import { createMemoryStore, createMemoryTarget, type LedgerStore } from '@baton/ledger'
import { afterEach, describe, expect, it } from 'vitest'
import { type CliAdapterOptions, setAdapterImporter } from '../src/_adapters.js'
import { baton } from './support.js'

let restoreImporter: ((specifier: string) => Promise<unknown>) | undefined
afterEach(() => {
  if (restoreImporter !== undefined) setAdapterImporter(restoreImporter)
  restoreImporter = undefined
})

/** Serves `fake://` URLs as if an adapter package were installed; records each call. */
function fakeAdapter(stores: Map<string, LedgerStore>) {
  const calls: { specifier: string; url: string; options: CliAdapterOptions }[] = []
  restoreImporter = setAdapterImporter(async (specifier) => {
    if (specifier !== '@baton/adapters-aws/cli') {
      throw Object.assign(new Error(`Cannot find package '${specifier}'`), {
        code: 'ERR_MODULE_NOT_FOUND',
      })
    }
    return {
      async openLedger(url: URL, options: CliAdapterOptions) {
        calls.push({ specifier, url: url.href, options })
        let store = stores.get(url.href)
        if (store === undefined) {
          store = createMemoryStore()
          stores.set(url.href, store)
        }
        // The CLI closes what it opened; the fake keeps the ledger for the next command.
        const kept = store
        return new Proxy(kept, {
          get: (t, key) => (key === 'close' ? async () => {} : Reflect.get(t, key, t)),
        })
      },
      async openTarget(url: URL, options: CliAdapterOptions) {
        calls.push({ specifier, url: url.href, options })
        return createMemoryTarget()
      },
    }
  })
  return calls
}

describe('ledgers and targets behind URL schemes', () => {
  it('opens s3:// ledgers through the adapter package, passing --endpoint wherever it is given', async () => {
    const stores = new Map<string, LedgerStore>()
    const calls = fakeAdapter(stores)
    const appended = await baton([
      'append',
      's3://bucket/ledger',
      '--type',
      'x.y',
      '--data',
      '{"a":1}',
      '--endpoint',
      'http://127.0.0.1:1',
    ])
    expect(appended.stderr).toBe('')
    expect(appended.code).toBe(0)
    const verified = await baton([
      '--endpoint',
      'http://127.0.0.1:2',
      'verify',
      's3://bucket/ledger',
      '--json',
    ])
    expect(verified.code).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ status: 'VERIFIED', checked: 1 })
    expect(calls.map((c) => [c.url, c.options.endpoint, c.options.readOnly])).toEqual([
      ['s3://bucket/ledger', 'http://127.0.0.1:1', undefined],
      ['s3://bucket/ledger', 'http://127.0.0.1:2', true],
    ])
    expect(calls[0]?.options.name).toBe('<dir>')
  })

  it('reads the endpoint from BATON_ENDPOINT when no option is given', async () => {
    const calls = fakeAdapter(new Map())
    const r = await baton(['inspect', 's3://b/p'], {
      env: { BATON_ENDPOINT: 'http://127.0.0.1:9' },
    })
    expect(r.code).toBe(0)
    expect(calls[0]?.options.endpoint).toBe('http://127.0.0.1:9')
  })

  it('names the argument and the package when an adapter is not installed, and refuses unknown schemes', async () => {
    fakeAdapter(new Map())
    const missing = await baton(['verify', 'gs://bucket/ledger'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(
      /<dir> gs:\/\/bucket\/ledger: gs:\/\/ is served by @baton\/adapters-gcp, which is not installed/,
    )
    const unknown = await baton(['verify', 'ftp://x/y'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown scheme "ftp:".*s3:\/\/, gs:\/\//)
    const target = await baton(['inspect', 'postgres://h/db'])
    expect(target.code).toBe(2)
    expect(target.stderr).toMatch(/@baton\/adapters-postgres, which is not installed/)
  })
})
