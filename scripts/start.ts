/**
 * `pnpm start`: the gateway and every service present, each as its own process, with the
 * variables and defaults of API.md › Operations. Creates the database if missing (each service
 * then runs its own migrations). Ctrl-C (or SIGTERM) stops them all cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ensureDatabase } from '@sm/platform'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const env = process.env
const services = [
  { name: 'auth', portVariable: 'AUTH_PORT', defaultPort: 3001, urlVariable: 'AUTH_URL' },
  { name: 'social', portVariable: 'SOCIAL_PORT', defaultPort: 3002, urlVariable: 'SOCIAL_URL' },
  { name: 'media', portVariable: 'MEDIA_PORT', defaultPort: 3003, urlVariable: 'MEDIA_URL' },
  { name: 'search', portVariable: 'SEARCH_PORT', defaultPort: 3004, urlVariable: 'SEARCH_URL' },
  { name: 'chat', portVariable: 'CHAT_PORT', defaultPort: 3005, urlVariable: 'CHAT_URL' },
].filter((service) => existsSync(join(root, 'services', service.name, 'src/server.ts')))

const shared = {
  DATABASE_URL: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/socialmedia',
  REDIS_URL: env.REDIS_URL || 'redis://127.0.0.1:6379',
  NATS_URL: env.NATS_URL || 'nats://127.0.0.1:4222',
  MEDIA_ROOT: env.MEDIA_ROOT || join(root, 'data/media'),
}
// Services listen on loopback; only the gateway honours HOST.
const serviceHost = '127.0.0.1'

await ensureDatabase(shared.DATABASE_URL)

const children: ChildProcess[] = []
let stopping = false

function launch(name: string, entry: string, extraEnv: Record<string, string>): void {
  // Heap sizes V8 fixes at start-up, from the package's `nodeFlags` (as @sm/testing's stack does).
  const manifest = JSON.parse(readFileSync(join(root, dirname(dirname(entry)), 'package.json'), 'utf8')) as { nodeFlags?: string[] }
  const child = spawn(process.execPath, [...(manifest.nodeFlags ?? []), join(root, entry)], {
    cwd: root,
    env: { ...env, ...shared, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => console.log(`${name.padEnd(7)} | ${line}`))
  }
  child.on('exit', (code, signal) => {
    console.log(`${name.padEnd(7)} | exited (${signal ?? code})`)
    // One process dying takes the rest down: a half-running system is worse than none.
    if (!stopping) stop(code ?? 1)
  })
  children.push(child)
}

const gatewayUrls: Record<string, string> = {}
for (const service of services) {
  const port = env[service.portVariable] || String(service.defaultPort)
  gatewayUrls[service.urlVariable] = `http://${serviceHost}:${port}`
  launch(service.name, `services/${service.name}/src/server.ts`, { PORT: port, HOST: serviceHost })
}
launch('gateway', 'gateway/src/server.ts', { PORT: env.PORT || '8080', HOST: env.HOST || '127.0.0.1', ...gatewayUrls })

function stop(exitCode: number): void {
  if (stopping) return
  stopping = true
  console.log('stopping…')
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  const deadline = setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  }, 15_000)
  Promise.all(children.map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve))))).then(
    () => {
      clearTimeout(deadline)
      process.exit(exitCode)
    },
  )
}

process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))
