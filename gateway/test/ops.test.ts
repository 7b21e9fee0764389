import t from 'tap'
import { startGateway, startHangingUpstream, startUpstream } from './helper.ts'

const auth = await startUpstream(t, 'auth')
const social = await startUpstream(t, 'social')
const media = await startUpstream(t, 'media')
const search = await startUpstream(t, 'search')
const hanging = await startHangingUpstream(t)
// chat is down (nothing listens); search answers; media hangs.
const { app } = await startGateway(t, { upstreams: { auth: auth.url, social: social.url, media: hanging, search: search.url } })

t.test('/health is the gateway’s own liveness, whatever the services do', async (t) => {
  const response = await app.inject({ method: 'GET', url: '/health' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok', service: 'gateway' })
})

t.test('/health/services reports each service, a down or hanging one as down', async (t) => {
  const started = Date.now()
  const response = await app.inject({ method: 'GET', url: '/health/services' })
  t.ok(Date.now() - started < 1500, 'bounded by the per-service timeout')
  t.equal(response.statusCode, 503)
  const body = response.json()
  t.match(body, { statusCode: 503, code: 'SERVICES_DOWN', error: 'Service Unavailable', status: 'degraded' })
  t.match(body.services, {
    auth: { status: 'up' },
    social: { status: 'up' },
    search: { status: 'up' },
    media: { status: 'down', reason: 'timeout' },
    chat: { status: 'down', reason: 'connection refused' },
  })
  t.type(body.services.auth.latencyMs, 'number')
  t.match(body.message, /media/)
  t.match(body.message, /chat/)
})

t.test('/health/services is 200 when every service is up', async (t) => {
  const chat = await startUpstream(t, 'chat')
  const all = await startGateway(t, {
    upstreams: { auth: auth.url, social: social.url, media: media.url, search: search.url, chat: chat.url },
  })
  const response = await all.app.inject({ method: 'GET', url: '/health/services' })
  t.equal(response.statusCode, 200)
  t.equal(response.json().status, 'ok')
  t.same(Object.keys(response.json().services), ['auth', 'social', 'media', 'search', 'chat'])
})

t.test('/ready checks Redis, the one dependency the gateway has besides the services', async (t) => {
  const response = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ready', dependencies: { redis: 'up' } })
})

t.test('/metrics is Prometheus text', async (t) => {
  await app.inject({ method: 'GET', url: '/feed' })
  const response = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /text\/plain/)
  t.match(response.body, /http_request_duration_seconds/)
  t.match(response.body, /service="gateway"/)
})

t.test('/docs serves Swagger UI listing every service', async (t) => {
  const page = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /swagger-ui/i)
  t.match(page.headers['content-security-policy'], /script-src 'self'/, 'the UI’s own policy, not the API’s default-src none')

  const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
  t.equal(initializer.statusCode, 200)
  for (const name of ['auth', 'social', 'media', 'search', 'chat']) {
    t.match(initializer.body, `/docs/specs/${name}.json`, `${name} is in the definition selector`)
  }
  const bundle = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' })
  t.equal(bundle.statusCode, 200)
})

t.test('/docs/specs/<service>.json is the service’s own OpenAPI document', async (t) => {
  const response = await app.inject({ method: 'GET', url: '/docs/specs/auth.json', headers: { 'x-request-id': 'docs-1' } })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /application\/json/)
  const spec = response.json()
  t.equal(spec.info.title, 'auth')
  t.ok(spec.paths['/auth/thing'])
  t.same(spec.servers, [{ url: '/', description: 'gateway' }], 'try-it-out goes through the gateway')
})

t.test('the document of a service that is down is a 503, not a hang', async (t) => {
  const response = await app.inject({ method: 'GET', url: '/docs/specs/chat.json' })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'UPSTREAM_UNAVAILABLE')
  const slow = await app.inject({ method: 'GET', url: '/docs/specs/media.json' })
  t.equal(slow.statusCode, 503)
})
