import { otpFrom } from '@sm/testing'
import pg from 'pg'
import t from 'tap'
import { bearer, buildTestApp, register } from '../helper.ts'

const { app, smtp, databaseUrl } = await buildTestApp(t)
const reset = (email: string, otp: string, newPassword: string) =>
  app.inject({ method: 'POST', url: '/auth/password/reset', payload: { email, otp, newPassword } })
const login = (username: string, password: string) =>
  app.inject({ method: 'POST', url: '/auth/login', payload: { login: username, password } })

t.test('forgot → mailed OTP → reset: new password works, old fails, sessions revoked', async (t) => {
  const { body, session } = await register(app)
  const forgot = await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: body.email.toUpperCase() } })
  t.equal(forgot.statusCode, 202)
  const mail = await smtp.waitForMail(body.email)
  const otp = otpFrom(mail)
  t.match(mail.raw, /password reset code/i)
  const answer = await reset(body.email, otp, 'a brand new secret')
  t.equal(answer.statusCode, 204)
  t.equal((await login(body.username, body.password)).statusCode, 401, 'old password fails')
  t.equal((await login(body.username, 'a brand new secret')).statusCode, 200, 'new password works')
  const refresh = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(refresh.statusCode, 401, 'refresh tokens issued before the reset are revoked')
  const replay = await reset(body.email, otp, 'yet another secret')
  t.equal(replay.statusCode, 400, 'the code is single use')
  t.equal(replay.json().code, 'INVALID_OTP')
})

t.test('forgot answers 202 for unknown emails and sends nothing', async (t) => {
  const before = smtp.mails.length
  const response = await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: 'nobody@example.test' } })
  t.equal(response.statusCode, 202)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(smtp.mails.length, before)
  const answer = await reset('nobody@example.test', '123456', 'whatever123')
  t.equal(answer.statusCode, 400)
})

t.test('five wrong codes kill the OTP, even the right one fails afterwards', async (t) => {
  const { body } = await register(app)
  await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: body.email } })
  const otp = otpFrom(await smtp.waitForMail(body.email))
  const wrong = otp === '000000' ? '111111' : '000000'
  for (let i = 0; i < 5; i++) {
    const response = await reset(body.email, wrong, 'new secret 123')
    t.equal(response.statusCode, 400, `wrong try ${i + 1}`)
  }
  const right = await reset(body.email, otp, 'new secret 123')
  t.equal(right.statusCode, 400, 'dead after 5 wrong tries')
  t.equal((await login(body.username, body.password)).statusCode, 200, 'password unchanged')
})

t.test('a newer code replaces the older one', async (t) => {
  const { body } = await register(app)
  await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: body.email } })
  const first = otpFrom(await smtp.waitForMail(body.email))
  await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: body.email } })
  const second = otpFrom(await smtp.waitForMail(body.email))
  if (first !== second) {
    const old = await reset(body.email, first, 'new secret 123')
    t.equal(old.statusCode, 400)
  }
  const current = await reset(body.email, second, 'new secret 123')
  t.equal(current.statusCode, 204)
})

t.test('an expired code is refused', async (t) => {
  const { body } = await register(app)
  await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email: body.email } })
  const otp = otpFrom(await smtp.waitForMail(body.email))
  // Age the code instead of waiting 10 minutes.
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  await client.query(
    "update auth.otp_codes set expires_at = now() - interval '1 second' where user_id = (select id from auth.users where username = $1)",
    [body.username],
  )
  await client.end()
  const answer = await reset(body.email, otp, 'new secret 123')
  t.equal(answer.statusCode, 400)
  t.equal((await login(body.username, body.password)).statusCode, 200, 'password unchanged')
})

t.test('change password: OTP to the account, other sessions revoked, this one kept', async (t) => {
  const { body, session } = await register(app)
  const other = (await login(body.username, body.password)).json()
  const unauthenticated = await app.inject({ method: 'POST', url: '/auth/password/change/request' })
  t.equal(unauthenticated.statusCode, 401)
  const request = await app.inject({ method: 'POST', url: '/auth/password/change/request', headers: bearer(session.accessToken) })
  t.equal(request.statusCode, 202)
  const otp = otpFrom(await smtp.waitForMail(body.email))
  const badBody = await app.inject({
    method: 'POST',
    url: '/auth/password/change',
    headers: bearer(session.accessToken),
    payload: { otp: 'abc', newPassword: 'changed secret 1' },
  })
  t.equal(badBody.statusCode, 400)
  const change = await app.inject({
    method: 'POST',
    url: '/auth/password/change',
    headers: bearer(session.accessToken),
    payload: { otp, newPassword: 'changed secret 1' },
  })
  t.equal(change.statusCode, 204)
  t.equal((await login(body.username, body.password)).statusCode, 401)
  t.equal((await login(body.username, 'changed secret 1')).statusCode, 200)
  const mine = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(mine.statusCode, 200, 'the session that changed the password stays')
  const theirs = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: other.refreshToken } })
  t.equal(theirs.statusCode, 401, 'other sessions are revoked')
  const resetCode = await app.inject({
    method: 'POST',
    url: '/auth/password/change',
    headers: bearer(session.accessToken),
    payload: { otp, newPassword: 'changed secret 2' },
  })
  t.equal(resetCode.statusCode, 400, 'a change code is single use')
})

t.test('flooding code requests or guesses for one address hits 429, known or not', async (t) => {
  const { body } = await register(app)
  for (const email of [body.email, 'ghost-flood@example.test']) {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      statuses.push((await app.inject({ method: 'POST', url: '/auth/password/forgot', payload: { email } })).statusCode)
    }
    t.same(statuses, [202, 202, 202, 202, 202, 429], `code requests for ${email === body.email ? 'a known' : 'an unknown'} address`)
  }
  const guesses: number[] = []
  for (let i = 0; i < 16; i++) {
    const otp = String(100000 + i)
    guesses.push((await reset(body.email, otp, 'new secret 123')).statusCode)
  }
  t.equal(guesses.filter((s) => s === 400).length, 15)
  t.equal(guesses[15], 429)
})
