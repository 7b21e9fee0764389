/**
 * WebSocket load generator, run as its own process (see load/ws-run.ts). Protocol with the
 * parent over stdio: it prints `connected` once every socket is open, waits for `go` on stdin
 * (the parent samples the servers' memory in between), runs, and prints one JSON result.
 *
 * - `chat`: pairs of users send `message.send` to each other at a fixed total rate (open loop,
 *   spread over the pairs, alternating direction). Measures send→ack at the sender and
 *   send→`message.new` at the recipient, and counts what never arrived or arrived twice.
 * - `echo`: the same schedule against an echo server: the round trip of a frame, the baseline.
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { WebSocket } from 'ws'
import { summarize } from './stats.ts'

export interface WsJob {
  mode: 'chat' | 'echo'
  url: string
  users: Array<{ id: string; token: string }>
  /** Indexes into `users`; each pair talks both ways. */
  pairs: Array<[number, number]>
  rate: number
  durationS: number
  /** How long to wait for stragglers after the last send. */
  graceS: number
  connectConcurrency: number
}

// The job file: thousands of users' tokens are more than one command-line argument may hold.
const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as WsJob
const sockets: WebSocket[] = new Array(job.users.length)
const sentAt = new Map<string, number>()
const ackLatency: number[] = []
const deliveryLatency: number[] = []
const delivered = new Set<string>()
let duplicates = 0
let acked = 0
let errors = 0

function onFrame(data: Buffer) {
  const now = performance.now()
  if (job.mode === 'echo') {
    const id = data.toString()
    const started = sentAt.get(id)
    if (started === undefined) return
    if (delivered.has(id)) duplicates++
    else {
      delivered.add(id)
      deliveryLatency.push(now - started)
    }
    return
  }
  const frame = JSON.parse(data.toString()) as { type: string; clientId?: string; message?: { text?: string | null } }
  if (frame.type === 'message.ack' && frame.clientId) {
    const started = sentAt.get(frame.clientId)
    if (started !== undefined) {
      acked++
      ackLatency.push(now - started)
    }
  } else if (frame.type === 'message.new') {
    const id = frame.message?.text ?? ''
    const started = sentAt.get(id)
    if (started === undefined) return // the sender's own copy on another device, or not ours
    if (delivered.has(id)) duplicates++
    else {
      delivered.add(id)
      deliveryLatency.push(now - started)
    }
  } else if (frame.type === 'error') errors++
}

function connect(index: number): Promise<void> {
  const user = job.users[index] as { id: string; token: string }
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(job.url, { headers: { authorization: `Bearer ${user.token}` }, perMessageDeflate: false })
    socket.once('open', () => {
      sockets[index] = socket
      resolve()
    })
    socket.once('error', reject)
    socket.on('message', onFrame)
  })
}

const started = performance.now()
for (let next = 0; next < job.users.length; next += job.connectConcurrency) {
  await Promise.all(job.users.slice(next, next + job.connectConcurrency).map((_, offset) => connect(next + offset)))
}
const connectMs = performance.now() - started
if (job.mode === 'chat') await prime()
process.stdout.write('connected\n')
await new Promise<void>((resolve) => {
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    if (line.trim() === 'go') {
      lines.close()
      resolve()
    }
  })
})

/**
 * One message per pair before measuring: the first message between two users creates their
 * conversation, which is a different (rarer) path than the steady state being measured.
 */
async function prime(): Promise<void> {
  job.pairs.forEach(([from, to], index) => {
    const id = `prime${index}`
    sentAt.set(id, performance.now())
    ;(sockets[from] as WebSocket).send(
      JSON.stringify({ type: 'message.send', clientId: id, to: (job.users[to] as { id: string }).id, text: id }),
    )
  })
  const deadline = performance.now() + 30_000
  while (delivered.size < job.pairs.length && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  sentAt.clear()
  delivered.clear()
  ackLatency.length = 0
  deliveryLatency.length = 0
  acked = 0
  duplicates = 0
}

const cpuBefore = process.cpuUsage()
const total = Math.round(job.rate * job.durationS)
const intervalMs = 1000 / job.rate
const t0 = performance.now()
let sent = 0
while (sent < total) {
  const now = performance.now()
  while (sent < total && t0 + sent * intervalMs <= now) {
    const pair = job.pairs[sent % job.pairs.length] as [number, number]
    const forward = Math.floor(sent / job.pairs.length) % 2 === 0
    const [from, to] = forward ? pair : [pair[1], pair[0]]
    const id = `b${sent}`
    sentAt.set(id, t0 + sent * intervalMs)
    const socket = sockets[from] as WebSocket
    if (job.mode === 'echo') socket.send(id)
    else socket.send(JSON.stringify({ type: 'message.send', clientId: id, to: (job.users[to] as { id: string }).id, text: id }))
    sent++
  }
  if (sent < total) await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + sent * intervalMs - performance.now())))
}
const sendingS = (performance.now() - t0) / 1000
// A backlog is late, not lost: wait while deliveries still arrive, and count as lost only what
// has not come once nothing has arrived for `graceS` (or after a minute in all).
const hardStop = performance.now() + 60_000
let lastProgress = performance.now()
let lastCount = delivered.size
while (delivered.size < sent && performance.now() < hardStop && performance.now() - lastProgress < job.graceS * 1000) {
  await new Promise((resolve) => setTimeout(resolve, 20))
  if (delivered.size !== lastCount) {
    lastCount = delivered.size
    lastProgress = performance.now()
  }
}
const cpu = process.cpuUsage(cpuBefore)
const wallMs = performance.now() - t0
for (const socket of sockets) socket?.terminate()

process.stdout.write(
  `${JSON.stringify({
    sockets: job.users.length,
    connectMs: Math.round(connectMs),
    sent,
    offeredRate: job.rate,
    achievedRate: sent / sendingS,
    acked,
    delivered: delivered.size,
    lost: sent - delivered.size,
    duplicates,
    errors,
    ackLatencyMs: summarize(ackLatency),
    deliveryLatencyMs: summarize(deliveryLatency),
    loadGeneratorCpu: (cpu.user + cpu.system) / 1000 / wallMs,
  })}\n`,
)
process.exit(0)
