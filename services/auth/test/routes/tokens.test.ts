import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto'
import { newId } from '@sm/platform'
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import t from 'tap'
import { bearer, buildTestApp, register } from '../helper.ts'

const { app, databaseUrl } = await buildTestApp(t)
const { session } = await register(app)
const me = (token: string) => app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) })
const claims = { sub: session.user.id, username: session.user.username, typ: 'access', jti: newId() }
const jwks = (await app.inject({ method: 'GET', url: '/auth/.well-known/jwks.json' })).json()

t.test('the JWKS verifies an issued access token', async (t) => {
  t.equal(jwks.keys.length, 1)
  const [headerB64, payloadB64, signatureB64] = session.accessToken.split('.') as [string, string, string]
  const header = JSON.parse(Buffer.from(headerB64, 'base64url').toString())
  t.equal(header.alg, 'EdDSA')
  const jwk = jwks.keys.find((k: { kid: string }) => k.kid === header.kid)
  t.ok(jwk, 'token kid is in the JWKS')
  const key = createPublicKey({ key: jwk, format: 'jwk' })
  t.ok(verify(null, Buffer.from(`${headerB64}.${payloadB64}`), key, Buffer.from(signatureB64, 'base64url')))
  const payload = JSON.parse(Buffer.from(payloadB64, 'base64url').toString())
  t.match(payload, { sub: session.user.id, typ: 'access', iss: 'socialmedia-auth', aud: 'socialmedia' })
  t.ok(payload.exp - payload.iat <= 900)
  t.equal((await me(session.accessToken)).statusCode, 200)
})

t.test('a token signed with another key gets 401', async (t) => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const kid = jwks.keys[0].kid
  const forged = createSigner({
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    algorithm: 'EdDSA',
    kid,
    iss: 'socialmedia-auth',
    aud: 'socialmedia',
  })(claims)
  const response = await me(forged)
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'INVALID_TOKEN')
})

t.test('a tampered token gets 401', async (t) => {
  const [h, p, s] = session.accessToken.split('.') as [string, string, string]
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  payload.sub = newId()
  const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`
  t.equal((await me(tampered)).statusCode, 401)
})

t.test('alg none, HS256 with the public key, garbage and missing tokens get 401', async (t) => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const body = { ...claims, iss: 'socialmedia-auth', aud: 'socialmedia', iat: now, exp: now + 600 }
  t.equal((await me(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(body)}.`)).statusCode, 401, 'alg none')
  const publicPem = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
  const hs = createSigner({ key: publicPem, algorithm: 'HS256', kid: jwks.keys[0].kid })(body)
  t.equal((await me(hs)).statusCode, 401, 'HS256 signed with the public key (key confusion)')
  t.equal((await me('not.a.token')).statusCode, 401, 'garbage')
  const missing = await app.inject({ method: 'GET', url: '/auth/me' })
  t.equal(missing.statusCode, 401)
  t.equal(missing.json().code, 'UNAUTHORIZED')
})

t.test('with the real key: expired, wrong audience or issuer, and non-access tokens get 401', async (t) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const { rows } = await client.query('select kid, private_pem from auth.signing_keys')
  await client.end()
  const { kid, private_pem: key } = rows[0]
  const sign = (extra: Record<string, unknown>, opts: Record<string, unknown> = {}) =>
    createSigner({ key, algorithm: 'EdDSA', kid, iss: 'socialmedia-auth', aud: 'socialmedia', expiresIn: 60_000, ...opts })({
      ...claims,
      ...extra,
    })
  t.equal((await me(sign({}))).statusCode, 200, 'control: a fresh token signed with the real key works')
  const expired = await me(sign({}, { clockTimestamp: Date.now() - 3_600_000 }))
  t.equal(expired.statusCode, 401, 'expired')
  t.equal(expired.json().code, 'TOKEN_EXPIRED')
  t.equal((await me(sign({}, { aud: 'another-app' }))).statusCode, 401, 'wrong audience')
  t.equal((await me(sign({}, { iss: 'someone-else' }))).statusCode, 401, 'wrong issuer')
  t.equal((await me(sign({ typ: 'refresh' }))).statusCode, 401, 'typ refresh cannot pass for access')
  t.equal((await me(sign({ typ: undefined }))).statusCode, 401, 'no typ')
})

t.test('a configured JWT_PRIVATE_KEY (one-line PEM) signs, and the JWKS serves its public half', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const oneLine = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n')
  const { app: configured } = await buildTestApp(t, { JWT_PRIVATE_KEY: oneLine })
  const { session: s } = await register(configured)
  const served = (await configured.inject({ method: 'GET', url: '/auth/.well-known/jwks.json' })).json()
  t.equal(served.keys.length, 1)
  t.equal(served.keys[0].x, publicKey.export({ format: 'jwk' }).x, 'the configured key, not a generated one')
  const [h, p, sig] = s.accessToken.split('.') as [string, string, string]
  t.ok(verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(sig, 'base64url')))
  t.equal((await configured.inject({ method: 'GET', url: '/auth/me', headers: bearer(s.accessToken) })).statusCode, 200)
})
