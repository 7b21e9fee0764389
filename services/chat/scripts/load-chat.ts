/**
 * Chat under a fixed message rate, without a profiler in the way: starts auth, chat and the
 * gateway, has pairs of sockets chat through the gateway (the bench's WebSocket load worker, its
 * own process), then prints delivery latency, chat's CPU per message (user and system) and the
 * CPU every part of the machine spent meanwhile (chat, gateway, Postgres, NATS, Redis, the load
 * generator). The figures the chat README's Throughput section quotes; run it alternating with a
 * worktree of the code before a change.
 * Usage: node services/chat/scripts/load-chat.ts [rate=150] [sockets=2000] [seconds=15]
 */
import { startStack } from '@sm/testing'
import { runWsLoad } from '../../../packages/bench/src/load/ws-run.ts'
import { cpuSecondsBetween, cpuSnapshot, type ProcessCpu, processStat } from '../../../packages/bench/src/proc.ts'
import { registerUsers } from '../../../packages/bench/src/scenarios/users.ts'

const [rate = 150, sockets = 2000, seconds = 15] = process.argv.slice(2).map(Number)

const stack = await startStack({
  services: ['auth', 'chat'],
  env: { RATE_LIMIT_MAX: '1000000000', BCRYPT_COST: '4', LOG_LEVEL: 'warn' },
})
const chatPid = stack.services.chat?.process.pid as number
const named = { chat: chatPid, gateway: stack.gateway.process.pid as number, auth: stack.services.auth?.process.pid as number }
try {
  const users = await registerUsers(stack.services.auth?.url as string, sockets)
  const pairs: Array<[number, number]> = []
  for (let i = 0; i + 1 < users.length; i += 2) pairs.push([i, i + 1])
  const url = `${stack.url.replace(/^http/, 'ws')}/chat/ws`
  let chatBefore = { user: 0, system: 0 }
  let machineBefore = new Map<number, ProcessCpu>()
  const result = await runWsLoad(
    { mode: 'chat', url, users, pairs, rate, durationS: seconds, graceS: 3, connectConcurrency: 50 },
    (phase) => {
      if (phase !== 'measuring') return
      chatBefore = processStat(chatPid)
      machineBefore = cpuSnapshot(named)
    },
  )
  const machine = cpuSecondsBetween(machineBefore, cpuSnapshot(named))
  const chatAfter = processStat(chatPid)
  const perMessage = (before: number, after: number) => (((after - before) / Math.max(1, result.sent)) * 1000).toFixed(2)
  console.log(
    `${result.achievedRate.toFixed(0)} msg/s over ${sockets} sockets: sent ${result.sent}, lost ${result.lost}, duplicated ${result.duplicates}; ` +
      `delivery p50/p99 ${result.deliveryLatencyMs.p50}/${result.deliveryLatencyMs.p99} ms; ` +
      `chat CPU per message ${perMessage(chatBefore.user, chatAfter.user)} ms user + ${perMessage(chatBefore.system, chatAfter.system)} ms system`,
  )
  console.log('CPU seconds over the measured messages:', machine)
} finally {
  await stack.stop()
}
