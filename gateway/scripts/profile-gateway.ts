/**
 * Profiles the gateway's hot path: starts auth and a gateway with --cpu-prof, saturates the
 * trivial route (GET /auth/.well-known/jwks.json) through it from the bench's load worker (its
 * own process), then prints the gateway's CPU seconds per 1,000 requests and the functions with
 * the most self time. CPU per request is the figure to compare: unlike req/s, it barely moves
 * when something else is using the machine.
 * Usage: node gateway/scripts/profile-gateway.ts [seconds=8]
 */
import { mkdirSync } from 'node:fs'
import { startProcess, startStack } from '@sm/testing'
import { printCpuProfile } from '../../packages/bench/src/cpu-profile.ts'
import { runLoad } from '../../packages/bench/src/load/run.ts'
import { cpuSeconds } from '../../packages/bench/src/proc.ts'

const seconds = Number(process.argv[2] ?? 8)
const profDir = `/tmp/gateway-prof-${Date.now()}`
mkdirSync(profDir)
const stack = await startStack({ services: ['auth'], env: { RATE_LIMIT_MAX: '1000000000', LOG_LEVEL: 'warn' } })
const gateway = await startProcess('gateway', {
  DATABASE_URL: stack.db.url,
  NAMESPACE: stack.namespace,
  AUTH_URL: stack.services.auth?.url as string,
  RATE_LIMIT_MAX: '1000000000',
  LOG_LEVEL: 'warn',
  NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}`,
})
const target = { url: gateway.url, requests: [{ path: '/auth/.well-known/jwks.json' }] }
await runLoad({ kind: 'saturate', target, connections: 50, durationS: 2 })
const pid = gateway.process.pid as number
const before = cpuSeconds(pid)
const result = await runLoad({ kind: 'saturate', target, connections: 50, durationS: seconds })
const used = cpuSeconds(pid) - before
console.log(`${Math.round(result.requestsPerSecond)} req/s; gateway CPU ${((used / result.completed) * 1e6).toFixed(1)} µs per request`)
await gateway.stop()
await stack.stop()

printCpuProfile(profDir, 35)
