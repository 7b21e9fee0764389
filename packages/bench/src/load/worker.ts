/**
 * The HTTP load generator, always run as its own process (see load/run.ts) so it never shares
 * an event loop with the system under test. Reads a job file, prints one JSON result.
 *
 * - `saturate`: closed loop with autocannon, N connections back to back → throughput.
 * - `rate`: open loop at a fixed offered rate with undici. Latency is measured from the moment a
 *   request was *due*, not when it was sent, so a stalled server is charged for the requests it
 *   delayed (no coordinated omission), with microsecond resolution (autocannon rounds to ms).
 *   Requests carry a tag (e.g. `home`, `compose`), and latency is reported per tag too.
 */
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { Pool } from 'undici'
import { summarize } from './stats.ts'

export interface RequestSpec {
  path: string
  method?: string
  headers?: Record<string, string>
  body?: string
  tag?: string
}

export interface Target {
  /** The base URL (scheme, host, port). */
  url: string
  /** Requests to cycle through, in order; a mix is expressed by repeating entries. */
  requests: RequestSpec[]
}

export type Job =
  | { kind: 'saturate'; target: Target; connections: number; durationS: number }
  | { kind: 'rate'; target: Target; rate: number; durationS: number; connections: number; warmupS?: number }

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Job
const cpuBefore = process.cpuUsage()
const started = performance.now()
const result = job.kind === 'saturate' ? await saturate(job) : await openLoop(job)
const cpu = process.cpuUsage(cpuBefore)
const wallMs = performance.now() - started
process.stdout.write(`${JSON.stringify({ ...result, loadGeneratorCpu: (cpu.user + cpu.system) / 1000 / wallMs })}\n`)

async function saturate(job: Extract<Job, { kind: 'saturate' }>) {
  const out = await autocannon({
    url: new URL(job.target.url).origin,
    connections: job.connections,
    duration: job.durationS,
    requests: job.target.requests.map((r) => ({
      path: r.path,
      method: (r.method ?? 'GET') as 'GET',
      headers: r.body ? { 'content-type': 'application/json', ...r.headers } : r.headers,
      body: r.body,
    })),
  })
  return {
    requestsPerSecond: out.requests.average,
    completed: out.requests.total,
    non2xx: out.non2xx,
    errors: out.errors + out.timeouts,
    latencyMs: { p50: out.latency.p50, p99: out.latency.p99, p999: out.latency.p99_9 ?? out.latency.p99 },
  }
}

async function openLoop(job: Extract<Job, { kind: 'rate' }>) {
  const requests = job.target.requests
  const pool = new Pool(new URL(job.target.url).origin, { connections: job.connections, pipelining: 1 })
  // The first seconds at the rate (warmupS; scenarios/options.ts says why 5) are sent but not
  // recorded: a fresh generator process and its new connections (JIT, TCP connects, the server's
  // own warm-up) put tens of ms into the first few hundred requests, which in a 5 s run is the
  // whole p99.
  const warmup = Math.round(job.rate * (job.warmupS ?? 2))
  const total = warmup + Math.round(job.rate * job.durationS)
  const intervalMs = 1000 / job.rate
  const samples = new Float64Array(total - warmup)
  const byTag = new Map<string, number[]>()
  let non2xx = 0
  let errors = 0
  let done = 0
  const t0 = performance.now()
  const inflight: Promise<void>[] = []
  const send = (i: number, due: number) => {
    const spec = requests[i % requests.length] as RequestSpec
    const headers = spec.body ? { 'content-type': 'application/json', ...spec.headers } : spec.headers
    return pool
      .request({ path: spec.path, method: (spec.method ?? 'GET') as 'GET', headers, body: spec.body })
      .then(async (response) => {
        await response.body.dump()
        if (response.statusCode >= 300 && i >= warmup) non2xx++
      })
      .catch(() => {
        if (i >= warmup) errors++
      })
      .finally(() => {
        if (i < warmup) return
        const latency = performance.now() - due
        samples[i - warmup] = latency
        const tag = spec.tag ?? 'all'
        const list = byTag.get(tag) ?? []
        if (list.length === 0) byTag.set(tag, list)
        list.push(latency)
        done++
      })
  }
  // Every request goes out at or after its due time, never before; whatever the timer's
  // granularity, all requests that have come due are sent together when it fires.
  let next = 0
  while (next < total) {
    const now = performance.now()
    while (next < total && t0 + next * intervalMs <= now) {
      inflight.push(send(next, t0 + next * intervalMs))
      next++
    }
    if (inflight.length > 10_000) await Promise.all(inflight.splice(0, 5_000))
    if (next < total) await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + next * intervalMs - performance.now())))
  }
  await Promise.all(inflight)
  const elapsedS = (performance.now() - t0) / 1000 - warmup / job.rate
  await pool.close()
  const tags = Object.fromEntries([...byTag].map(([tag, list]) => [tag, summarize(list)]))
  return { offeredRate: job.rate, achievedRate: done / elapsedS, completed: done, non2xx, errors, latencyMs: summarize(samples), tags }
}
