import t from 'tap'
import { Type } from 'typebox'
import { buildService } from '../src/build-service.ts'
import { conflict } from '../src/errors.ts'

async function app(readiness = {}) {
  const service = await buildService({ name: 'demo', logLevel: 'silent', readiness })
  service.post(
    '/things',
    { schema: { body: Type.Object({ name: Type.String({ maxLength: 5 }) }, { additionalProperties: false }) } },
    async (request) => {
      if (request.body.name === 'taken') throw conflict('NAME_TAKEN', 'that name is taken')
      if (request.body.name === 'boom') throw new Error('secret database detail')
      return { ok: true }
    },
  )
  t.teardown(() => service.close())
  return service
}

t.test('errors use the contract shape and never leak internals', async (t) => {
  const service = await app()
  const invalid = await service.inject({ method: 'POST', url: '/things', payload: { name: 'too long' } })
  t.equal(invalid.statusCode, 400)
  t.match(invalid.json(), { statusCode: 400, code: 'VALIDATION', error: 'Bad Request' })
  const extra = await service.inject({ method: 'POST', url: '/things', payload: { name: 'a', admin: true } })
  t.equal(extra.statusCode, 400, 'unknown fields are rejected, not silently dropped')
  const taken = await service.inject({ method: 'POST', url: '/things', payload: { name: 'taken' } })
  t.same(taken.json(), { statusCode: 409, code: 'NAME_TAKEN', error: 'Conflict', message: 'that name is taken' })
  const boom = await service.inject({ method: 'POST', url: '/things', payload: { name: 'boom' } })
  t.equal(boom.statusCode, 500)
  t.same(boom.json(), { statusCode: 500, code: 'INTERNAL', error: 'Internal Server Error', message: 'internal server error' })
  const missing = await service.inject({ method: 'GET', url: '/nowhere' })
  t.match(missing.json(), { statusCode: 404, code: 'NOT_FOUND' })
  const wrongType = await service.inject({
    method: 'POST',
    url: '/things',
    payload: '<name/>',
    headers: { 'content-type': 'application/xml' },
  })
  t.equal(wrongType.statusCode, 415)
  t.equal(wrongType.json().code, 'UNSUPPORTED_MEDIA_TYPE')
})

t.test('request ids are taken from the caller or created, and returned', async (t) => {
  const service = await app()
  const given = await service.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'abc-123' } })
  t.equal(given.headers['x-request-id'], 'abc-123')
  const created = await service.inject({ method: 'GET', url: '/health' })
  t.match(created.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('/ready reports each dependency and 503 when one is down', async (t) => {
  const healthy = await app({ db: async () => 'ok' })
  t.same((await healthy.inject({ method: 'GET', url: '/ready' })).json(), { status: 'ready', dependencies: { db: 'up' } })
  const broken = await app({ db: async () => 'ok', nats: async () => Promise.reject(new Error('down')) })
  const response = await broken.inject({ method: 'GET', url: '/ready' })
  t.equal(response.statusCode, 503)
  t.match(response.json(), { code: 'NOT_READY', dependencies: { db: 'up', nats: 'down' } })
})

t.test('/metrics speaks Prometheus and /openapi.json documents the routes', async (t) => {
  const service = await app()
  await service.inject({ method: 'GET', url: '/health' })
  const metrics = await service.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /process_cpu_user_seconds_total/)
  const doc = (await service.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.equal(doc.openapi.slice(0, 2), '3.')
  t.ok(doc.paths['/things'], 'routes are documented')
  t.notOk(doc.paths['/health'], 'operational routes are hidden')
})

t.test('a hostile or oversized request id is replaced, not echoed', async (t) => {
  const service = await app()
  for (const hostile of ['x'.repeat(500), 'abc\u0000def', 'a b', '{"$ne":1}']) {
    const response = await service.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': hostile } })
    t.match(response.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  }
})
