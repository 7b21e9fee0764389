import { startStack } from '@sm/testing'
import t from 'tap'
import { connectSocket, deadUrl } from '../helper.ts'

// The real thing: auth and the gateway as their own processes (gateway/src/server.ts), on a
// fresh database, NATS namespace and Redis prefix.
// The services not started point at ports where nothing listens, whatever else runs on 3002-3005.
const stack = await startStack({
  services: ['auth'],
  env: {
    BCRYPT_COST: '4',
    SOCIAL_URL: await deadUrl(),
    MEDIA_URL: await deadUrl(),
    SEARCH_URL: await deadUrl(),
    CHAT_URL: await deadUrl(),
  },
})
t.teardown(() => stack.stop())

const json = async (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
  const response = await fetch(`${stack.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }
}

t.test('a user registers, logs in and reads their account through the gateway', async (t) => {
  const user = {
    username: `gw_${Date.now().toString(36)}`,
    email: `gw_${Date.now().toString(36)}@example.test`,
    password: 'correct horse battery',
  }
  const registered = await json('/auth/register', { method: 'POST', body: user })
  t.equal(registered.status, 201)
  t.ok(registered.headers.get('x-request-id'))

  const login = await json('/auth/login', { method: 'POST', body: { login: user.username, password: user.password } })
  t.equal(login.status, 200)
  const accessToken = String(login.body.accessToken)

  const me = await json('/auth/me', { headers: { authorization: `Bearer ${accessToken}` } })
  t.equal(me.status, 200)
  t.equal(me.body.username, user.username)

  const jwks = await json('/auth/.well-known/jwks.json')
  t.equal(jwks.status, 200)

  // Chat is not running: the upgrade is relayed to it (only chat checks the credential) and
  // the relay answers 503, without leaking where chat should have been.
  const socketUrl = `${stack.url.replace('http', 'ws')}/chat/ws`
  const upgraded = await connectSocket(socketUrl, { authorization: `Bearer ${accessToken}` })
  t.equal(upgraded.kind === 'refused' && upgraded.status, 503, 'chat is down')
})

t.test('the aggregated health shows auth up and the missing services down', async (t) => {
  const health = await json('/health/services')
  t.equal(health.status, 503)
  t.match(health.body.services, { auth: { status: 'up' }, chat: { status: 'down' } })
})

t.test('the docs list auth’s real OpenAPI document', async (t) => {
  const spec = await json('/docs/specs/auth.json')
  t.equal(spec.status, 200)
  t.ok((spec.body.paths as Record<string, unknown>)['/auth/login'])
})
