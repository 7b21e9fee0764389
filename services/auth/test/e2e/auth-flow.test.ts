import { createPublicKey, verify } from 'node:crypto'
import { ApiError, Client } from '@sm/client'
import { otpFrom, startSmtpSink, startStack } from '@sm/testing'
import t from 'tap'

// The real system: auth and the gateway as their own processes, driven over HTTP with the SDK.
const smtp = await startSmtpSink()
const stack = await startStack({ services: ['auth'], env: { SMTP_URL: smtp.url, BCRYPT_COST: '10' } })
t.teardown(async () => {
  await stack.stop()
  await smtp.close()
})

const status = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (error: unknown) => (error instanceof ApiError ? error.status : Promise.reject(error)),
  )

t.test('a user registers, logs in, rotates tokens, resets and changes the password', async (t) => {
  const alice = new Client({ baseUrl: stack.url })
  const registered = await alice.auth.register({ username: 'alice_e2e', email: 'alice@e2e.test', password: 'first password' })
  t.equal(registered.user.username, 'alice_e2e')
  t.match(await alice.auth.me(), { username: 'alice_e2e', email: 'alice@e2e.test' })

  const session = await alice.auth.login({ login: 'ALICE@e2e.test', password: 'first password' })
  const rotated = await alice.auth.refresh(session.refreshToken)
  t.not(rotated.refreshToken, session.refreshToken)

  const replay = await status(alice.auth.refresh(session.refreshToken))
  t.equal(replay, 401, 'reusing a spent refresh token is refused')
  t.equal(await status(alice.auth.refresh(rotated.refreshToken)), 401, '…and the whole family is revoked')

  await alice.auth.forgotPassword('alice@e2e.test')
  const resetCode = otpFrom(await smtp.waitForMail('alice@e2e.test'))
  await alice.auth.resetPassword({ email: 'alice@e2e.test', otp: resetCode, newPassword: 'second password' })
  t.equal(await status(alice.auth.login({ login: 'alice_e2e', password: 'first password' })), 401, 'old password fails')
  await alice.auth.login({ login: 'alice_e2e', password: 'second password' })

  await alice.auth.requestPasswordChange()
  const changeCode = otpFrom(await smtp.waitForMail('alice@e2e.test'))
  await alice.auth.changePassword({ otp: changeCode, newPassword: 'third password' })
  await alice.auth.login({ login: 'alice_e2e', password: 'third password' })

  // The JWKS served through the gateway verifies the access token.
  const jwks = await alice.auth.jwks()
  const [h, p, s] = (alice.accessToken as string).split('.') as [string, string, string]
  const kid = JSON.parse(Buffer.from(h, 'base64url').toString()).kid
  const jwk = jwks.keys.find((key) => key.kid === kid)
  t.ok(jwk)
  t.ok(verify(null, Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk as never, format: 'jwk' }), Buffer.from(s, 'base64url')))
})

t.test('bad tokens and bad input through the gateway get 4xx with the contract shape', async (t) => {
  const mallory = new Client({ baseUrl: stack.url, accessToken: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' })
  const error = await mallory.auth.me().catch((e: unknown) => e)
  t.ok(error instanceof ApiError)
  t.match((error as ApiError).body, { statusCode: 401, code: 'INVALID_TOKEN', error: 'Unauthorized' })
  const bad = await new Client({ baseUrl: stack.url }).auth
    .register({ username: 'x', email: 'nope', password: '1' })
    .catch((e: unknown) => e)
  t.match((bad as ApiError).body, { statusCode: 400, code: 'VALIDATION' })
})

t.test('the request id travels through the gateway and comes back', async (t) => {
  const response = await fetch(`${stack.url}/auth/.well-known/jwks.json`, { headers: { 'x-request-id': 'e2e-trace-123' } })
  t.equal(response.status, 200)
  t.equal(response.headers.get('x-request-id'), 'e2e-trace-123')
})
