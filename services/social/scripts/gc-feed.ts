/**
 * Social's garbage collection under fixed-rate feed reads: starts social as its own process with
 * `--trace-gc-nvp` plus the given Node flags (not its package's nodeFlags: the point is to compare
 * them), seeds it with the bench's seeder, reads GET /feed directly at a fixed rate (the bench's
 * open-loop worker, its own process), then prints the latency percentiles and what each
 * scavenge promoted and paused. Run it alternately per flag set; single runs are noisy.
 * Usage: node services/social/scripts/gc-feed.ts [rate=400] [seconds=15] [node flags...]
 * e.g.   node services/social/scripts/gc-feed.ts 400 15 --max-semi-space-size=8
 */
import { openSync, readFileSync } from 'node:fs'
import { signAccessToken } from '@sm/testing'
import { runLoad } from '../../../packages/bench/src/load/run.ts'
import { defaultSeed, seedSocial } from '../../../packages/bench/src/seed/social.ts'
import { startSocialProcess } from './social-process.ts'

const [rateArg, secondsArg, ...flags] = process.argv.slice(2)
const rate = Number(rateArg ?? 400)
const seconds = Number(secondsArg ?? 15)
const gcLog = `/tmp/social-gc-${Date.now()}.log`
const social = await startSocialProcess({ nodeArgs: ['--trace-gc-nvp', ...flags], stdout: openSync(gcLog, 'w') })
const { base, db, keys } = social
const seeded = await seedSocial(db.url, { ...defaultSeed, posts: 300_000 })
const sample = [...seeded.users].sort((a, b) => b.following - a.following).slice(0, 1000)
const requests = sample.map((u) => ({
  path: '/feed',
  headers: { authorization: `Bearer ${signAccessToken(keys, { id: u.id, username: u.username }, 3_600_000)}` },
}))
// Warm-up: every sampled timeline is built once (a first visit).
for (const r of requests) await fetch(`${base}/feed`, { headers: r.headers })
const skip = readFileSync(gcLog, 'utf8').split('\n').length
const result = await runLoad({ kind: 'rate', target: { url: base, requests }, rate, durationS: seconds, warmupS: 3, connections: 50 })
const lines = readFileSync(gcLog, 'utf8').split('\n').slice(skip)
await social.stop()

const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=([0-9.]+)`).exec(line)?.[1] ?? Number.NaN)
const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return `median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)}, max ${sorted.at(-1)?.toFixed(1)} (${sorted.length})`
}
const scavenges = lines.filter((l) => l.includes('gc=s '))
const majors = lines.filter((l) => l.includes('gc=mc '))
console.log(`flags: ${flags.join(' ') || '(none)'}; GET /feed at ${rate} req/s for ${seconds} s, direct`)
console.log(`latency ms: ${JSON.stringify(result.latencyMs)}`)
console.log(`scavenge pause ms: ${stats(scavenges.map((l) => field(l, 'pause')))}`)
console.log(`promoted per scavenge MB: ${stats(scavenges.map((l) => field(l, 'promoted') / 1e6))}`)
console.log(`young generation MB: ${stats(scavenges.map((l) => field(l, 'new_space_capacity') / 1e6))}`)
console.log(`mark-compact pause ms: ${stats(majors.map((l) => field(l, 'pause')))}`)
