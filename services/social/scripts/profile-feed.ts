/**
 * Profiles GET /feed: starts social as its own process with --cpu-prof, seeds it with the bench's
 * seeder, saturates /feed directly (bench's load worker, its own process), then prints the
 * functions with the most self time. With `--survivors`, it samples instead what outlives a
 * scavenge during the load (survivors-probe.ts): the objects that make social's GC pauses long.
 * Usage: node services/social/scripts/profile-feed.ts [/feed | deep | /users/:username/posts | compose] [--survivors]
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot, signAccessToken } from '@sm/testing'
import { printCpuProfile } from '../../../packages/bench/src/cpu-profile.ts'
import { cpuSecondsBetween, cpuSnapshot } from '../../../packages/bench/src/proc.ts'
import { seedSocial } from '../../../packages/bench/src/seed/social.ts'
import { printSurvivors, survivorsProbePath } from '../../../packages/bench/src/survivors.ts'
import { startSocialProcess } from './social-process.ts'

const survivors = process.argv.includes('--survivors')
const path = process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? '/feed'
const profDir = `/tmp/social-prof-${Date.now()}`
mkdirSync(profDir)
const survivorsTrigger = join(profDir, 'survivors.go')
const survivorsOut = join(profDir, 'survivors.json')
const profiler = survivors ? ['--import', survivorsProbePath] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]
const social = await startSocialProcess({
  nodeArgs: profiler,
  env: { SURVIVORS_TRIGGER: survivorsTrigger, SURVIVORS_OUT: survivorsOut },
})
const { child, base, db, keys } = social
const seeded = await seedSocial(db.url, {
  users: 2000,
  followsPerUser: 20,
  posts: 50_000,
  hashtagShare: 0.6,
  seed: 42,
  fanoutFollowerLimit: 2000,
})
const sample = seeded.users
  .filter((u) => u.following > 0)
  .sort((a, b) => b.following - a.following)
  .slice(0, 300)
const compose = path === 'compose'
const requests = sample.map((u, i) => ({
  path: compose ? '/posts' : path.replace(':username', u.username),
  headers: { authorization: `Bearer ${signAccessToken(keys, { id: u.id, username: u.username }, 3_600_000)}` },
  ...(compose && { method: 'POST', body: JSON.stringify({ text: `bench post ${i} about #bench #tag${i % 50}` }) }),
}))
// Warm-up: every sampled user's timeline is built once (a first visit).
for (const r of requests) await fetch(`${base}/feed`, { headers: r.headers })
if (path === 'deep') {
  // Deep pages: 45 pages of 20 down (900 posts, past the 800-id cap), as the bench's deep measure.
  for (const r of requests) {
    let cursor: string | null = null
    for (let page = 0; page < 45; page++) {
      const body = (await (await fetch(`${base}/feed${cursor ? `?cursor=${cursor}` : ''}`, { headers: r.headers })).json()) as {
        nextCursor: string | null
      }
      if (!body.nextCursor) break
      cursor = body.nextCursor
    }
    r.path = `/feed${cursor ? `?cursor=${cursor}` : ''}`
  }
}
const jobFile = join(profDir, 'job.json')
writeFileSync(jobFile, JSON.stringify({ kind: 'saturate', target: { url: base, requests }, connections: 20, durationS: 8 }))
const ticks = () => cpuSnapshot({ social: child.pid as number })
// The load runs synchronously below: the probe starts sampling as soon as it sees this file.
if (survivors) writeFileSync(survivorsTrigger, '')
const before = ticks()
const out = execFileSync(process.execPath, [join(repoRoot, 'packages/bench/src/load/worker.ts'), jobFile], { encoding: 'utf8' })
console.log(out.trim())
const after = ticks()
console.log('CPU seconds during the load:', cpuSecondsBetween(before, after))
await social.stop()

if (survivors) printSurvivors(survivorsOut)
else printCpuProfile(profDir, 40)
