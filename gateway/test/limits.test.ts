import { request as httpRequest } from 'node:http'
import { TEST_REDIS_URL } from '@sm/testing'
import { Redis } from 'ioredis'
import t from 'tap'
import { startGateway, startUpstream } from './helper.ts'

const auth = await startUpstream(t, 'auth')
const social = await startUpstream(t, 'social')
const media = await startUpstream(t, 'media')
const upstreams = { auth: auth.url, social: social.url, media: media.url }

t.test('rate limits', async (t) => {
  const { app, namespace } = await startGateway(t, {
    upstreams,
    env: { RATE_LIMIT_MAX: '5', AUTH_RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000', AUTH_RATE_LIMIT_WINDOW_MS: '60000' },
  })
  const from = (remoteAddress: string) => ({ remoteAddress })

  t.test('past the global budget an IP gets 429 with Retry-After and the contract body', async (t) => {
    for (let i = 0; i < 5; i++) {
      const response = await app.inject({ method: 'GET', url: '/feed', ...from('10.0.0.1') })
      t.equal(response.statusCode, 200, `request ${i + 1} passes`)
    }
    const limited = await app.inject({ method: 'GET', url: '/users/alice', ...from('10.0.0.1') })
    t.equal(limited.statusCode, 429)
    t.same(limited.json(), {
      statusCode: 429,
      code: 'RATE_LIMITED',
      error: 'Too Many Requests',
      message: limited.json().message,
    })
    t.match(limited.json().message, /rate limit exceeded/)
    const retryAfter = Number(limited.headers['retry-after'])
    t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}s`)
    t.equal(limited.headers['x-ratelimit-remaining'], '0')
  })

  t.test('another IP still has its own budget', async (t) => {
    const response = await app.inject({ method: 'GET', url: '/feed', ...from('10.0.0.2') })
    t.equal(response.statusCode, 200)
  })

  t.test('/auth/login is stricter than the rest', async (t) => {
    const login = () => app.inject({ method: 'POST', url: '/auth/login', payload: { login: 'a', password: 'b' }, ...from('10.0.0.3') })
    t.equal((await login()).statusCode, 200)
    t.equal((await login()).statusCode, 200)
    const third = await login()
    t.equal(third.statusCode, 429, 'the third login in the window is refused')
    t.equal(third.json().code, 'RATE_LIMITED')
    t.ok(third.headers['retry-after'])
    const other = await app.inject({ method: 'GET', url: '/feed', ...from('10.0.0.3') })
    t.equal(other.statusCode, 200, 'the same IP can still use the rest of the API')
  })

  t.test('/auth/password/* is as strict as login', async (t) => {
    const forgot = () => app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: 'a@b.c' }, ...from('10.0.0.4') })
    t.equal((await forgot()).statusCode, 200)
    t.equal((await forgot()).statusCode, 200)
    t.equal((await forgot()).statusCode, 429)
  })

  t.test('the counters live in Redis under the namespace', async (t) => {
    const redis = new Redis(TEST_REDIS_URL)
    t.teardown(() => redis.disconnect())
    const keys = await redis.keys(`${namespace}:ratelimit:*`)
    t.ok(
      keys.some((key) => key.endsWith('10.0.0.1')),
      `keys: ${keys.join(', ')}`,
    )
  })

  t.test('a second gateway instance sharing Redis sees the same counters', async (t) => {
    const twin = await startGateway(t, { upstreams, namespace, env: { RATE_LIMIT_MAX: '5' } })
    const response = await twin.app.inject({ method: 'GET', url: '/feed', ...from('10.0.0.1') })
    t.equal(response.statusCode, 429)
  })

  t.test('probes are never rate limited', async (t) => {
    for (let i = 0; i < 8; i++) {
      t.equal((await app.inject({ method: 'GET', url: '/health', ...from('10.0.0.1') })).statusCode, 200)
    }
  })
})

t.test('large budgets are counted in memory and shared through Redis every sync', async (t) => {
  const env = { RATE_LIMIT_MAX: '150', RATE_LIMIT_EXACT_MAX: '100', RATE_LIMIT_SYNC_MS: '40', RATE_LIMIT_WINDOW_MS: '60000' }
  const first = await startGateway(t, { upstreams, env })
  const second = await startGateway(t, { upstreams, env, namespace: first.namespace })
  const from = { remoteAddress: '10.0.1.1' }
  const statuses: number[] = []
  for (let i = 0; i < 100; i++) statuses.push((await first.app.inject({ method: 'GET', url: '/feed', ...from })).statusCode)
  t.same(new Set(statuses), new Set([200]), '100 requests pass on the first instance')
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: `${first.namespace}:` })
  t.teardown(() => redis.disconnect())
  const deadline = Date.now() + 2_000
  let shared = 0
  while (shared < 100 && Date.now() < deadline) {
    shared = Number(await redis.get('ratelimit:10.0.1.1'))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(shared, 100, 'the count reached Redis within a sync interval')
  t.ok(Number(await redis.pttl('ratelimit:10.0.1.1')) > 0, 'the window expires')

  // The second instance has seen none of it yet; its first request brings back the total.
  await second.app.inject({ method: 'GET', url: '/feed', ...from })
  const seen = Date.now() + 2_000
  let remaining = 150
  while (remaining > 49 && Date.now() < seen) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const response = await second.app.inject({ method: 'GET', url: '/feed', ...from })
    remaining = Number(response.headers['x-ratelimit-remaining'])
  }
  t.ok(remaining <= 49, `the second instance counts the first one's requests (remaining ${remaining})`)
  let last = 200
  for (let i = 0; i < 60 && last === 200; i++) last = (await second.app.inject({ method: 'GET', url: '/feed', ...from })).statusCode
  t.equal(last, 429, 'the shared budget runs out')
})

t.test('with Redis unreachable, large budgets are still enforced per instance', async (t) => {
  const { app } = await startGateway(t, {
    upstreams,
    env: { RATE_LIMIT_MAX: '120', RATE_LIMIT_EXACT_MAX: '100', RATE_LIMIT_SYNC_MS: '20', REDIS_URL: 'redis://127.0.0.1:1' },
  })
  const from = { remoteAddress: '10.0.2.1' }
  let passed = 0
  for (let i = 0; i < 130; i++) if ((await app.inject({ method: 'GET', url: '/feed', ...from })).statusCode === 200) passed++
  t.equal(passed, 120)
})

t.test('body limits', async (t) => {
  const { app, url } = await startGateway(t, { upstreams, listen: true, env: { BODY_LIMIT: '1024', MEDIA_BODY_LIMIT: '65536' } })

  t.test('a JSON body over the limit is refused with 413 before reaching the service', async (t) => {
    const before = social.received.length
    const response = await app.inject({ method: 'POST', url: '/posts', payload: { text: 'x'.repeat(2000) } })
    t.equal(response.statusCode, 413)
    t.match(response.json(), { statusCode: 413, code: 'PAYLOAD_TOO_LARGE', error: 'Payload Too Large' })
    t.equal(social.received.length, before, 'the service never saw it')
  })

  t.test('a body within the limit passes', async (t) => {
    const response = await app.inject({ method: 'POST', url: '/posts', payload: { text: 'x'.repeat(900) } })
    t.equal(response.statusCode, 200)
  })

  t.test('a chunked body (no content-length) is cut off at the limit too', async (t) => {
    const { status, body } = await sendChunked(`${url}/posts`, 'application/json', [Buffer.alloc(800, 'a'), Buffer.alloc(800, 'b')])
    t.equal(status, 413)
    t.match(JSON.parse(body), { code: 'PAYLOAD_TOO_LARGE' })
  })

  t.test('a small chunked body streams through', async (t) => {
    const { status, body } = await sendChunked(`${url}/posts`, 'text/plain', [Buffer.from('hello '), Buffer.from('world')])
    t.equal(status, 200)
    t.equal(JSON.parse(body).body, 'hello world')
  })

  t.test('a multipart upload to /media may be far larger than the JSON limit', async (t) => {
    const boundary = 'gatewaytestboundary'
    const file = Buffer.alloc(40_000, 1)
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\npost\r\n`),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ])
    const response = await app.inject({
      method: 'POST',
      url: '/media',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    })
    t.equal(response.statusCode, 200)
    t.equal(media.received.at(-1)?.body.length, payload.toString().length, 'the whole upload arrived')
  })

  t.test('an upload over the media limit is refused with 413', async (t) => {
    const response = await app.inject({
      method: 'POST',
      url: '/media',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      payload: Buffer.alloc(70_000, 1),
    })
    t.equal(response.statusCode, 413)
    t.equal(response.json().code, 'PAYLOAD_TOO_LARGE')
  })

  t.test('a large non-multipart body to /media gets the JSON limit', async (t) => {
    const response = await app.inject({ method: 'POST', url: '/media', payload: { data: 'x'.repeat(5000) } })
    t.equal(response.statusCode, 413)
  })
})

/** A POST with `transfer-encoding: chunked`, written chunk by chunk. */
function sendChunked(url: string, contentType: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}
