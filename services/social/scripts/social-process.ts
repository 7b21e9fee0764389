/**
 * Social alone as its own Node process, for the profiling scripts: a fresh database, its own
 * key pair and port, the Node arguments the script chooses (profilers, GC flags; not the
 * package's nodeFlags, which such scripts compare against) and its /health awaited.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createTestDatabase, freePort, newKeyPair, repoRoot, TEST_NATS_URL, TEST_REDIS_URL, type TestDatabase } from '@sm/testing'

export interface SocialProcess {
  child: ChildProcess
  base: string
  db: TestDatabase
  keys: ReturnType<typeof newKeyPair>
  /** SIGTERM, wait for the exit, drop the database. */
  stop(): Promise<void>
}

export async function startSocialProcess(opts: {
  nodeArgs: string[]
  env?: Record<string, string>
  /** Where social's stdout goes (a file descriptor for `--trace-gc-nvp`); dropped by default. */
  stdout?: number | 'ignore'
}): Promise<SocialProcess> {
  const db = await createTestDatabase('prof')
  const keys = newKeyPair()
  const port = await freePort()
  const child = spawn(process.execPath, [...opts.nodeArgs, join(repoRoot, 'services/social/src/server.ts')], {
    env: {
      ...process.env,
      ...opts.env,
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      REDIS_URL: TEST_REDIS_URL,
      NAMESPACE: db.namespace,
      JWT_PUBLIC_KEY: keys.publicPem,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      FANOUT_FOLLOWER_LIMIT: '2000',
    },
    stdio: ['ignore', opts.stdout ?? 'ignore', 'inherit'],
  })
  process.on('exit', () => child.kill('SIGKILL'))
  const base = `http://127.0.0.1:${port}`
  for (;;) {
    if (child.exitCode !== null) throw new Error(`social exited with ${child.exitCode}`)
    const up = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (up) break
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    child,
    base,
    db,
    keys,
    async stop() {
      child.kill('SIGTERM')
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r))
      await db.drop()
    },
  }
}
