/**
 * WebSocket load generator, run as its own process (see load/ws-run.ts). Protocol with the
 * parent over stdio: it prints `warm` once the first `warmSockets` are open, `step` between
 * the `memorySteps` parts of the rest and `connected` once every socket is, each time waiting
 * for `go` on stdin (the parent samples the servers' memory in between: the slope is the
 * marginal cost of the later sockets), runs, and prints one JSON result.
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
  /** Seconds at the rate before recording (default 2). */
  warmupS?: number
  /** Sockets opened (and kept) before the first memory sample; 0: no `warm` phase. */
  warmSockets?: number
  /** The other sockets connect in this many equal parts, with a `step` checkpoint between parts. */
  memorySteps?: number
}

// The job file: thousands of users' tokens are more than one command-line argument may hold.
// Message texts double as clientIds: unique per run, or a later run with the same users would
// be answered as retries of the earlier one (acked, never delivered again).
const run = `${Date.now().toString(36)}.`
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

async function connectRange(from: number, to: number): Promise<void> {
  for (let next = from; next < to; next += job.connectConcurrency) {
    const batch = Math.min(job.connectConcurrency, to - next)
    await Promise.all(Array.from({ length: batch }, (_, offset) => connect(next + offset)))
  }
}

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
/** Tells the parent where we are and waits for its `go`. */
async function checkpoint(phase: 'warm' | 'step' | 'connected' | 'measuring'): Promise<void> {
  process.stdout.write(`${phase}\n`)
  for (;;) {
    const { value, done } = await stdinLines.next()
    if (done) throw new Error('parent closed stdin')
    if (value.trim() === 'go') return
  }
}

const warm = Math.min(job.warmSockets ?? 0, job.users.length)
let connectMs = 0
if (warm > 0) {
  const started = performance.now()
  await connectRange(0, warm)
  connectMs += performance.now() - started
  await checkpoint('warm')
}
// The rest in `memorySteps` equal parts, a `step` checkpoint between them (memory samples).
const steps = Math.max(1, job.memorySteps ?? 1)
const measured = job.users.length - warm
for (let step = 1; step <= steps; step++) {
  const started = performance.now()
  await connectRange(warm + Math.floor((measured * (step - 1)) / steps), warm + Math.floor((measured * step) / steps))
  connectMs += performance.now() - started
  if (step < steps) await checkpoint('step')
}
// Before the priming messages: the memory sample sees idle sockets, as on the echo server.
await checkpoint('connected')
if (job.mode === 'chat') await prime()

/**
 * One message per pair before measuring: the first message between two users creates their
 * conversation, which is a different (rarer) path than the steady state being measured.
 */
async function prime(): Promise<void> {
  job.pairs.forEach(([from, to], index) => {
    const id = `${run}prime${index}`
    sentAt.set(id, performance.now())
    sendTo(from, to, id)
  })
  const deadline = performance.now() + 30_000
  while (delivered.size < job.pairs.length && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  forgetMeasurements()
}

/** What came before the measured run (priming, warm-up) is not counted; late answers to it are ignored. */
function forgetMeasurements(): void {
  sentAt.clear()
  delivered.clear()
  ackLatency.length = 0
  deliveryLatency.length = 0
  acked = 0
  duplicates = 0
  errors = 0
}

/** A chat message from one user of the job to another (the echo mode sends the id alone). */
function sendTo(from: number, to: number, id: string): void {
  const socket = sockets[from] as WebSocket
  if (job.mode === 'echo') socket.send(id)
  else socket.send(JSON.stringify({ type: 'message.send', clientId: id, to: (job.users[to] as { id: string }).id, text: id }))
}

/** Sends `total` frames on the open-loop schedule; a frame's latency counts from its slot, not from when it went. */
async function runSchedule(total: number, prefix: string): Promise<number> {
  const intervalMs = 1000 / job.rate
  const t0 = performance.now()
  let sent = 0
  while (sent < total) {
    const now = performance.now()
    while (sent < total && t0 + sent * intervalMs <= now) {
      const pair = job.pairs[sent % job.pairs.length] as [number, number]
      const forward = Math.floor(sent / job.pairs.length) % 2 === 0
      const [from, to] = forward ? pair : [pair[1], pair[0]]
      const id = `${prefix}${sent}`
      sentAt.set(id, t0 + sent * intervalMs)
      sendTo(from, to, id)
      sent++
    }
    if (sent < total) await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + sent * intervalMs - performance.now())))
  }
  return t0
}

// Warm-up at the same rate, unrecorded (as the HTTP open loop does): the first second after
// the priming burst measures JIT and the burst's after-effects, not the steady state.
const warmupS = job.warmupS ?? 2
if (warmupS > 0) {
  await runSchedule(Math.round(job.rate * warmupS), `${run}w`)
  await new Promise((resolve) => setTimeout(resolve, 200))
  forgetMeasurements()
}

// After the priming burst and the warm-up: what the servers spend from here is the measured run's.
await checkpoint('measuring')
const cpuBefore = process.cpuUsage()
const total = Math.round(job.rate * job.durationS)
const t0 = await runSchedule(total, `${run}b`)
const sent = total
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
