/**
 * `pnpm bench [scenario ...] [--reps 3] [--duration 8] [--warmup 2] [--rate-duration 5] [--rate-warmup 5] [--connections 50]
 *   [--sockets 2000] [--message-rate 2000] [--users 10000] [--posts 1000000] [--follows 30]`
 * Each scenario starts its own stack (own database, namespace, ports), runs its load from
 * separate processes and writes bench/results/<scenario>.{json,md}.
 */
import { parseArgs } from 'node:util'
import { writeResult } from './report.ts'
import { chatScenario } from './scenarios/chat.ts'
import { gatewayScenario } from './scenarios/gateway.ts'
import { defaultOptions } from './scenarios/options.ts'
import { searchScenario } from './scenarios/search.ts'
import { socialScenario } from './scenarios/social.ts'

const scenarios = { gateway: gatewayScenario, social: socialScenario, chat: chatScenario, search: searchScenario }
type ScenarioName = keyof typeof scenarios

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    'rate-duration': { type: 'string' },
    'rate-warmup': { type: 'string' },
    connections: { type: 'string' },
    sockets: { type: 'string' },
    'message-rate': { type: 'string' },
    users: { type: 'string' },
    posts: { type: 'string' },
    follows: { type: 'string' },
  },
})
const opts = {
  reps: Number(values.reps ?? defaultOptions.reps),
  durationS: Number(values.duration ?? defaultOptions.durationS),
  warmupS: Number(values.warmup ?? defaultOptions.warmupS),
  rateDurationS: Number(values['rate-duration'] ?? defaultOptions.rateDurationS),
  rateWarmupS: Number(values['rate-warmup'] ?? defaultOptions.rateWarmupS),
  connections: Number(values.connections ?? defaultOptions.connections),
  sockets: Number(values.sockets ?? defaultOptions.sockets),
  messageRate: Number(values['message-rate'] ?? defaultOptions.messageRate),
  seedUsers: Number(values.users ?? defaultOptions.seedUsers),
  seedPosts: Number(values.posts ?? defaultOptions.seedPosts),
  seedFollowsPerUser: Number(values.follows ?? defaultOptions.seedFollowsPerUser),
}
const chosen = (positionals.length > 0 ? positionals : Object.keys(scenarios)) as ScenarioName[]
for (const name of chosen) {
  if (!(name in scenarios)) {
    process.stderr.write(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}\n`)
    process.exit(2)
  }
}
for (const name of chosen) {
  process.stderr.write(`== ${name}\n`)
  const result = await scenarios[name](opts)
  process.stdout.write(`${writeResult(result)}\n`)
}
