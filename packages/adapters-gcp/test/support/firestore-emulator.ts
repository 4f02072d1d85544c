/**
 * Starts the Firestore emulator (`@firestore-emulator/server`, pure Node.js)
 * in this process on 127.0.0.1 and a random free port.
 */
import { FirestoreServer } from '@firestore-emulator/server'
import { ServerCredentials } from '@grpc/grpc-js'
import { within } from './deadline.ts'

/** A running emulator. */
export interface FirestoreEmulator {
  /** `127.0.0.1:<port>`. */
  readonly host: string
  readonly port: number
  /** Stops it (idempotent). */
  stop(): Promise<void>
}

interface Bindable {
  bindAsync(
    address: string,
    credentials: ServerCredentials,
    callback: (error: Error | null, port: number) => void,
  ): void
  forceShutdown(): void
}

/** Starts an emulator; pass `port` to restart one on the port it had. */
export async function startFirestoreEmulator(port = 0): Promise<FirestoreEmulator> {
  const emulator = new FirestoreServer()
  // The package's own start() binds every interface; bind loopback only, on a free port.
  const server = (emulator as unknown as { server: Bindable }).server
  const bound = await within(
    new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, p) =>
        error === null ? resolve(p) : reject(error),
      )
    }),
    20_000,
    'starting the Firestore emulator',
  ).catch((error: unknown) => {
    server.forceShutdown()
    throw error
  })
  let stopped = false
  return {
    host: `127.0.0.1:${bound}`,
    port: bound,
    async stop() {
      if (stopped) return
      stopped = true
      server.forceShutdown()
    },
  }
}

let counter = 0
/** A fresh document path for one test. */
export function freshPath(prefix = 'ledgers'): string {
  counter++
  return `${prefix}/t${process.pid}-${Date.now().toString(36)}-${counter}`
}
