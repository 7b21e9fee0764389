/**
 * The reconnect storm (R12) by itself: starts auth, chat and the gateway, connects N users in
 * pairs, drops every socket, sends one message per pair, reconnects everyone at once and prints
 * how long until all were open and caught up. With `--cpu-prof`, chat is profiled over its whole
 * life and the functions with the most self time are printed.
 * Usage: node services/chat/scripts/profile-storm.ts [sockets=1000] [--cpu-prof]
 */
import { mkdirSync } from 'node:fs'
import { startStack } from '@sm/testing'
import { printCpuProfile } from '../../../packages/bench/src/cpu-profile.ts'
import { runStorm } from '../../../packages/bench/src/load/storm-run.ts'
import { registerUsers } from '../../../packages/bench/src/scenarios/users.ts'

const sockets = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 1000)
const profile = process.argv.includes('--cpu-prof')
const profDir = `/tmp/storm-prof-${Date.now()}`
if (profile) mkdirSync(profDir)
const stack = await startStack({
  services: ['auth', 'chat'],
  env: { RATE_LIMIT_MAX: '1000000000', BCRYPT_COST: '4', LOG_LEVEL: 'warn' },
  serviceEnv: profile ? { chat: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}` } } : {},
})
try {
  const users = await registerUsers(stack.services.auth?.url as string, sockets)
  const pairs: Array<[number, number]> = []
  for (let i = 0; i + 1 < users.length; i += 2) pairs.push([i, i + 1])
  const storm = await runStorm({ wsUrl: `${stack.url.replace(/^http/, 'ws')}/chat/ws`, httpUrl: stack.url, users, pairs })
  console.log(JSON.stringify(storm))
} finally {
  await stack.stop()
}
if (profile) printCpuProfile(profDir)
