/**
 * The load generator, always run as its own process (see load/run.ts) so it never shares an
 * event loop with the system under test. Reads a job as JSON from argv, prints one JSON result.
 *
 * - `saturate`: closed loop with autocannon, N connections back to back → throughput.
 * - `rate`: open loop at a fixed offered rate with undici. Latency is measured from the moment a
 *   request was *due*, not when it was sent, so a stalled server is charged for the requests it
 *   delayed (no coordinated omission), with microsecond resolution (autocannon rounds to ms).
 */
import autocannon from 'autocannon'
import { Pool } from 'undici'
import { summarize } from './stats.ts'

export interface Target {
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string
  /** Several paths to rotate through (e.g. different users' feeds); defaults to the URL's path. */
  paths?: string[]
}

export type Job =
  | { kind: 'saturate'; target: Target; connections: number; durationS: number }
  | { kind: 'rate'; target: Target; rate: number; durationS: number; connections: number }

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const cpuBefore = process.cpuUsage()
const started = performance.now()
const result = job.kind === 'saturate' ? await saturate(job) : await openLoop(job)
const cpu = process.cpuUsage(cpuBefore)
const wallMs = performance.now() - started
process.stdout.write(`${JSON.stringify({ ...result, loadGeneratorCpu: (cpu.user + cpu.system) / 1000 / wallMs })}\n`)

async function saturate(job: Extract<Job, { kind: 'saturate' }>) {
  const url = new URL(job.target.url)
  const requests = (job.target.paths ?? [url.pathname + url.search]).map((path) => ({
    path,
    method: (job.target.method ?? 'GET') as 'GET',
    headers: job.target.headers,
    body: job.target.body,
  }))
  const out = await autocannon({
    url: url.origin,
    connections: job.connections,
    duration: job.durationS,
    requests,
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
  const url = new URL(job.target.url)
  const paths = job.target.paths ?? [url.pathname + url.search]
  const pool = new Pool(url.origin, { connections: job.connections, pipelining: 1 })
  const total = Math.round(job.rate * job.durationS)
  const intervalMs = 1000 / job.rate
  const samples = new Float64Array(total)
  let non2xx = 0
  let errors = 0
  let done = 0
  const t0 = performance.now()
  const inflight: Promise<void>[] = []
  const send = (i: number, due: number) => {
    const path = paths[i % paths.length] as string
    return pool
      .request({ path, method: (job.target.method ?? 'GET') as 'GET', headers: job.target.headers, body: job.target.body })
      .then(async (response) => {
        await response.body.dump()
        if (response.statusCode >= 300) non2xx++
      })
      .catch(() => {
        errors++
      })
      .finally(() => {
        samples[i] = performance.now() - due
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
  const elapsedS = (performance.now() - t0) / 1000
  await pool.close()
  return { offeredRate: job.rate, achievedRate: done / elapsedS, completed: done, non2xx, errors, latencyMs: summarize(samples) }
}
