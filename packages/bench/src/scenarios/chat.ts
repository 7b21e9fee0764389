import { type RunningProcess, startProcess, startStack } from '@sm/testing'
import { startWsEcho } from '../baselines/processes.ts'
import { median, round } from '../load/stats.ts'
import { runStorm } from '../load/storm-run.ts'
import { forgetMemory, type MemorySample, probeNodeOptions, sampleMemory } from '../load/ws-memory.ts'
import { runWsLoad, type WsPhase, type WsResult } from '../load/ws-run.ts'
import type { Row, ScenarioResult } from '../report.ts'
import { settleProcesses } from '../settle.ts'
import type { BenchOptions } from './options.ts'
import { registerUsers } from './users.ts'

const wsUrl = (httpUrl: string, path: string) => `${httpUrl.replace(/^http/, 'ws')}${path}`
const kb = (bytes: number) => `${round(bytes / 1000, 1)} KB`

/** What a process's sockets retain, per socket: RSS growth and the V8 heap's and external memory's parts of it. */
interface Memory {
  /** Over the processes measured together (gateway + chat). */
  bytesPerSocket: number
  perProcess: number[]
  heapUsedPerProcess: number[]
  externalPerProcess: number[]
}

/** Least-squares slope of ys over xs. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  const meanX = xs.reduce((a, b) => a + b, 0) / n
  const meanY = ys.reduce((a, b) => a + b, 0) / n
  let covariance = 0
  let variance = 0
  for (let i = 0; i < n; i++) {
    covariance += ((xs[i] as number) - meanX) * ((ys[i] as number) - meanY)
    variance += ((xs[i] as number) - meanX) ** 2
  }
  return covariance / variance
}

/** Runs `start` with extra environment variables, which the processes it spawns inherit. */
async function withEnv<T>(env: Record<string, string>, start: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
  Object.assign(process.env, env)
  try {
    return await start()
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/**
 * Scenario 5, chat: N sockets through the gateway, pairs chatting at a fixed total rate.
 * Baselines in the same run: a bare `ws` echo server (direct), and the same echo server behind
 * the gateway's socket relay, so the ratios isolate what chat itself adds.
 */
export async function chatScenario(opts: BenchOptions): Promise<ScenarioResult> {
  const sockets = opts.sockets
  const rate = opts.messageRate
  const stack = await startStack({
    services: ['auth', 'chat'],
    env: { RATE_LIMIT_MAX: '1000000000', BCRYPT_COST: '4', LOG_LEVEL: 'warn', NODE_OPTIONS: probeNodeOptions() },
  })
  const echo = await withEnv({ NODE_OPTIONS: probeNodeOptions() }, startWsEcho)
  let echoGateway: RunningProcess | undefined
  try {
    const users = await registerUsers(stack.services.auth?.url as string, sockets)
    const pairs: Array<[number, number]> = []
    for (let i = 0; i + 1 < users.length; i += 2) pairs.push([i, i + 1])
    echoGateway = await startProcess('gateway', {
      DATABASE_URL: stack.db.url,
      NAMESPACE: stack.namespace,
      AUTH_URL: stack.services.auth?.url as string,
      CHAT_URL: echo.url,
      RATE_LIMIT_MAX: '1000000000',
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: probeNodeOptions(),
    })
    const warmSockets = Math.floor(sockets / 4)
    const measuredSockets = sockets - warmSockets
    // The measured sockets connect in parts, memory sampled after each: a slope over five points
    // instead of a difference of two (RSS moves by ~1 KB a socket between samples on its own).
    const memorySteps = 4
    // The memory samples force a last-resort GC in each measured process, which also shrinks its
    // young generation: the load then runs unrecorded for rateWarmupS while V8 regrows the heap
    // (its GCs, on a 2-core box, put 10–30 ms stalls into chat and the gateway for a few seconds).
    const job = {
      users,
      pairs,
      rate,
      durationS: opts.durationS,
      warmupS: opts.rateWarmupS,
      graceS: 5,
      connectConcurrency: 50,
      warmSockets,
      memorySteps,
    }
    /** How many sockets are open at each sample: after the warm-up, after each part. */
    const socketsAt = [
      warmSockets,
      ...Array.from({ length: memorySteps }, (_, i) => warmSockets + Math.floor((measuredSockets * (i + 1)) / memorySteps)),
    ]
    /**
     * Marginal retained memory per socket: a quarter of the sockets warm the processes up (code
     * paths compiled, pools and buffers grown) and stay open; then each process is sampled after
     * a full GC (ws-memory-probe.ts) and again after each part of the other sockets connects.
     * The figure is the least-squares slope of memory over open sockets.
     */
    const memoryPerSocket = async (pids: number[], run: (atPhase: (phase: WsPhase) => Promise<void>) => Promise<WsResult>) => {
      const points: MemorySample[][] = []
      const result = await run(async (phase) => {
        if (phase === 'measuring') return
        // The servers finish attaching the last sockets (the client sees `open` before that) and
        // what that queued (presence events, the outbox relay): retained, not in flight.
        await settleProcesses(pids)
        points.push(await Promise.all(pids.map((pid) => sampleMemory(pid))))
      })
      if (points.length !== socketsAt.length) throw new Error(`expected ${socketsAt.length} memory samples, got ${points.length}`)
      const per = (field: keyof MemorySample) =>
        pids.map((_, i) =>
          Math.round(
            slope(
              socketsAt,
              points.map((samples) => samples[i]?.[field] ?? 0),
            ),
          ),
        )
      const perProcess = per('rss')
      const memory: Memory = {
        bytesPerSocket: perProcess.reduce((a, b) => a + b, 0),
        perProcess,
        heapUsedPerProcess: per('heapUsed'),
        externalPerProcess: per('external'),
      }
      return { result, ...memory }
    }
    const reps: Array<Record<string, unknown>> = []
    for (let rep = 0; rep < opts.reps; rep++) {
      const raw = await memoryPerSocket([echo.pid], (atPhase) => runWsLoad({ ...job, mode: 'echo', url: wsUrl(echo.url, '/') }, atPhase))
      const relay = echoGateway
      const proxiedRun = await memoryPerSocket([relay.process.pid ?? 0], (atPhase) =>
        runWsLoad({ ...job, mode: 'echo', url: wsUrl(relay.url, '/chat/ws') }, atPhase),
      )
      const proxied = proxiedRun.result
      const chatPids = [stack.gateway.process.pid ?? 0, stack.services.chat?.process.pid ?? 0]
      const chat = await memoryPerSocket(chatPids, (atPhase) =>
        runWsLoad({ ...job, mode: 'chat', url: wsUrl(stack.url, '/chat/ws') }, atPhase),
      )
      const { result: _, ...proxiedMemory } = proxiedRun
      reps.push({ raw, proxied, proxiedMemory, chat })
      process.stderr.write(
        `chat rep ${rep + 1}: echo p99 ${raw.result.deliveryLatencyMs.p99} ms, proxied echo p50 ${proxied.deliveryLatencyMs.p50} ms, chat delivery p50/p99 ${chat.result.deliveryLatencyMs.p50}/${chat.result.deliveryLatencyMs.p99} ms, lost ${chat.result.lost}, dup ${chat.result.duplicates}\n`,
      )
    }
    // R12: a thousand sockets drop and come back at once, each catching up on what it missed.
    const stormUsers = users.slice(0, Math.min(1000, users.length))
    const stormPairs = pairs.filter(([a, b]) => a < stormUsers.length && b < stormUsers.length)
    const storm = await runStorm({ wsUrl: wsUrl(stack.url, '/chat/ws'), httpUrl: stack.url, users: stormUsers, pairs: stormPairs })
    process.stderr.write(`chat storm: ${JSON.stringify(storm)}\n`)
    type Measured = Memory & { result: WsResult }
    type Rep = { raw: Measured; proxied: WsResult; proxiedMemory: Memory; chat: Measured }
    const all = reps as unknown as Rep[]
    const r9 = round(median(all.map((r) => r.chat.result.deliveryLatencyMs.p99 / r.raw.result.deliveryLatencyMs.p99)), 2)
    const r10 = round(median(all.map((r) => r.chat.result.deliveryLatencyMs.p50 / r.proxied.deliveryLatencyMs.p50)), 2)
    const r11 = round(median(all.map((r) => r.chat.bytesPerSocket / Math.max(1, r.raw.bytesPerSocket))), 2)
    const lost = all.reduce((sum, r) => sum + r.chat.result.lost, 0)
    const duplicated = all.reduce((sum, r) => sum + r.chat.result.duplicates, 0)
    const rows: Row[] = [
      {
        id: 'R9',
        measure: `chat send→delivery p99 ÷ raw ws echo p99 (${sockets} sockets, ${rate} msg/s)`,
        value: r9,
        target: '≤ 5',
        met: r9 <= 5,
      },
      {
        id: 'R9',
        measure: 'messages lost / duplicated (all repetitions)',
        value: `${lost} / ${duplicated}`,
        target: '0 / 0',
        met: lost === 0 && duplicated === 0,
      },
      { id: 'R10', measure: 'chat p50 ÷ ws echo through the gateway p50', value: r10, target: '≤ 1.7', met: r10 <= 1.7 },
      { id: 'R11', measure: 'gateway + chat memory per socket ÷ raw ws per socket', value: r11, target: '≤ 2.7', met: r11 <= 2.7 },
      {
        id: 'R12',
        measure: `${storm.sockets} sockets reconnect at once and catch up (ms until all caught up; lost / duplicated)`,
        value: `${storm.allCaughtUpMs} (all open at ${storm.allOpenMs}); ${storm.lost} / ${storm.duplicates}`,
        target: '≤ 2,000, 0 lost',
        met: storm.allCaughtUpMs <= 2000 && storm.lost === 0 && storm.duplicates === 0,
      },
    ]
    const med = (pick: (r: Rep) => number) => round(median(all.map(pick)), 3)
    const heapOf = (m: Measured) => m.heapUsedPerProcess.reduce((a, b) => a + b, 0)
    const heapRatio = round(median(all.map((r) => heapOf(r.chat) / Math.max(1, heapOf(r.raw)))), 2)
    return {
      scenario: 'chat',
      rows,
      raw: { reps, storm },
      notes: [
        `chat delivery latency p50/p99: ${med((r) => r.chat.result.deliveryLatencyMs.p50)}/${med((r) => r.chat.result.deliveryLatencyMs.p99)} ms; ack p50/p99: ${med((r) => r.chat.result.ackLatencyMs.p50)}/${med((r) => r.chat.result.ackLatencyMs.p99)} ms; achieved ${med((r) => r.chat.result.achievedRate)} msg/s`,
        `raw ws echo p50/p99: ${med((r) => r.raw.result.deliveryLatencyMs.p50)}/${med((r) => r.raw.result.deliveryLatencyMs.p99)} ms; echo through the gateway p50/p99: ${med((r) => r.proxied.deliveryLatencyMs.p50)}/${med((r) => r.proxied.deliveryLatencyMs.p99)} ms`,
        `memory per socket (R11): gateway + chat ${kb(med((r) => r.chat.bytesPerSocket))} (gateway ${kb(med((r) => r.chat.perProcess[0] ?? 0))}, chat ${kb(med((r) => r.chat.perProcess[1] ?? 0))}), raw ws ${kb(med((r) => r.raw.bytesPerSocket))}; the gateway relaying the echo server ${kb(med((r) => r.proxiedMemory.bytesPerSocket))}. Method: slope of RSS over open sockets, sampled at ${socketsAt.join(', ')} sockets (the first ${warmSockets} warm the processes up and stay open), each sample after a full GC in the measured process; V8 heap part: gateway ${kb(med((r) => r.chat.heapUsedPerProcess[0] ?? 0))}, chat ${kb(med((r) => r.chat.heapUsedPerProcess[1] ?? 0))}, raw ws ${kb(med((r) => r.raw.heapUsedPerProcess[0] ?? 0))} (ratio ${heapRatio}: the RSS figures move from run to run with malloc and page reuse, the heap ones barely do)`,
        `${opts.reps} repetitions, ${opts.durationS} s each after ${opts.rateWarmupS} s unrecorded at the rate, open loop; load generator in its own process`,
      ],
    }
  } finally {
    for (const pid of [echo.pid, echoGateway?.process.pid, stack.gateway.process.pid, stack.services.chat?.process.pid]) {
      if (pid) forgetMemory(pid)
    }
    await echoGateway?.stop()
    await echo.stop()
    await stack.stop()
  }
}
