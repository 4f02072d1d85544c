// A lease contender in its own process: acquires the Firestore lease
// `rounds` times (each time holding it briefly, then releasing), printing one
// JSON line per tenure: {holder, epoch, acquiredAt, releaseAt}.
// argv: <dist index> <endpoint> <project> <path> <holder> <rounds>
const [dist, endpoint, projectId, path, holder, rounds] = process.argv.slice(2)
const { createFirestoreLease } = await import(dist)
const lease = createFirestoreLease({ projectId, endpoint, path })
const deadline = Date.now() + 60_000
for (let i = 0; i < Number(rounds); i++) {
  let grant
  while (grant === undefined) {
    if (Date.now() > deadline) throw new Error(`${holder}: no lease within 60 s`)
    grant = await lease.acquire(holder, 30_000)
    if (grant === undefined) await new Promise((r) => setTimeout(r, 2 + Math.random() * 5))
  }
  const acquiredAt = Date.now()
  await new Promise((r) => setTimeout(r, 3))
  const releaseAt = Date.now()
  process.stdout.write(`${JSON.stringify({ holder, epoch: grant.epoch, acquiredAt, releaseAt })}\n`)
  await lease.release(grant)
}
await lease.close()
