/**
 * Profiles chat's send → deliver path: starts auth, chat (with --cpu-prof) and the gateway, has
 * pairs of sockets chat at a fixed rate through the gateway (the bench's WebSocket load worker,
 * its own process), then prints chat's CPU per message and the functions with the most self
 * time. CPU per message is the figure to compare across changes.
 * Usage: node services/chat/scripts/profile-chat.ts [rate=150] [sockets=400] [seconds=10]
 */
import { mkdirSync } from 'node:fs'
import { startStack } from '@sm/testing'
import { printCpuProfile } from '../../../packages/bench/src/cpu-profile.ts'
import { runWsLoad } from '../../../packages/bench/src/load/ws-run.ts'
import { cpuSeconds } from '../../../packages/bench/src/proc.ts'
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
try {
  const users = await registerUsers(stack.services.auth?.url as string, sockets)
  const pairs: Array<[number, number]> = []
  for (let i = 0; i + 1 < users.length; i += 2) pairs.push([i, i + 1])
  const url = `${stack.url.replace(/^http/, 'ws')}/chat/ws`
  const job = { mode: 'chat' as const, url, users, pairs, rate, durationS: seconds, graceS: 5, connectConcurrency: 50 }
  let before = 0
  const result = await runWsLoad(job, (phase) => {
    if (phase === 'measuring') before = cpuSeconds(chatPid)
  })
  const used = cpuSeconds(chatPid) - before
  console.log(
    `${result.achievedRate.toFixed(0)} msg/s sent, delivered ${result.delivered}, lost ${result.lost}; delivery p50/p99 ${result.deliveryLatencyMs.p50}/${result.deliveryLatencyMs.p99} ms; chat CPU ${((used / Math.max(1, result.sent)) * 1000).toFixed(2)} ms per message`,
  )
} finally {
  await stack.stop()
}
printCpuProfile(profDir)
