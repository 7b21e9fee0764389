import { startStack } from '@sm/testing'
import { runLoad } from '../load/run.ts'
import { median, round } from '../load/stats.ts'
import type { RequestSpec } from '../load/worker.ts'
import type { Row, ScenarioResult } from '../report.ts'
import { seedSearch } from '../seed/search.ts'
import type { BenchOptions } from './options.ts'

/** Scenario 6: search queries on a seeded index, through the gateway and direct (same run). */
export async function searchScenario(opts: BenchOptions): Promise<ScenarioResult> {
  const stack = await startStack({ services: ['search'], env: { RATE_LIMIT_MAX: '1000000000', LOG_LEVEL: 'warn' } })
  try {
    const posts = Math.min(opts.seedPosts, 300_000)
    process.stderr.write(`seeding search with ${opts.seedUsers} users, ${posts} posts …\n`)
    const seeded = await seedSearch(stack.db.url, { users: opts.seedUsers, posts, seed: 42 })
    const q = (path: string, tag: string): RequestSpec => ({ path, tag })
    const mixes: Record<string, RequestSpec[]> = {
      'posts: rare word': Array.from({ length: 200 }, (_, i) => q(`/search/posts?q=word${i * 17}`, 'rare')),
      'posts: two common words': [q('/search/posts?q=coffee%20friends', 'common'), q('/search/posts?q=music%20rain', 'common')],
      'posts: #tag': Array.from({ length: 50 }, (_, i) => q(`/search/posts?q=%23tag${1 + i * 3}`, 'tag')),
      'users: prefix and fuzzy': Array.from({ length: 200 }, (_, i) => q(`/search/users?q=${i % 2 ? `seed_${i * 31}` : 'chloe'}`, 'users')),
      'hashtags: prefix': Array.from({ length: 50 }, (_, i) => q(`/search/hashtags?q=tag${i}`, 'hashtags')),
    }
    const direct = stack.services.search?.url as string
    const results: Record<string, { gateway: number[]; direct: number[]; p99: number[] }> = {}
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const [name, requests] of Object.entries(mixes)) {
        const entry = results[name] ?? { gateway: [], direct: [], p99: [] }
        results[name] = entry
        for (const [label, base] of [
          ['direct', direct],
          ['gateway', stack.url],
        ] as const) {
          await runLoad({ kind: 'saturate', target: { url: base, requests }, connections: 20, durationS: opts.warmupS })
          const run = await runLoad({ kind: 'saturate', target: { url: base, requests }, connections: 20, durationS: opts.durationS })
          if (run.non2xx + run.errors > run.completed / 1000)
            throw new Error(`${name} ${label}: ${run.non2xx} non-2xx, ${run.errors} errors`)
          entry[label].push(run.requestsPerSecond)
        }
        const fixed = await runLoad({
          kind: 'rate',
          target: { url: stack.url, requests },
          rate: Math.max(10, Math.round((entry.gateway.at(-1) as number) / 2)),
          durationS: opts.rateDurationS,
          warmupS: opts.rateWarmupS,
          connections: 20,
        })
        entry.p99.push(fixed.latencyMs.p99)
        process.stderr.write(
          `search ${name}: direct ${entry.direct.at(-1)} req/s, gateway ${entry.gateway.at(-1)} req/s, p99 at half ${fixed.latencyMs.p99} ms\n`,
        )
      }
    }
    const rows: Row[] = Object.entries(results).map(([name, r]) => ({
      id: 'S',
      measure: `${name}: req/s through the gateway (÷ direct); p99 at half of it`,
      value: `${Math.round(median(r.gateway))} (${round(median(r.gateway) / median(r.direct), 2)}); ${round(median(r.p99), 1)} ms`,
      target: '—',
      met: null,
    }))
    return {
      scenario: 'search',
      rows,
      raw: results,
      notes: [
        `index seeded from SQL: ${opts.seedUsers} users, ${posts} posts with Zipf hashtags, in ${Math.round(seeded.tookMs / 1000)} s`,
        'saturation with 20 connections; the fixed-rate run is open loop at half the measured gateway saturation',
      ],
    }
  } finally {
    await stack.stop()
  }
}
