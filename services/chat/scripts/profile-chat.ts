/**
 * Profiles chat's send → deliver path: starts auth, chat (with --cpu-prof) and the gateway, has
 * pairs of sockets chat at a fixed rate through the gateway (the bench's WebSocket load worker,
 * its own process), then prints chat's CPU per message and the functions with the most self
 * time. CPU per message is the figure to compare across changes.
 * Usage: node services/chat/scripts/profile-chat.ts [rate=150] [sockets=400] [seconds=10]
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startStack } from '@sm/testing'
import { runWsLoad } from '../../../packages/bench/src/load/ws-run.ts'
import { registerUsers } from '../../../packages/bench/src/scenarios/users.ts'

const [rate = 150, sockets = 400, seconds = 10] = process.argv.slice(2).map(Number)
const profDir = `/tmp/chat-prof-${Date.now()}`
mkdirSync(profDir)
const stack = await startStack({
  services: ['auth', 'chat'],
  env: { RATE_LIMIT_MAX: '1000000000', BCRYPT_COST: '4', LOG_LEVEL: 'warn' },
  serviceEnv: { chat: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}` } },
})
const chatPid = stack.services.chat?.process.pid as number
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}
try {
  const users = await registerUsers(stack.services.auth?.url as string, sockets)
  const pairs: Array<[number, number]> = []
  for (let i = 0; i + 1 < users.length; i += 2) pairs.push([i, i + 1])
  const url = `${stack.url.replace(/^http/, 'ws')}/chat/ws`
  const job = { mode: 'chat' as const, url, users, pairs, rate, durationS: seconds, graceS: 5, connectConcurrency: 50 }
  let before = 0
  const result = await runWsLoad(job, (phase) => {
    if (phase === 'connected') before = cpuSeconds(chatPid)
  })
  const used = cpuSeconds(chatPid) - before
  console.log(
    `${result.achievedRate.toFixed(0)} msg/s sent, delivered ${result.delivered}, lost ${result.lost}; delivery p50/p99 ${result.deliveryLatencyMs.p50}/${result.deliveryLatencyMs.p99} ms; chat CPU ${((used / Math.max(1, result.sent)) * 1000).toFixed(2)} ms per message`,
  )
} finally {
  await stack.stop()
}
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
if (file) {
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>
    samples: number[]
    timeDeltas: number[]
  }
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)?.callFrame
    const where = (frame?.url ?? '').replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*/, '$1').replace(/.*\/work\/main\//, '')
    const key = `${frame?.functionName || '(anon)'} ${where}:${frame?.lineNumber}`
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const busy = [...self].filter(([key]) => !key.startsWith('(idle)'))
  const total = busy.reduce((sum, [, us]) => sum + us, 0)
  for (const [key, us] of busy.sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
  const byPackage = new Map<string, number>()
  for (const [key, us] of busy) {
    const where = key.split(' ')[1]?.split(':')[0] ?? '?'
    const pkg = where.includes('/') ? where.split('/').slice(0, 3).join('/') : where
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
  }
  console.log('--- by package or file')
  for (const [key, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 20))
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
}
