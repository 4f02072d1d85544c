/**
 * A loopback TCP proxy in front of an emulator that a test can turn bad:
 * `refuse` drops every connection (open ones too), `hang` accepts and never
 * answers, `pass` forwards.
 */
import net from 'node:net'

/** A running proxy. */
export interface TcpProxy {
  /** `127.0.0.1:<port>`. */
  readonly host: string
  mode(mode: 'pass' | 'refuse' | 'hang'): void
  stop(): Promise<void>
}

/** Starts a proxy to `target` (`host:port`) on a random free loopback port. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [targetHost, targetPort] = target.split(':') as [string, string]
  let current: 'pass' | 'refuse' | 'hang' = 'pass'
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    if (current === 'refuse') return void client.destroy()
    if (current === 'hang') return // accepted, never answered
    const upstream = net.connect(Number(targetPort), targetHost)
    sockets.add(upstream)
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
    upstream.on('error', () => upstream.destroy())
    client.on('close', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port
  return {
    host: `127.0.0.1:${port}`,
    mode(mode) {
      current = mode
      if (mode !== 'pass') for (const s of sockets) s.destroy()
    },
    async stop() {
      current = 'refuse'
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
