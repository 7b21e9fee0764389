import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import t from 'tap'
import { buildService } from '../src/build-service.ts'
import { PublicKeyStore } from '../src/keys.ts'
import { authPlugin } from '../src/plugins/auth.ts'
import { RequestError } from '../src/request-reply.ts'

const { privateKey } = generateKeyPairSync('ed25519')
const token = createSigner({
  key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  algorithm: 'EdDSA',
  kid: 'k1',
  iss: 'iss',
  aud: 'aud',
  expiresIn: 60_000,
})({
  sub: '01935d3a-0000-7000-8000-000000000001',
  username: 'someone',
  typ: 'access',
  jti: 'j1',
})

t.test('when the keys cannot be fetched, a valid token gets 503, not 401', async (t) => {
  const keys = new PublicKeyStore({
    fetch: async () => {
      throw new RequestError('UPSTREAM_UNAVAILABLE', 'auth.jwks: timeout')
    },
  })
  const app = await buildService({ name: 'demo', logLevel: 'silent' })
  await app.register(authPlugin, { keys, issuer: 'iss', audience: 'aud' })
  app.get('/private', { onRequest: app.authenticate }, async (request) => ({ id: request.user.id }))
  t.teardown(() => app.close())
  const response = await app.inject({ method: 'GET', url: '/private', headers: { authorization: `Bearer ${token}` } })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'UPSTREAM_UNAVAILABLE')
  t.equal(response.headers['retry-after'], '1')
  const anonymous = await app.inject({ method: 'GET', url: '/private' })
  t.equal(anonymous.statusCode, 401, 'no token is still a plain 401')
})

t.test('identify: optional tokens set the user when valid and refuse when invalid', async (t) => {
  const keys = new PublicKeyStore({ pem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() })
  const app = await buildService({ name: 'demo', logLevel: 'silent' })
  await app.register(authPlugin, { keys, issuer: 'iss', audience: 'aud' })
  app.get('/maybe', { onRequest: app.identify }, async (request) => ({ id: request.user?.id ?? null }))
  t.teardown(() => app.close())
  t.same((await app.inject({ method: 'GET', url: '/maybe' })).json(), { id: null })
  t.same((await app.inject({ method: 'GET', url: '/maybe', headers: { authorization: `Bearer ${token}` } })).json(), {
    id: '01935d3a-0000-7000-8000-000000000001',
  })
  t.equal((await app.inject({ method: 'GET', url: '/maybe', headers: { authorization: 'Bearer nonsense' } })).statusCode, 401)
})

t.test('tokens from the test kit verify with a configured public key', async (t) => {
  const { newKeyPair, signAccessToken, TEST_ISSUER, TEST_AUDIENCE } = await import('@sm/testing')
  const pair = newKeyPair()
  const app = await buildService({ name: 'demo', logLevel: 'silent' })
  await app.register(authPlugin, { keys: new PublicKeyStore({ pem: pair.publicPem }), issuer: TEST_ISSUER, audience: TEST_AUDIENCE })
  app.get('/private', { onRequest: app.authenticate }, async (request) => request.user)
  t.teardown(() => app.close())
  const id = '01935d3a-0000-7000-8000-0000000000aa'
  const ok = await app.inject({
    method: 'GET',
    url: '/private',
    headers: { authorization: `Bearer ${signAccessToken(pair, { id, username: 'kit' })}` },
  })
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { id, username: 'kit' })
  const stranger = newKeyPair(pair.kid)
  const forged = await app.inject({ method: 'GET', url: '/private', headers: { authorization: `Bearer ${signAccessToken(stranger)}` } })
  t.equal(forged.statusCode, 401, 'a key the service does not trust')
})

t.test('remembered tokens: a tampered copy is still refused, and a token stops working when it expires', async (t) => {
  const { newKeyPair, signAccessToken, TEST_ISSUER, TEST_AUDIENCE } = await import('@sm/testing')
  const pair = newKeyPair()
  const app = await buildService({ name: 'demo', logLevel: 'silent' })
  await app.register(authPlugin, { keys: new PublicKeyStore({ pem: pair.publicPem }), issuer: TEST_ISSUER, audience: TEST_AUDIENCE })
  app.get('/private', { onRequest: app.authenticate }, async (request) => request.user)
  t.teardown(() => app.close())
  const call = (token: string) => app.inject({ method: 'GET', url: '/private', headers: { authorization: `Bearer ${token}` } })
  const token = signAccessToken(pair, { username: 'short' }, 1_500)
  t.equal((await call(token)).statusCode, 200)
  t.equal((await call(token)).statusCode, 200, 'the second use is answered from the cache')
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const forgedPayload = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), username: 'admin' }),
  ).toString('base64url')
  t.equal((await call(`${header}.${forgedPayload}.${signature}`)).statusCode, 401, 'a changed payload with the old signature')
  await new Promise((resolve) => setTimeout(resolve, 2_100))
  const expired = await call(token)
  t.equal(expired.statusCode, 401, 'expired, even though it was remembered')
})
