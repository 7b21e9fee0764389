import t from 'tap'
import { corsOrigins, loadGatewayConfig, upstreamUrls } from '../src/config.ts'

t.test('defaults follow API.md › Operations', async (t) => {
  const config = loadGatewayConfig({})
  t.equal(config.PORT, 8080)
  t.equal(config.HOST, '127.0.0.1')
  t.same(upstreamUrls(config), {
    auth: 'http://127.0.0.1:3001',
    social: 'http://127.0.0.1:3002',
    media: 'http://127.0.0.1:3003',
    search: 'http://127.0.0.1:3004',
    chat: 'http://127.0.0.1:3005',
  })
  t.equal(config.RATE_LIMIT_MAX, 600)
  t.equal(config.AUTH_RATE_LIMIT_MAX, 10)
  t.equal(config.RATE_LIMIT_WINDOW_MS, 60_000)
  t.equal(config.BODY_LIMIT, 1024 * 1024)
  t.equal(corsOrigins(config), '*')
})

t.test('*_PORT moves a service; *_URL names it outright', async (t) => {
  const config = loadGatewayConfig({ SOCIAL_PORT: '4002', CHAT_URL: 'http://chat.internal:9000/', AUTH_URL: 'http://auth:3001' })
  const urls = upstreamUrls(config)
  t.equal(urls.social, 'http://127.0.0.1:4002')
  t.equal(urls.chat, 'http://chat.internal:9000', 'no trailing slash')
  t.equal(urls.auth, 'http://auth:3001')
})

t.test('limits are numbers from the environment', async (t) => {
  const config = loadGatewayConfig({ RATE_LIMIT_MAX: '50', AUTH_RATE_LIMIT_MAX: '3', BODY_LIMIT: '2048', MEDIA_BODY_LIMIT: '1000000' })
  t.equal(config.RATE_LIMIT_MAX, 50)
  t.equal(config.AUTH_RATE_LIMIT_MAX, 3)
  t.equal(config.BODY_LIMIT, 2048)
  t.equal(config.MEDIA_BODY_LIMIT, 1_000_000)
})

t.test('CORS_ORIGINS is a comma-separated list; * means everyone', async (t) => {
  t.same(corsOrigins(loadGatewayConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' })), [
    'https://a.example',
    'https://b.example',
  ])
  t.equal(corsOrigins(loadGatewayConfig({ CORS_ORIGINS: '*' })), '*')
})

t.test('a bad value fails loudly at start, naming the variable', async (t) => {
  t.throws(() => loadGatewayConfig({ RATE_LIMIT_MAX: 'lots' }), /RATE_LIMIT_MAX/)
  t.throws(() => loadGatewayConfig({ BODY_LIMIT: '0' }), /BODY_LIMIT/)
})
