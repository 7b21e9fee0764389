import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createTestDatabase, dropNamespace, freePort, repoRoot } from '@sm/testing'
import t from 'tap'

t.test('pnpm start brings up auth and the gateway, and Ctrl-C stops them cleanly', async (t) => {
  const db = await createTestDatabase('start')
  // Drop the database first, to prove `pnpm start` creates it when missing.
  await db.drop()
  const [gatewayPort, authPort] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/start.ts')], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: db.url, PORT: String(gatewayPort), AUTH_PORT: String(authPort), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  t.teardown(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await db.drop()
    await dropNamespace(db.namespace)
  })

  let jwks: Response | undefined
  for (let i = 0; i < 200 && !jwks?.ok; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    jwks = await fetch(`http://127.0.0.1:${gatewayPort}/auth/.well-known/jwks.json`).catch(() => undefined)
  }
  t.equal(jwks?.status, 200, `auth answers through the gateway\n${output.join('')}`)
  t.equal((await fetch(`http://127.0.0.1:${authPort}/health`)).status, 200, 'auth listens on AUTH_PORT')

  const exited = once(child, 'exit')
  child.kill('SIGINT')
  const [code] = await exited
  t.equal(code, 0, 'exits 0 after stopping every process')
  t.match(output.join(''), /auth\s+\| exited/)
  t.match(output.join(''), /gateway\s+\| exited/)
  await t.rejects(fetch(`http://127.0.0.1:${authPort}/health`), 'auth is gone')
})
