import type { App } from '@sm/platform'
import { cleanup, createTestDatabase, dropNamespace, type SmtpSink, startSmtpSink, TEST_NATS_URL, TEST_REDIS_URL } from '@sm/testing'
import type { Test } from 'tap'
import { buildApp } from '../src/app.ts'
import { loadAuthConfig } from '../src/config.ts'

export interface TestContext {
  app: App
  smtp: SmtpSink
  namespace: string
  databaseUrl: string
}

/**
 * The auth app on its own database, NATS namespace and Redis prefix, mailing into a real SMTP
 * sink. bcrypt cost 10 keeps the suite quick; production's default (12) is asserted in config.test.
 */
export async function buildTestApp(t: Test, env: Record<string, string> = {}): Promise<TestContext> {
  const db = await createTestDatabase('auth')
  const smtp = await startSmtpSink()
  const config = loadAuthConfig({
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    REDIS_URL: TEST_REDIS_URL,
    NAMESPACE: db.namespace,
    SMTP_URL: smtp.url,
    BCRYPT_COST: '10',
    LOG_LEVEL: 'silent',
    ...env,
  })
  const app = await buildApp(config)
  t.teardown(() =>
    cleanup({ app: () => app.close(), smtp: () => smtp.close(), database: () => db.drop(), namespace: () => dropNamespace(db.namespace) }, [
      'app',
    ]),
  )
  return { app, smtp, namespace: db.namespace, databaseUrl: db.url }
}

let counter = 0
/** A unique, valid registration body. */
export function newUser(overrides: Partial<{ username: string; email: string; password: string; nickname: string }> = {}) {
  counter += 1
  const tag = `${process.pid.toString(36)}${counter}`
  return { username: `user_${tag}`, email: `user_${tag}@example.test`, password: 'correct horse battery', ...overrides }
}

export async function register(app: App, body = newUser()) {
  const response = await app.inject({ method: 'POST', url: '/auth/register', payload: body })
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`)
  return { body, session: response.json() as { user: { id: string; username: string }; accessToken: string; refreshToken: string } }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
