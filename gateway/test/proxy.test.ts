import t from 'tap'
import { PROXY_ROUTES } from '../src/routes/proxy.ts'
import { type EchoedRequest, startGateway, startHangingUpstream, startUpstream, type Upstream } from './helper.ts'

const services = {
  auth: await startUpstream(t, 'auth'),
  social: await startUpstream(t, 'social'),
  media: await startUpstream(t, 'media'),
  search: await startUpstream(t, 'search'),
  chat: await startUpstream(t, 'chat'),
}
const upstreams = Object.fromEntries(Object.entries(services).map(([name, upstream]) => [name, upstream.url]))
const { app } = await startGateway(t, { upstreams })

const lastRequest = (upstream: Upstream): EchoedRequest | undefined => upstream.received.at(-1)

t.test('every public path of API.md reaches its own service, with the path unchanged', async (t) => {
  const cases = [
    ['POST', '/auth/register', 'auth'],
    ['POST', '/auth/login', 'auth'],
    ['POST', '/auth/password/forgot', 'auth'],
    ['GET', '/auth/.well-known/jwks.json', 'auth'],
    ['GET', '/users/alice', 'social'],
    ['PUT', '/users/alice/follow', 'social'],
    ['POST', '/posts', 'social'],
    ['PATCH', '/comments/0192e4c4-0000-7000-8000-000000000000', 'social'],
    ['GET', '/feed', 'social'],
    ['GET', '/hashtags/cats/posts', 'social'],
    ['GET', '/me/analytics', 'social'],
    ['POST', '/media', 'media'],
    ['GET', '/media/0192e4c4-0000-7000-8000-000000000000', 'media'],
    ['GET', '/search/users', 'search'],
    ['GET', '/chat/conversations', 'chat'],
    ['POST', '/chat/ws-ticket', 'chat'],
  ] as const
  for (const [method, url, service] of cases) {
    const response = await app.inject({ method, url, payload: method === 'GET' ? undefined : {} })
    t.equal(response.statusCode, 200, `${method} ${url}`)
    const echoed = response.json() as EchoedRequest
    t.equal(echoed.service, service, `${method} ${url} → ${service}`)
    t.equal(echoed.url, url, `${method} ${url} keeps its path`)
    t.equal(echoed.method, method)
  }
})

t.test('the route table covers exactly the documented prefixes', async (t) => {
  t.same(PROXY_ROUTES.map((route) => route.prefix).sort(), [
    '/auth',
    '/auth/login',
    '/auth/password',
    '/chat',
    '/comments',
    '/feed',
    '/hashtags',
    '/me',
    '/media',
    '/posts',
    '/search',
    '/users',
  ])
})

t.test('query, body and headers arrive intact', async (t) => {
  const body = JSON.stringify({ text: 'hello #world', mediaIds: ['a', 'b'], nested: { emoji: '🎉' } })
  const response = await app.inject({
    method: 'POST',
    url: '/posts?draft=1&tags=a&tags=b&q=%23cats%20and%20dogs',
    headers: { 'content-type': 'application/json', authorization: 'Bearer abc.def.ghi', 'x-custom': 'kept', 'accept-language': 'de' },
    payload: body,
  })
  t.equal(response.statusCode, 200)
  const echoed = lastRequest(services.social)
  t.equal(echoed?.url, '/posts?draft=1&tags=a&tags=b&q=%23cats%20and%20dogs')
  t.equal(echoed?.body, body)
  t.equal(echoed?.headers.authorization, 'Bearer abc.def.ghi')
  t.equal(echoed?.headers['x-custom'], 'kept')
  t.equal(echoed?.headers['accept-language'], 'de')
  t.equal(echoed?.headers['content-type'], 'application/json')
})

t.test('a request id is created when missing, sent upstream and returned', async (t) => {
  const response = await app.inject({ method: 'GET', url: '/feed' })
  const id = response.headers['x-request-id']
  t.type(id, 'string')
  t.ok(String(id).length > 0)
  t.equal(lastRequest(services.social)?.headers['x-request-id'], id)
})

t.test("a client's request id is kept end to end", async (t) => {
  const response = await app.inject({ method: 'GET', url: '/search/posts?q=x', headers: { 'x-request-id': 'client-chosen-id-42' } })
  t.equal(response.headers['x-request-id'], 'client-chosen-id-42')
  t.equal(lastRequest(services.search)?.headers['x-request-id'], 'client-chosen-id-42')
})

t.test('the service learns the client address from x-forwarded-for, which a client cannot spoof', async (t) => {
  await app.inject({ method: 'GET', url: '/users/bob', headers: { 'x-forwarded-for': '6.6.6.6' }, remoteAddress: '10.1.2.3' })
  t.equal(lastRequest(services.social)?.headers['x-forwarded-for'], '10.1.2.3')
})

t.test('the upstream status, headers and body come back unchanged', async (t) => {
  const response = await app.inject({ method: 'DELETE', url: '/posts/123' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /application\/json/)
  t.equal((response.json() as EchoedRequest).method, 'DELETE')
})

t.test('an unknown path is a contract 404 from the gateway itself', async (t) => {
  const response = await app.inject({ method: 'GET', url: '/nope' })
  t.equal(response.statusCode, 404)
  t.match(response.json(), { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found' })
})

t.test('path traversal out of a prefix is refused', async (t) => {
  const response = await app.inject({ method: 'GET', url: '/posts/..%2f..%2fauth/me' })
  t.equal(response.statusCode, 400)
})

t.test('a service that is down answers 503 UPSTREAM_UNAVAILABLE at once', async (t) => {
  const down = await startGateway(t, { upstreams: { ...upstreams, search: undefined } })
  const started = Date.now()
  const response = await down.app.inject({ method: 'GET', url: '/search/users?q=al' })
  t.ok(Date.now() - started < 1500, 'no hang')
  t.equal(response.statusCode, 503)
  t.same(response.json(), {
    statusCode: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    error: 'Service Unavailable',
    message: 'the service is unavailable, try again later',
  })
  t.ok(response.headers['retry-after'])
  t.ok(response.headers['x-request-id'])
  // The other services are unaffected.
  t.equal((await down.app.inject({ method: 'GET', url: '/feed' })).statusCode, 200)
})

t.test('a service that stops answering is cut off after the response timeout with 504', async (t) => {
  const hanging = await startHangingUpstream(t)
  const slow = await startGateway(t, { upstreams: { ...upstreams, media: hanging }, env: { UPSTREAM_TIMEOUT_MS: '300' } })
  const started = Date.now()
  const response = await slow.app.inject({ method: 'GET', url: '/media/abc' })
  t.ok(Date.now() - started < 3000, 'bounded by the timeout (the default is 30 s)')
  t.equal(response.statusCode, 504)
  t.match(response.json(), { statusCode: 504, code: 'UPSTREAM_TIMEOUT', error: 'Gateway Timeout' })
})

t.test("a service's own 503 is passed through once, not retried", async (t) => {
  const before = services.chat.received.length
  const response = await app.inject({
    method: 'GET',
    url: '/chat/presence?userIds=a',
    headers: { 'x-echo-status': '503', 'retry-after': '1' },
  })
  t.equal(response.statusCode, 503)
  t.equal((response.json() as EchoedRequest).service, 'chat', "the service's body, not the gateway's")
  t.equal(services.chat.received.length, before + 1)
})
