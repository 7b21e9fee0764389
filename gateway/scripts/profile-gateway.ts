/**
 * Profiles the gateway's hot path: starts auth and a gateway with --cpu-prof, saturates the
 * trivial route (GET /auth/.well-known/jwks.json) through it from the bench's load worker (its
 * own process), then prints the gateway's CPU seconds per 1,000 requests and the functions with
 * the most self time. CPU per request is the figure to compare: unlike req/s, it barely moves
 * when something else is using the machine.
 * Usage: node gateway/scripts/profile-gateway.ts [seconds=8]
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startProcess, startStack } from '@sm/testing'
import { runLoad } from '../../packages/bench/src/load/run.ts'

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
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}
const target = { url: gateway.url, requests: [{ path: '/auth/.well-known/jwks.json' }] }
await runLoad({ kind: 'saturate', target, connections: 50, durationS: 2 })
const pid = gateway.process.pid as number
const before = cpuSeconds(pid)
const result = await runLoad({ kind: 'saturate', target, connections: 50, durationS: seconds })
const used = cpuSeconds(pid) - before
console.log(`${Math.round(result.requestsPerSecond)} req/s; gateway CPU ${((used / result.completed) * 1e6).toFixed(1)} µs per request`)
await gateway.stop()
await stack.stop()

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) as string
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
console.log('--- self time, share of busy time')
for (const [key, us] of busy.sort((a, b) => b[1] - a[1]).slice(0, 35))
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
