/**
 * A local HTTPS endpoint speaking the part of the Cloud DNS v1 REST API the
 * router uses: `GET …/managedZones/{zone}/rrsets?name=&type=`,
 * `POST …/managedZones/{zone}/changes` and `GET …/changes/{id}`. It keeps
 * record sets per zone and enforces what Cloud DNS does: a change's
 * deletions must match the stored record sets exactly (else 412
 * `conditionNotMet`), an addition may not replace one that remains (409
 * `alreadyExists`), a record set has `rrdatas` or a `routingPolicy`, not
 * both, weights are non-negative and trickle traffic is within [0, 1].
 * A change is `pending` for `pendingPolls` reads, then `done`.
 *
 * TLS uses the self-signed certificate in `tls/`, trusted by the test
 * process only (via `tls.setDefaultCACertificates`).
 */
import { readFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'

const CERT = readFileSync(fileURLToPath(new URL('./tls/localhost.crt', import.meta.url)), 'utf8')
const KEY = readFileSync(fileURLToPath(new URL('./tls/localhost.key', import.meta.url)), 'utf8')

type RecordSet = Record<string, unknown> & { name: string; type: string }

interface Change {
  id: string
  status: 'pending' | 'done'
  additions: RecordSet[]
  deletions: RecordSet[]
  startTime: string
  kind: 'dns#change'
  polls: number
}

/** A running endpoint. */
export interface CloudDnsServer {
  /** `127.0.0.1:<port>`: the DNS client's `apiEndpoint`. */
  readonly host: string
  /** Requests seen, `METHOD path`. */
  readonly requests: string[]
  /** Changes refused (412 conditionNotMet, 409 alreadyExists) so far. */
  refused(): number
  /** Bodies of submitted changes. */
  readonly changes: { additions: RecordSet[]; deletions: RecordSet[] }[]
  /** Record sets of a zone now. */
  rrsets(zone: string): RecordSet[]
  /** Seeds a record set. */
  put(zone: string, set: RecordSet): void
  /** How many reads a change stays pending. */
  pendingPolls: number
  /** Makes every change end in this status instead of `done` (e.g. a provider failure). */
  endStatus: string
  /**
   * Holds the next `n` record set reads until all `n` have arrived, then
   * answers them together: racing writers all read before any change lands.
   */
  gatherReads(n: number): void
  stop(): Promise<void>
}

let trusted = false
/** Trusts the test certificate in this process (once). */
export function trustTestCertificate(): void {
  if (trusted) return
  trusted = true
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), CERT])
}

