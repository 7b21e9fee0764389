import { startStack } from '@sm/testing'
import { startNginx, startNodeProxy } from '../baselines/processes.ts'
import { runLoad } from '../load/run.ts'
import { median, round } from '../load/stats.ts'
import type { Row, ScenarioResult } from '../report.ts'
import type { BenchOptions } from './options.ts'

/** A route that does no work in the service: what is left is the cost of getting there. */
const TRIVIAL_PATH = '/auth/.well-known/jwks.json'

/**
 * Scenario 1, gateway tax: the same trivial auth route direct, through the gateway, through a
 * plain node:http proxy and through nginx, all in one run, so the ratios survive a noisy box.
 */
export async function gatewayScenario(opts: BenchOptions): Promise<ScenarioResult> {
  // The per-IP limit stays on (every request still counts in Redis); only its ceiling is lifted.
  const stack = await startStack({ services: ['auth'], env: { RATE_LIMIT_MAX: '1000000000', LOG_LEVEL: 'warn' } })
  const direct = stack.services.auth?.url as string
  const nodeProxy = await startNodeProxy(direct)
  const nginx = await startNginx(direct)
  try {
    const targets: Record<string, string> = { direct, gateway: stack.url, nodeProxy: nodeProxy.url }
    if (nginx) targets.nginx = nginx.url
    const reps: Array<Record<string, unknown>> = []
    for (let rep = 0; rep < opts.reps; rep++) {
      const saturation: Record<string, number> = {}
      for (const [name, base] of Object.entries(targets)) {
        const target = { url: base, requests: [{ path: TRIVIAL_PATH }] }
        await runLoad({ kind: 'saturate', target, connections: opts.connections, durationS: opts.warmupS })
        const result = await runLoad({ kind: 'saturate', target, connections: opts.connections, durationS: opts.durationS })
        // A handful of sockets cut when the run ends are noise; more than 0.1% failing is a broken target.
        if (result.non2xx + result.errors > result.completed / 1000) {
          throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors of ${result.completed}`)
        }
        saturation[name] = result.requestsPerSecond
      }
      const gatewayRate = saturation.gateway as number
      const latency: Record<string, Record<string, unknown>> = {}
      for (const share of [0.25, 0.5, 0.75]) {
        const rate = Math.max(1, Math.round(gatewayRate * share))
        for (const name of ['direct', 'gateway']) {
          const target = { url: targets[name] as string, requests: [{ path: TRIVIAL_PATH }] }
          const result = await runLoad({
            kind: 'rate',
            target,
            rate,
            durationS: opts.rateDurationS,
            warmupS: opts.rateWarmupS,
            connections: opts.connections,
          })
          latency[`${name}@${share * 100}%`] = { rate, ...result }
        }
      }
      reps.push({ saturation, latency })
      process.stderr.write(`gateway rep ${rep + 1}: ${JSON.stringify(saturation)}\n`)
    }
    const ratio = (a: string, b: string) =>
      round(
        median(
          reps.map(
            (r) => ((r.saturation as Record<string, number>)[a] as number) / ((r.saturation as Record<string, number>)[b] as number),
          ),
        ),
        2,
      )
    const p99 = (key: string) =>
      median(reps.map((r) => (r.latency as Record<string, { latencyMs: { p99: number } }>)[key]?.latencyMs.p99 ?? 0))
    const added = round(p99('gateway@50%') - p99('direct@50%'), 3)
    const rows: Row[] = [
      {
        id: 'R1',
        measure: 'gateway ÷ direct, trivial route (req/s)',
        value: ratio('gateway', 'direct'),
        target: '≥ 0.30',
        met: ratio('gateway', 'direct') >= 0.3,
      },
      {
        id: 'R2',
        measure: 'gateway ÷ plain node:http keep-alive proxy',
        value: ratio('gateway', 'nodeProxy'),
        target: '≥ 1.2',
        met: ratio('gateway', 'nodeProxy') >= 1.2,
      },
    ]
    if (nginx) {
      rows.push({
        id: 'R3',
        measure: 'gateway ÷ nginx, 1 worker',
        value: ratio('gateway', 'nginx'),
        target: '≥ 0.40',
        met: ratio('gateway', 'nginx') >= 0.4,
      })
    }
    rows.push({
      id: 'R4',
      measure: 'p99 added by the gateway at 50% of its saturation (ms)',
      value: added,
      target: '≤ 1 ms',
      met: added <= 1,
    })
    const medianRate = (name: string) => Math.round(median(reps.map((r) => (r.saturation as Record<string, number>)[name] as number)))
    return {
      scenario: 'gateway',
      rows,
      raw: reps,
      notes: [
        `saturation (median req/s, ${opts.connections} connections, ${opts.durationS} s): ${Object.keys(targets)
          .map((name) => `${name} ${medianRate(name)}`)
          .join(', ')}`,
        `route: GET ${TRIVIAL_PATH}; the gateway runs its full chain (security headers, CORS, request id, per-IP rate limit shared through Redis, body limit, metrics)`,
        `${opts.reps} repetitions, medians of the per-repetition ratios; latency open-loop at 25/50/75% of gateway saturation after ${opts.rateWarmupS} s unrecorded at the rate, µs resolution`,
      ],
    }
  } finally {
    await nginx?.stop()
    await nodeProxy.stop()
    await stack.stop()
  }
}
