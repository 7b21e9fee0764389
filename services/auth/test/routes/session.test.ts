import t from 'tap'
import { bearer, buildTestApp, newUser, register } from '../helper.ts'

const { app } = await buildTestApp(t)

t.test('register returns the user and a working token pair', async (t) => {
  const body = newUser({ nickname: 'Ally' })
  const response = await app.inject({ method: 'POST', url: '/auth/register', payload: body })
  t.equal(response.statusCode, 201)
  const session = response.json()
  t.match(session.user, { username: body.username, email: body.email, nickname: 'Ally' })
  t.match(session.user.id, /^[0-9a-f-]{36}$/)
  t.equal(session.expiresIn, 900)
  t.notOk('passwordHash' in session.user, 'no hash leaks')
  const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(session.accessToken) })
  t.equal(me.statusCode, 200)
  t.same(Object.keys(me.json()).sort(), ['createdAt', 'email', 'id', 'username'])
})

t.test('usernames and emails are unique case-insensitively', async (t) => {
  const { body } = await register(app)
  const sameName = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: newUser({ username: body.username.toUpperCase() }),
  })
  t.equal(sameName.statusCode, 409)
  t.equal(sameName.json().code, 'USERNAME_TAKEN')
  const sameEmail = await app.inject({ method: 'POST', url: '/auth/register', payload: newUser({ email: body.email.toUpperCase() }) })
  t.equal(sameEmail.statusCode, 409)
  t.equal(sameEmail.json().code, 'EMAIL_TAKEN')
})

t.test('bad registration input gets 400 VALIDATION and creates nothing', async (t) => {
  const cases: Record<string, unknown> = {
    'missing password': { username: 'someone', email: 'someone@example.test' },
    'short password': newUser({ password: 'short' }),
    'password over 128 chars': newUser({ password: 'x'.repeat(129) }),
    'bad email': newUser({ email: 'not-an-email' }),
    'username with spaces': newUser({ username: 'two words' }),
    'username too short': newUser({ username: 'ab' }),
    'username too long': newUser({ username: 'a'.repeat(31) }),
    'extra field (mass assignment)': { ...newUser(), id: '00000000-0000-7000-8000-000000000000' },
    'not an object': ['x'],
  }
  for (const [name, payload] of Object.entries(cases)) {
    const response = await app.inject({ method: 'POST', url: '/auth/register', payload: payload as object })
    t.equal(response.statusCode, 400, name)
    t.equal(response.json().code, 'VALIDATION', name)
  }
  const malformed = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: '{"username":',
    headers: { 'content-type': 'application/json' },
  })
  t.equal(malformed.statusCode, 400, 'malformed JSON')
  const huge = await app.inject({ method: 'POST', url: '/auth/register', payload: { ...newUser(), nickname: 'n'.repeat(300_000) } })
  t.equal(huge.statusCode, 413, 'oversized body')
  t.equal(huge.json().code, 'PAYLOAD_TOO_LARGE')
})

t.test('login works with username or email, in any case', async (t) => {
  const { body } = await register(app)
  for (const login of [body.username, body.email, body.username.toUpperCase(), body.email.toUpperCase()]) {
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { login, password: body.password } })
    t.equal(response.statusCode, 200, login)
    t.equal(response.json().user.username, body.username)
  }
  const wrong = await app.inject({ method: 'POST', url: '/auth/login', payload: { login: body.username, password: 'wrong password!' } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'INVALID_CREDENTIALS')
  const unknown = await app.inject({ method: 'POST', url: '/auth/login', payload: { login: 'nobody_here', password: 'whatever1' } })
  t.equal(unknown.statusCode, 401)
  t.equal(unknown.json().code, 'INVALID_CREDENTIALS', 'unknown accounts look like wrong passwords')
})

