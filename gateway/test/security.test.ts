import t from 'tap'
import { helmetHeaders } from '../src/plugins/security.ts'
import { startGateway, startUpstream } from './helper.ts'

const social = await startUpstream(t, 'social')

t.test('by default every origin may call the API', async (t) => {
  const { app } = await startGateway(t, { upstreams: { social: social.url } })

  t.test('a preflight is answered by the gateway, never reaching the service', async (t) => {
    const before = social.received.length
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/posts',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    })
    t.equal(response.statusCode, 204)
    t.equal(response.headers['access-control-allow-origin'], '*')
    t.match(response.headers['access-control-allow-methods'], /POST/)
    t.match(response.headers['access-control-allow-methods'], /PATCH/)
    t.equal(response.headers['access-control-allow-headers'], 'authorization, content-type')
    t.equal(response.headers['access-control-max-age'], '600')
    t.equal(social.received.length, before)
  })

  t.test('a cross-origin response exposes the request id and rate-limit headers', async (t) => {
    const response = await app.inject({ method: 'GET', url: '/feed', headers: { origin: 'https://app.example' } })
    t.equal(response.statusCode, 200)
    t.equal(response.headers['access-control-allow-origin'], '*')
    t.match(response.headers['access-control-expose-headers'], /x-request-id/)
    t.match(response.headers['access-control-expose-headers'], /retry-after/)
  })

  t.test('security headers are set on proxied responses', async (t) => {
    const response = await app.inject({ method: 'GET', url: '/feed' })
    t.equal(response.headers['x-content-type-options'], 'nosniff')
    t.equal(response.headers['x-frame-options'], 'SAMEORIGIN')
    t.match(response.headers['strict-transport-security'], /max-age=/)
    t.match(response.headers['content-security-policy'], /default-src 'none'/)
    t.equal(response.headers['cross-origin-resource-policy'], 'cross-origin', 'media can be embedded by web apps')
    t.notOk(response.headers['x-powered-by'])
    // Worked out once from helmet's own middleware: the whole set arrives, value for value.
    const expected = Object.entries(helmetHeaders())
    t.ok(expected.length >= 10, `helmet's set has ${expected.length} headers`)
    for (const [name, value] of expected) t.equal(response.headers[name], value, name)
  })

  t.test('security headers are set on the gateway’s own errors', async (t) => {
    const response = await app.inject({ method: 'GET', url: '/nope' })
    t.equal(response.headers['x-content-type-options'], 'nosniff')
  })
})

t.test('with CORS_ORIGINS only the listed origins are allowed', async (t) => {
  const { app } = await startGateway(t, {
    upstreams: { social: social.url },
    env: { CORS_ORIGINS: 'https://app.example, https://admin.example' },
  })
  const preflight = (origin: string) =>
    app.inject({ method: 'OPTIONS', url: '/posts', headers: { origin, 'access-control-request-method': 'POST' } })

  const allowed = await preflight('https://admin.example')
  t.equal(allowed.headers['access-control-allow-origin'], 'https://admin.example')
  t.match(allowed.headers.vary, /Origin/)

  const refused = await preflight('https://evil.example')
  t.notOk(refused.headers['access-control-allow-origin'], 'no allow-origin: the browser blocks the call')
})
