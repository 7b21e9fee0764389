import { newKeyPair, signAccessToken, startStack } from '@sm/testing'
import { runLoad } from '../load/run.ts'
import { median, round } from '../load/stats.ts'
import type { RequestSpec } from '../load/worker.ts'
import type { Row, ScenarioResult } from '../report.ts'
import { defaultSeed, type SeededUser, seedSocial } from '../seed/social.ts'
import { settleConsumers } from '../settle.ts'
import type { BenchOptions } from './options.ts'

const SAMPLE_USERS = 1_000
const DEEP_PAGE = 50 // × 20 posts: past the 800-id Redis cap, so the Postgres fallback serves it

/**
 * Scenarios 2–4 on one seeded stack: home timeline (first and deep page), user timeline, read
 * post, compose, and DeathStarBench's 60/30/10 mix, each through the gateway, with the first
 * page also read directly from social as the in-run baseline.
 */
export async function socialScenario(opts: BenchOptions): Promise<ScenarioResult> {
  const keys = newKeyPair()
  const fanoutFollowerLimit = defaultSeed.fanoutFollowerLimit
  const stack = await startStack({
    services: ['social'],
    env: {
      JWT_PUBLIC_KEY: keys.publicPem,
      RATE_LIMIT_MAX: '1000000000',
      LOG_LEVEL: 'warn',
      FANOUT_FOLLOWER_LIMIT: String(fanoutFollowerLimit),
    },
  })
  try {
    const sizes = {
      ...defaultSeed,
      users: opts.seedUsers,
      posts: opts.seedPosts,
      followsPerUser: opts.seedFollowsPerUser,
      fanoutFollowerLimit,
    }
    process.stderr.write(`seeding ${sizes.users} users, ~${sizes.users * sizes.followsPerUser} follows, ${sizes.posts} posts …\n`)
    const seeded = await seedSocial(stack.db.url, sizes)
    process.stderr.write(`seeded in ${Math.round(seeded.tookMs / 1000)} s\n`)
    const direct = stack.services.social?.url as string
    const sample = pickActive(seeded.users, SAMPLE_USERS)
    const auth = (user: SeededUser) => ({
      authorization: `Bearer ${signAccessToken(keys, { id: user.id, username: user.username }, 3_600_000)}`,
    })
    const headers = new Map(sample.map((user) => [user.id, auth(user)]))

    // Warm-up: every sampled timeline is built once (as on a user's first visit), and the deep
    // cursors are walked to.
    const deepRequests: RequestSpec[] = []
    for (const [index, user] of sample.entries()) {
      let cursor: string | null = null
      const walk = index < 200 ? DEEP_PAGE : 1
      for (let page = 1; page <= walk; page++) {
        const response = await fetch(`${stack.url}/feed${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, {
          headers: headers.get(user.id),
        })
        if (!response.ok) throw new Error(`feed warm-up: ${response.status} ${await response.text()}`)
        cursor = ((await response.json()) as { nextCursor: string | null }).nextCursor
        if (!cursor) break
        if (page === walk - 1)
          deepRequests.push({ path: `/feed?cursor=${encodeURIComponent(cursor)}`, headers: headers.get(user.id), tag: 'deep' })
      }
    }
    if (deepRequests.length === 0) throw new Error('no timeline is deep enough for the deep-page measure; seed more posts')
    const home: RequestSpec[] = sample.map((user) => ({ path: '/feed', headers: headers.get(user.id), tag: 'home' }))
    const userTimeline: RequestSpec[] = sample.map((user, i) => ({
      path: `/users/${(sample[(i * 7) % sample.length] as SeededUser).username}/posts`,
      headers: headers.get(user.id),
      tag: 'user',
    }))
    const readPost: RequestSpec[] = seeded.samplePostIds.map((id, i) => ({
      path: `/posts/${id}`,
      headers: headers.get((sample[i % sample.length] as SeededUser).id),
      tag: 'post',
    }))
    const compose: RequestSpec[] = sample.map((user, i) => ({
      path: '/posts',
      method: 'POST',
      headers: headers.get(user.id),
      body: JSON.stringify({ text: `bench post ${i} about #bench #tag${i % 50}` }),
      tag: 'compose',
    }))
    // DeathStarBench's mix, interleaved so every second has the same shares: 6 home, 3 user, 1 compose.
    const mix: RequestSpec[] = []
    for (let i = 0; i < sample.length; i++) {
      for (let k = 0; k < 6; k++) mix.push(home[(i * 6 + k) % home.length] as RequestSpec)
      for (let k = 0; k < 3; k++) mix.push(userTimeline[(i * 3 + k) % userTimeline.length] as RequestSpec)
      mix.push(compose[i] as RequestSpec)
    }

    const reps: Array<Record<string, number>> = []
    for (let rep = 0; rep < opts.reps; rep++) {
      const saturate = async (base: string, requests: RequestSpec[]) => {
        await runLoad({ kind: 'saturate', target: { url: base, requests }, connections: opts.connections, durationS: opts.warmupS })
        const result = await runLoad({
          kind: 'saturate',
          target: { url: base, requests },
          connections: opts.connections,
          durationS: opts.durationS,
        })
        if (result.non2xx + result.errors > result.completed / 1000) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`)
        return result.requestsPerSecond
      }
      const atRate = async (requests: RequestSpec[], rate: number) =>
        runLoad({
          kind: 'rate',
          target: { url: stack.url, requests },
          rate,
          durationS: opts.rateDurationS,
          warmupS: opts.rateWarmupS,
          connections: opts.connections,
        })
      // Writes leave work behind (fan-out of every post): each write-heavy run is followed by a
      // wait until the timeline consumer has caught up, so the next run is not charged for it.
      const settle = () => settleConsumers(stack.namespace, ['social-timeline'])
      const homeDirect = await saturate(direct, home)
      const homeGateway = await saturate(stack.url, home)
      // The issue's rates (1,000 reads/s, 300 composes/s) assume a box that serves far more; on a
      // slower one they would measure a queue, not the service. Each is capped at half of the
      // saturation measured in this run, and the rate used is reported.
      const readRate = Math.round(Math.min(1000, homeGateway / 2))
      const first = await atRate(home, readRate)
      const deep = await atRate(deepRequests, readRate)
      const user = await atRate(userTimeline, readRate)
      const post = await atRate(readPost, readRate)
      const composeGateway = await saturate(stack.url, compose)
      await settle()
      const composeRate = Math.round(Math.min(300, composeGateway / 2))
      const composeRun = await atRate(compose, composeRate)
      await settle()
      const mixed = await atRate(mix, readRate)
      await settle()
      const r = {
        homeDirect,
        homeGateway,
        composeGateway,
        readRate,
        composeRate,
        homeP99At1000: first.latencyMs.p99,
        deepP99At1000: deep.latencyMs.p99,
        userP99At1000: user.latencyMs.p99,
        postP99At1000: post.latencyMs.p99,
        composeP99At300: composeRun.latencyMs.p99,
        mixedP99: mixed.latencyMs.p99,
        mixedHomeP99: mixed.tags.home?.p99 ?? Number.NaN,
        failures: first.non2xx + deep.non2xx + user.non2xx + post.non2xx + composeRun.non2xx + mixed.non2xx,
      }
      reps.push(r)
      process.stderr.write(`social rep ${rep + 1}: ${JSON.stringify(r)}\n`)
    }
    const med = (key: string) => round(median(reps.map((r) => r[key] as number)), 3)
    const rateLabel = (key: string, target: number) => {
      const used = med(key)
      return used >= target
        ? `at ${target.toLocaleString('en')} req/s`
        : `at ${Math.round(used)} req/s (half of saturation; the issue's ${target.toLocaleString('en')} exceeds this box)`
    }
    const r5 = round(median(reps.map((r) => (r.deepP99At1000 as number) / (r.homeP99At1000 as number))), 2)
    const rows: Row[] = [
      {
        id: 'R5',
        measure: `feed deep page (≈1,000 posts down) p99 ÷ first page p99, ${rateLabel('readRate', 1000)}`,
        value: r5,
        target: '≤ 1.2',
        met: r5 <= 1.2,
      },
      {
        id: 'R6',
        measure: `home feed through the gateway, ${rateLabel('readRate', 1000)}, p99 (ms)`,
        value: med('homeP99At1000'),
        target: '≤ 10',
        met: med('homeP99At1000') <= 10,
      },
      {
        id: 'R6',
        measure: 'home feed saturation through the gateway (req/s)',
        value: Math.round(med('homeGateway')),
        target: '≥ 1,500',
        met: med('homeGateway') >= 1500,
      },
      {
        id: 'R7',
        measure: `60/30/10 mix, ${rateLabel('readRate', 1000)}: home p99 (ms)`,
        value: med('mixedHomeP99'),
        target: '≤ 15',
        met: med('mixedHomeP99') <= 15,
      },
      {
        id: 'R8',
        measure: `compose post, ${rateLabel('composeRate', 300)}, p99 (ms)`,
        value: med('composeP99At300'),
        target: '≤ 20',
        met: med('composeP99At300') <= 20,
      },
    ]
    return {
      scenario: 'social',
      rows,
      raw: reps,
      notes: [
        `seeded ${sizes.users} users, ${sizes.users * sizes.followsPerUser} follow draws (power-law), ${sizes.posts} posts in ${Math.round(seeded.tookMs / 1000)} s (seed ${sizes.seed})`,
        `home feed saturation direct ${Math.round(med('homeDirect'))} req/s vs gateway ${Math.round(med('homeGateway'))} req/s (ratio ${round(med('homeGateway') / med('homeDirect'), 2)}); compose saturation through the gateway ${Math.round(med('composeGateway'))} req/s`,
        `p99 at ${Math.round(med('readRate'))} req/s: user timeline ${med('userP99At1000')} ms, read post ${med('postP99At1000')} ms; whole mix p99 ${med('mixedP99')} ms`,
        `${SAMPLE_USERS} sampled users (the most-following ones), tokens signed with the stack's test key; failures across runs: ${reps.reduce((s, r) => s + (r.failures as number), 0)}`,
      ],
    }
  } finally {
    await stack.stop()
  }
}

/** Users who follow someone, most-following first: their feeds have something to page through. */
function pickActive(users: SeededUser[], count: number): SeededUser[] {
  return [...users]
    .filter((u) => u.following > 0)
    .sort((a, b) => b.following - a.following || (a.username < b.username ? -1 : 1))
    .slice(0, count)
}