t.test('a long multibyte password is not truncated at 72 bytes', async (t) => {
  const password = 'ü'.repeat(64) // 128 bytes in UTF-8
  const { body } = await register(app, newUser({ password }))
  const almost = `${'ü'.repeat(63)}x` // same first 126 bytes
  const wrong = await app.inject({ method: 'POST', url: '/auth/login', payload: { login: body.username, password: almost } })
  t.equal(wrong.statusCode, 401)
  const right = await app.inject({ method: 'POST', url: '/auth/login', payload: { login: body.username, password } })
  t.equal(right.statusCode, 200)
})

t.test('password guessing against one account hits 429 with Retry-After', async (t) => {
  const { body } = await register(app)
  const statuses: number[] = []
  for (let i = 0; i < 11; i++) {
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { login: body.username, password: `guess-${i}-xx` } })
    statuses.push(response.statusCode)
    if (response.statusCode === 429) {
      t.ok(Number(response.headers['retry-after']) > 0, 'Retry-After is set')
      t.equal(response.json().code, 'RATE_LIMITED')
    }
  }
  t.same(statuses.slice(0, 10), Array(10).fill(401))
  t.equal(statuses[10], 429)
  const correct = await app.inject({ method: 'POST', url: '/auth/login', payload: { login: body.username, password: body.password } })
  t.equal(correct.statusCode, 429, 'even the right password waits out the lock')
})

t.test('refresh rotates: the new token works, the spent one kills the family', async (t) => {
  const { body, session } = await register(app)
  const first = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(first.statusCode, 200)
  const rotated = first.json()
  t.not(rotated.refreshToken, session.refreshToken)
  t.equal(rotated.user.username, body.username)

  const replay = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'REFRESH_TOKEN_REUSED')

  const afterReplay = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: rotated.refreshToken } })
  t.equal(afterReplay.statusCode, 401, 'the legitimate holder is logged out too: the family is revoked')

  const otherLogin = await app.inject({ method: 'POST', url: '/auth/login', payload: { login: body.username, password: body.password } })
  const otherRefresh = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: otherLogin.json().refreshToken } })
  t.equal(otherRefresh.statusCode, 200, 'other sessions are not affected')
})

t.test('two concurrent refreshes with one token: exactly one wins', async (t) => {
  const { session } = await register(app)
  const results = await Promise.all(
    [1, 2].map(() => app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } })),
  )
  t.same(results.map((r) => r.statusCode).sort(), [200, 401])
})

t.test('logout ends the session and is idempotent', async (t) => {
  const { session } = await register(app)
  const out = await app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: session.refreshToken } })
  t.equal(out.statusCode, 204)
  const again = await app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: session.refreshToken } })
  t.equal(again.statusCode, 204)
  const refresh = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(refresh.statusCode, 401)
  const garbage = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'x'.repeat(43) } })
  t.equal(garbage.statusCode, 401)
  t.equal(garbage.json().code, 'INVALID_REFRESH_TOKEN')
})

t.test('PATCH /auth/me renames, 409 when taken in any case', async (t) => {
  const { session } = await register(app)
  const { body: other } = await register(app)
  const renamed = await app.inject({
    method: 'PATCH',
    url: '/auth/me',
    headers: bearer(session.accessToken),
    payload: { username: 'Renamed_One' },
  })
  t.equal(renamed.statusCode, 200)
  t.equal(renamed.json().username, 'Renamed_One')
  const taken = await app.inject({
    method: 'PATCH',
    url: '/auth/me',
    headers: bearer(session.accessToken),
    payload: { username: other.username.toUpperCase() },
  })
  t.equal(taken.statusCode, 409)
  const hostile = await app.inject({ method: 'PATCH', url: '/auth/me', headers: bearer(session.accessToken), payload: { email: 'x@y.z' } })
  t.equal(hostile.statusCode, 400, 'email is not writable here')
  const anonymous = await app.inject({ method: 'PATCH', url: '/auth/me', payload: { username: 'nobody_x' } })
  t.equal(anonymous.statusCode, 401)
})