/** Starts the endpoint on 127.0.0.1 and a random free port. */
export async function startCloudDnsServer(): Promise<CloudDnsServer> {
  trustTestCertificate()
  const zones = new Map<string, RecordSet[]>()
  const changes = new Map<string, Change>()
  const requests: string[] = []
  const submitted: { additions: RecordSet[]; deletions: RecordSet[] }[] = []
  let next = 1
  const state = { pendingPolls: 2, endStatus: 'done' }
  let refusedChanges = 0
  let gather = 0
  let gathered: (() => void)[] = []

  const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const error = (
    res: import('node:http').ServerResponse,
    status: number,
    reason: string,
    message: string,
  ) =>
    send(res, status, {
      error: { code: status, message, errors: [{ domain: 'global', reason, message }] },
    })

  const server = https.createServer({ cert: CERT, key: KEY }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://x')
      requests.push(`${req.method} ${url.pathname}`)
      const m =
        /^\/dns\/v1\/projects\/([^/]+)\/managedZones\/([^/]+)\/(rrsets|changes)(?:\/([^/]+))?$/.exec(
          url.pathname,
        )
      if (m === null) return error(res, 404, 'notFound', `no route ${url.pathname}`)
      if (req.headers.authorization === undefined)
        return error(res, 401, 'required', 'no credentials')
      const zone = m[2]!
      const sets = zones.get(zone) ?? []
      zones.set(zone, sets)
      if (m[3] === 'rrsets' && req.method === 'GET') {
        const name = url.searchParams.get('name')
        const type = url.searchParams.get('type')
        const found = sets.filter(
          (s) => (name === null || s.name === name) && (type === null || s.type === type),
        )
        const answer = () =>
          send(res, 200, { kind: 'dns#resourceRecordSetsListResponse', rrsets: found })
        if (gather === 0) return answer()
        gathered.push(answer)
        if (gathered.length >= gather) {
          const all = gathered
          gather = 0
          gathered = []
          for (const a of all) a()
        }
        return
      }
      if (m[3] === 'changes' && req.method === 'POST' && m[4] === undefined) {
        let body: { additions?: RecordSet[]; deletions?: RecordSet[] }
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch {
          return error(res, 400, 'parseError', 'body is not JSON')
        }
        const additions = body.additions ?? []
        const deletions = body.deletions ?? []
        submitted.push({ additions, deletions })
        for (const d of deletions) {
          const stored = sets.find((s) => s.name === d.name && s.type === d.type)
          if (stored === undefined || !isDeepStrictEqual(strip(stored), strip(d))) {
            refusedChanges++
            return error(
              res,
              412,
              'conditionNotMet',
              `deletion of ${d.name} ${d.type} does not match the record set`,
            )
          }
        }
        for (const a of additions) {
          const problem = invalid(a)
          if (problem !== undefined) return error(res, 400, 'invalid', problem)
          const remains =
            sets.some((s) => s.name === a.name && s.type === a.type) &&
            !deletions.some((d) => d.name === a.name && d.type === a.type)
          if (remains) refusedChanges++
          if (remains) return error(res, 409, 'alreadyExists', `${a.name} ${a.type} already exists`)
        }
        const kept = sets.filter(
          (s) => !deletions.some((d) => d.name === s.name && d.type === s.type),
        )
        zones.set(zone, [
          ...kept,
          ...additions.map((a) => ({ ...a, kind: 'dns#resourceRecordSet' })),
        ])
        const change: Change = {
          id: String(next++),
          status: 'pending',
          additions,
          deletions,
          startTime: new Date().toISOString(),
          kind: 'dns#change',
          polls: 0,
        }
        changes.set(change.id, change)
        const { polls: _, ...view } = change
        return send(res, 200, view)
      }
      if (m[3] === 'changes' && req.method === 'GET' && m[4] !== undefined) {
        const change = changes.get(m[4])
        if (change === undefined) return error(res, 404, 'notFound', `no change ${m[4]}`)
        change.polls++
        if (change.polls > state.pendingPolls) change.status = state.endStatus as 'done'
        const { polls: _, ...view } = change
        return send(res, 200, view)
      }
      return error(res, 405, 'notAllowed', `${req.method} ${url.pathname}`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    host: `127.0.0.1:${port}`,
    requests,
    changes: submitted,
    refused: () => refusedChanges,
    rrsets: (zone) => zones.get(zone) ?? [],
    put(zone, set) {
      zones.set(zone, [...(zones.get(zone) ?? []), { ...set, kind: 'dns#resourceRecordSet' }])
    },
    get pendingPolls() {
      return state.pendingPolls
    },
    set pendingPolls(n: number) {
      state.pendingPolls = n
    },
    gatherReads(n) {
      gather = n
      gathered = []
    },
    get endStatus() {
      return state.endStatus
    },
    set endStatus(s: string) {
      state.endStatus = s
    },
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function strip(set: RecordSet): RecordSet {
  const { kind: _, ...rest } = set
  return rest as RecordSet
}

/** What Cloud DNS would refuse in a record set, or undefined. */
function invalid(set: RecordSet): string | undefined {
  const rp = set.routingPolicy as Record<string, unknown> | undefined
  const rrdatas = set.rrdatas as unknown[] | undefined
  if ((rp === undefined) === (rrdatas === undefined))
    return 'exactly one of rrdatas and routingPolicy'
  if (rp === undefined) return undefined
  const wrr = rp.wrr as { items?: { weight?: number; rrdatas?: string[] }[] } | undefined
  const pb = rp.primaryBackup as
    | {
        primaryTargets?: unknown
        backupGeoTargets?: { items?: unknown[] }
        trickleTraffic?: number
      }
    | undefined
  if ((wrr === undefined) === (pb === undefined))
    return 'routingPolicy needs exactly one of wrr, geo, primaryBackup'
  if (wrr !== undefined) {
    if (!Array.isArray(wrr.items) || wrr.items.length === 0) return 'wrr.items is empty'
    for (const item of wrr.items) {
      if (typeof item.weight !== 'number' || !(item.weight >= 0))
        return `wrr weight ${item.weight} is invalid`
      if (!Array.isArray(item.rrdatas) || item.rrdatas.length === 0)
        return 'wrr item without rrdatas'
    }
    return undefined
  }
  if (typeof pb!.primaryTargets !== 'object' || pb!.primaryTargets === null)
    return 'primaryTargets missing'
  if (!Array.isArray(pb!.backupGeoTargets?.items) || pb!.backupGeoTargets.items.length === 0) {
    return 'backupGeoTargets.items is empty'
  }
  const t = pb!.trickleTraffic ?? 0
  if (typeof t !== 'number' || !(t >= 0 && t <= 1))
    return `trickleTraffic ${t} is not within [0, 1]`
  return undefined
}
