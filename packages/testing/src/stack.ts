import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestDatabase, type TestDatabase } from './database.ts'
import { dropNamespace, TEST_NATS_URL, TEST_REDIS_URL } from './namespace.ts'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..')

export type ServiceName = 'auth' | 'social' | 'media' | 'search' | 'chat'

const entryPoints: Record<ServiceName | 'gateway', string> = {
  auth: 'services/auth/src/server.ts',
  social: 'services/social/src/server.ts',
  media: 'services/media/src/server.ts',
  search: 'services/search/src/server.ts',
  chat: 'services/chat/src/server.ts',
  gateway: 'gateway/src/server.ts',
}

const gatewayUrlVariables: Record<ServiceName, string> = {
  auth: 'AUTH_URL',
  social: 'SOCIAL_URL',
  media: 'MEDIA_URL',
  search: 'SEARCH_URL',
  chat: 'CHAT_URL',
}

export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface RunningProcess {
  name: string
  url: string
  process: ChildProcess
  /** Everything the process printed, for failure messages. */
  output: string[]
  stop(): Promise<void>
}

/**
 * The Node flags a process must start with, from its package.json `nodeFlags`: heap sizes, which
 * V8 fixes at start-up (social's README says why it sets one). scripts/start.ts and the
 * Dockerfile read the same field.
 */
function nodeFlagsOf(entry: string): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, dirname(dirname(entry)), 'package.json'), 'utf8')) as { nodeFlags?: string[] }
  return manifest.nodeFlags ?? []
}

/** Starts one service (or the gateway) as its own Node process and waits for `/health`. */
export async function startProcess(name: ServiceName | 'gateway', env: Record<string, string>): Promise<RunningProcess> {
  const port = await freePort()
  const output: string[] = []
  const entry = entryPoints[name]
  const child = spawn(process.execPath, [...nodeFlagsOf(entry), join(repoRoot, entry)], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output.join('')}`)
    try {
      const response = await fetch(`${url}/health`)
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${name} did not become healthy:\n${output.join('')}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    name,
    url,
    process: child,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

export interface Stack {
  /** The gateway's base URL: what clients use. */
  url: string
  db: TestDatabase
  services: Partial<Record<ServiceName, RunningProcess>>
  gateway: RunningProcess
  namespace: string
  stop(): Promise<void>
}

export interface StackOptions {
  services: ServiceName[]
  /** Extra variables for every process (e.g. SMTP_URL). */
  env?: Record<string, string>
  /** Extra variables for one service only (e.g. a profiler's NODE_OPTIONS). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>
}

/**
 * The real system on free ports: its own database, NATS namespace and Redis prefix, each
 * service as its own process, and the gateway in front. `stop()` shuts everything down and
 * removes the data.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const db = await createTestDatabase('e2e')
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    REDIS_URL: TEST_REDIS_URL,
    NAMESPACE: db.namespace,
    ...opts.env,
  }
  const services: Partial<Record<ServiceName, RunningProcess>> = {}
  const started: RunningProcess[] = []
  try {
    // auth first: it owns the signing keys the others fetch.
    for (const name of opts.services) {
      const running = await startProcess(name, { ...env, ...opts.serviceEnv?.[name] })
      services[name] = running
      started.push(running)
    }
    const gatewayEnv: Record<string, string> = { ...env }
    for (const [name, running] of Object.entries(services)) {
      gatewayEnv[gatewayUrlVariables[name as ServiceName]] = running.url
    }
    const gateway = await startProcess('gateway', gatewayEnv)
    started.push(gateway)
    return {
      url: gateway.url,
      db,
      services,
      gateway,
      namespace: db.namespace,
      async stop() {
        await Promise.all(started.map((p) => p.stop()))
        await db.drop()
        await dropNamespace(db.namespace)
      },
    }
  } catch (error) {
    await Promise.all(started.map((p) => p.stop()))
    await db.drop()
    throw error
  }
}
