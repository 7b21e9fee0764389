/**
 * Reconnect storm (issue 7, R12), as its own process: N users connected in pairs, every socket
 * dropped at once (an instance or network failure), one message per pair sent over REST while
 * everyone is away, then every socket reconnects at the same moment. Measures until all are open
 * and until every missed message has arrived (offline queue or Postgres catch-up); anything still
 * missing after 30 s is lost.
 */
import { readFileSync } from 'node:fs'
import { WebSocket } from 'ws'

export interface StormJob {
  wsUrl: string
  httpUrl: string
  users: Array<{ id: string; token: string }>
  pairs: Array<[number, number]>
}

// Texts double as clientIds: unique per run (the chat load before used the same users).
const run = `${Date.now().toString(36)}.`
const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as StormJob
/** Message text → the index of the user it was sent to: only that user's arrival counts. */
const expected = new Map<string, number>()
const arrived = new Set<string>()
let duplicates = 0

function connect(index: number): Promise<WebSocket> {
  const user = job.users[index] as { token: string }
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(job.wsUrl, { headers: { authorization: `Bearer ${user.token}` }, perMessageDeflate: false })
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; message?: { text?: string | null } }
      const text = frame.type === 'message.new' ? frame.message?.text : undefined
      // The sender's own devices get a copy too (it was sent over REST): not a delivery.
      if (!text || expected.get(text) !== index) return
      if (arrived.has(text)) duplicates++
      else arrived.add(text)
    })
    socket.once('open', () => resolve(socket))
    socket.once('error', reject)
  })
}

async function inBatches<T>(count: number, size: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let start = 0; start < count; start += size) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - start) }, (_, k) => task(start + k)))))
  }
  return out
}

const send = async (from: number, to: number, text: string) => {
  const sender = job.users[from] as { token: string }
  const response = await fetch(`${job.httpUrl}/chat/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sender.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: text, to: (job.users[to] as { id: string }).id, text }),
  })
  if (response.status >= 300) throw new Error(`send failed: ${response.status} ${await response.text()}`)
}

const waitFor = async (condition: () => boolean, timeoutMs: number) => {
  const deadline = performance.now() + timeoutMs
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
}

// Connected, with a conversation per pair (the first message creates it).
let sockets = await inBatches(job.users.length, 50, connect)
await inBatches(job.pairs.length, 50, (i) => {
  const [a, b] = job.pairs[i] as [number, number]
  expected.set(`${run}prime${i}`, b)
  return send(a, b, `${run}prime${i}`)
})
await waitFor(() => arrived.size === expected.size, 30_000)

// Everyone drops at once; one message per pair arrives while they are away.
for (const socket of sockets) socket.terminate()
await new Promise((resolve) => setTimeout(resolve, 500))
expected.clear()
arrived.clear()
await inBatches(job.pairs.length, 50, (i) => {
  const [a, b] = job.pairs[i] as [number, number]
  expected.set(`${run}missed${i}`, b)
  return send(a, b, `${run}missed${i}`)
})

// The storm: every socket reconnects at the same moment.
const t0 = performance.now()
let openMs = 0
let opened = 0
sockets = await Promise.all(
  job.users.map((_, i) =>
    connect(i).then((socket) => {
      opened++
      if (opened === job.users.length) openMs = performance.now() - t0
      return socket
    }),
  ),
)
await waitFor(() => arrived.size === expected.size, 30_000)
const catchUpMs = performance.now() - t0
for (const socket of sockets) socket.terminate()
process.stdout.write(
  `${JSON.stringify({ sockets: job.users.length, missed: expected.size, arrived: arrived.size, lost: expected.size - arrived.size, duplicates, allOpenMs: Math.round(openMs), allCaughtUpMs: Math.round(catchUpMs) })}\n`,
)
process.exit(0)
