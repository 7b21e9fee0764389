import { connectBus, startConsumer } from '@sm/platform'
import { TEST_NATS_URL } from '@sm/testing'
import t from 'tap'
import { bearer, buildTestApp, register } from './helper.ts'

const { app, namespace } = await buildTestApp(t)
const silent = { error() {}, warn() {}, info() {}, debug() {} }

t.test('auth events reach a durable consumer that starts after they were published', async (t) => {
  const { session } = await register(app)
  const renamed = await app.inject({
    method: 'PATCH',
    url: '/auth/me',
    headers: { ...bearer(session.accessToken), 'x-request-id': 'rename-req-42' },
    payload: { username: 'late_reader_x' },
  })
  t.equal(renamed.statusCode, 200)

  const bus = await connectBus({ url: TEST_NATS_URL, namespace, name: 'events-test' })
  t.teardown(() => bus.nc.close())
  const received: Array<{ type: string; data: Record<string, unknown>; id: string }> = []
  const requestIds: Array<string | undefined> = []
  const done = new Promise<void>((resolve) => {
    void startConsumer({
      bus,
      durable: 'test-late-reader',
      types: ['auth.user.registered', 'auth.user.updated'],
      log: silent,
      handler: async (event, meta) => {
        received.push(event as never)
        requestIds.push(meta.requestId)
        if (received.length === 2) resolve()
      },
    }).then((consumer) => t.teardown(() => consumer.stop()))
  })
  await done
  t.same(
    received.map((e) => e.type),
    ['auth.user.registered', 'auth.user.updated'],
    'in commit order',
  )
  t.match(received[0]?.data, { userId: session.user.id, username: session.user.username })
  t.match(received[1]?.data, { userId: session.user.id, username: 'late_reader_x', previousUsername: session.user.username })
  t.not(received[0]?.id, received[1]?.id)
  t.same(requestIds, [requestIds[0], 'rename-req-42'], 'the HTTP request id travels on as a NATS header')
})

t.test('a failed registration publishes nothing', async (t) => {
  const { body } = await register(app)
  const duplicate = await app.inject({ method: 'POST', url: '/auth/register', payload: { ...body, email: `other_${body.email}` } })
  t.equal(duplicate.statusCode, 409)
  const bus = await connectBus({ url: TEST_NATS_URL, namespace, name: 'events-test-2' })
  t.teardown(() => bus.nc.close())
  await new Promise((resolve) => setTimeout(resolve, 300))
  const info = await bus.jsm.streams.info(bus.stream)
  // One registration in the first test + its rename + this test's registration.
  t.equal(info.state.messages, 3)
})
