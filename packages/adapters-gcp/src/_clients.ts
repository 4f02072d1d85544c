/**
 * Clients an adapter creates for itself are cached per configuration and
 * shared by every adapter with the same one; each user takes a reference and
 * gives it back on close, and the client is shut down when the last one does.
 * A caller-built client is never cached or shut down by an adapter.
 *
 * @module
 */

interface Entry<T> {
  readonly client: T
  refs: number
  readonly dispose: (client: T) => Promise<void>
}

const cache = new Map<string, Entry<unknown>>()

/** A reference to a client: `client`, and `release()` to give it back (idempotent). */
export interface ClientRef<T> {
  readonly client: T
  release(): Promise<void>
}

/** Takes a reference to the cached client for `key`, creating it with `make` when there is none. */
export function acquireClient<T>(
  key: string,
  make: () => T,
  dispose: (client: T) => Promise<void>,
): ClientRef<T> {
  let entry = cache.get(key) as Entry<T> | undefined
  if (entry === undefined) {
    entry = { client: make(), refs: 0, dispose }
    cache.set(key, entry as Entry<unknown>)
  }
  entry.refs++
  const held = entry
  let released = false
  return {
    client: held.client,
    async release() {
      if (released) return
      released = true
      held.refs--
      if (held.refs === 0 && cache.get(key) === held) {
        cache.delete(key)
        await held.dispose(held.client)
      }
    },
  }
}

/** A reference to a client the caller built: never shut down by the adapter. */
export function borrowedClient<T>(client: T): ClientRef<T> {
  return { client, release: async () => {} }
}

/**
 * An auth client for emulators and local endpoints: no credentials, no
 * lookups of the metadata server (which the default credential chain would
 * try), and the emulators' `Bearer owner` token.
 */
export function emulatorAuthClient(): unknown {
  return {
    universeDomain: 'googleapis.com',
    async getRequestHeaders() {
      return new Headers({ Authorization: 'Bearer owner' })
    },
    async getAccessToken() {
      return { token: 'owner' }
    },
  }
}
