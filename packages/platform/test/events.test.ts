import { randomUUID } from 'node:crypto'
import { createTestDatabase, dropNamespace, TEST_NATS_URL } from '@sm/testing'
import { type Kysely, sql } from 'kysely'
import t from 'tap'
import { applyOnce, consumerParts, processedEventsMigration, startConsumer } from '../src/consumer.ts'
import { createDb, migrateToLatest } from '../src/db.ts'
import type { HttpError } from '../src/errors.ts'
import { closeInOrder } from '../src/infrastructure.ts'
import { type Bus, connectBus } from '../src/nats.ts'
import { enqueueEvent, OutboxRelay, type OutboxTable, outboxMigration } from '../src/outbox.ts'
import { httpErrorFromRequest, RequestError, request, serveRequests } from '../src/request-reply.ts'

const silent = { error() {}, warn() {}, info() {}, debug() {} }
const testDb = await createTestDatabase('platform')
await migrateToLatest(testDb.url, 'svc', {
  '001-outbox': outboxMigration,
  '002-processed': processedEventsMigration,
  '003-effects': {
    async up(db) {
      await db.schema.createTable('effects').addColumn('event_id', 'uuid').addColumn('username', 'text').execute()
    },
  },
})
interface Db {
  outbox: OutboxTable
  processed_events: { consumer: string; eventId: string; processedAt: Date }
  effects: { eventId: string; username: string }
}
const db = createDb<Db>({ url: testDb.url, schema: 'svc' }) as unknown as Kysely<Db>
const bus = await connectBus({ url: TEST_NATS_URL, namespace: testDb.namespace, name: 'platform-test' })
t.teardown(async () => {
  await bus.nc.close()
  await db.destroy()
  await testDb.drop()
  await dropNamespace(testDb.namespace)
})

const registered = (username: string) => ({
  userId: '01935d3a-0000-7000-8000-000000000001',
  username,
  nickname: null,
  createdAt: new Date().toISOString(),
})

const updated = (username: string) => ({
  userId: '01935d3a-0000-7000-8000-000000000001',
  username,
  previousUsername: 'before',
  updatedAt: new Date().toISOString(),
})

t.test('a rolled-back transaction leaves no event; a committed one is published once', async (t) => {
  await db
    .transaction()
    .execute(async (trx) => {
      await enqueueEvent(trx, 'test', 'auth.user.registered', registered('ghost'))
      throw new Error('rollback')
    })
    .catch(() => undefined)
  const eventId = await db.transaction().execute((trx) => enqueueEvent(trx, 'test', 'auth.user.registered', registered('kept')))
  const relay = new OutboxRelay(db, bus, silent, { pollMs: 50 })
  relay.start()
  for (let i = 0; i < 100 && (await db.selectFrom('outbox').select('id').execute()).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20))
  }
  await relay.stop()
  t.equal((await db.selectFrom('outbox').select('id').execute()).length, 0, 'outbox drained')
  const info = await bus.jsm.streams.info(bus.stream)
  t.equal(info.state.messages, 1, 'only the committed event reached the stream')
  // Republishing the same id (a crash between publish and delete) is dropped by JetStream.
  const again = await bus.js.publish(bus.subject('auth.user.registered'), '{}', { msgID: eventId })
  t.ok(again.duplicate, 'duplicate detected by Nats-Msg-Id')
})

t.test('a batch published at once still arrives in commit order', async (t) => {
  for (let i = 0; i < 60; i++) {
    await db.transaction().execute((trx) => enqueueEvent(trx, 'test', 'auth.user.updated', updated(`order_${i}`)))
  }
  const relay = new OutboxRelay(db, bus, silent, { pollMs: 50 })
  relay.start()
  const seen: string[] = []
  await new Promise<void>((resolve) => {
    void startConsumer({
      bus,
      durable: 'test-order',
      types: ['auth.user.updated'],
      log: silent,
      handler: async (event) => {
        seen.push(event.data.username)
        if (seen.length === 60) resolve()
      },
    }).then((consumer) => t.teardown(() => consumer.stop()))
  })
  await relay.stop()
  t.same(
    seen,
    Array.from({ length: 60 }, (_, i) => `order_${i}`),
  )
})

t.test('a publish that fails leaves its rows in the outbox for the next pass', async (t) => {
  await db.transaction().execute((trx) => enqueueEvent(trx, 'test', 'auth.user.updated', updated('unlucky')))
  // Subjects outside the stream: JetStream has no stream to store them, so every publish fails.
  const nowhere = { ...bus, subject: (name: string) => `nowhere.${testDb.namespace}.${name}` }
  const relay = new OutboxRelay(db, nowhere as typeof bus, silent, { pollMs: 60_000 })
  relay.kick()
  await relay.stop()
  t.equal((await db.selectFrom('outbox').select('id').execute()).length, 1, 'the claimed row was put back (its delete rolled back)')
  const working = new OutboxRelay(db, bus, silent, { pollMs: 60_000 })
  working.kick()
  await working.stop()
  t.equal((await db.selectFrom('outbox').select('id').execute()).length, 0, 'a later pass publishes and removes it')
})

t.test('kicks during a steady stream coalesce: passes are at least coalesceMs apart and carry several rows', async (t) => {
  // A pass publishes its rows in one synchronous loop (microseconds apart), and the kicks are
  // 5 ms apart: publish calls grouped by gaps of more than 2 ms are the passes.
  const calls: number[] = []
  const spied = {
    ...bus,
    js: {
      publish: (...args: Parameters<typeof bus.js.publish>) => {
        calls.push(performance.now())
        return bus.js.publish(...args)
      },
    },
  }
  const relay = new OutboxRelay(db, spied as unknown as typeof bus, silent, { pollMs: 60_000, coalesceMs: 40 })
  for (let i = 0; i < 20; i++) {
    await db.transaction().execute((trx) => enqueueEvent(trx, 'test', 'auth.user.updated', updated(`stream_${i}`)))
    relay.kick()
    await new Promise((r) => setTimeout(r, 5))
  }
  for (let i = 0; i < 100 && (await db.selectFrom('outbox').select('id').execute()).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20))
  }
  await relay.stop()
  t.equal((await db.selectFrom('outbox').select('id').execute()).length, 0, 'everything was published')
  t.equal(calls.length, 20, 'each row once')
  const passes = calls.filter((at, i) => i === 0 || at - (calls[i - 1] as number) > 2).length
  t.ok(passes <= 8, `20 kicks, 5 ms apart, made ${passes} passes (one per kick without coalescing)`)
  t.ok(passes >= 2, 'and the first pass did not wait for the rest')
})

t.test('enqueueEvent refuses a payload that breaks its schema', async (t) => {
  await t.rejects(
    db.transaction().execute((trx) => enqueueEvent(trx, 'test', 'auth.user.registered', { username: 'x' } as never)),
    /does not match its schema/,
  )
})

t.test('a failing handler is retried, and applyOnce makes redelivery harmless', async (t) => {
  let calls = 0
  const applied = new Promise<void>((resolve) => {
    void startConsumer({
      bus,
      durable: 'test-retry',
      types: ['auth.user.registered'],
      log: silent,
      handler: async (event, meta) => {
        calls++
        if (meta.deliveryCount === 1) throw new Error('transient failure')
        await applyOnce(db, 'test-retry', event.id, async (trx) => {
          await trx.insertInto('effects').values({ eventId: event.id, username: event.data.username }).execute()
        })
        // A second application of the same event changes nothing.
        const second = await applyOnce(db, 'test-retry', event.id, async (trx) => {
          await trx.insertInto('effects').values({ eventId: event.id, username: 'dup' }).execute()
        })
        t.equal(second, false)
        resolve()
      },
    }).then((consumer) => t.teardown(() => consumer.stop()))
  })
  await applied
  t.equal(calls, 2, 'delivered again after the failure')
  const rows = await sql<{ n: number }>`select count(*)::int as n from svc.effects`.execute(db)
  t.equal(rows.rows[0]?.n, 1)
})

t.test("a consumer of several producers' types gets exactly those types, whatever the server version", async (t) => {
  const types = ['auth.user.registered', 'social.profile.updated'] as const
  const seen: string[] = []
  let ours = 0
  const bothSeen = new Promise<void>((resolve) => {
    void startConsumer({
      bus,
      durable: 'test-mixed',
      types,
      log: silent,
      handler: async (event) => {
        seen.push(event.type)
        if ((event.data as { username?: string }).username === 'mixed' && ++ours === 2) resolve()
      },
    }).then((consumer) => t.teardown(() => consumer.stop()))
  })
  const envelope = (type: string, data: unknown) =>
    JSON.stringify({ id: randomUUID(), type, occurredAt: new Date().toISOString(), producer: 'test', data })
  await bus.js.publish(bus.subject('chat.presence.changed'), envelope('chat.presence.changed', {}))
  await bus.js.publish(bus.subject('auth.user.registered'), envelope('auth.user.registered', registered('mixed')))
  const profile = {
    userId: registered('x').userId,
    username: 'mixed',
    nickname: null,
    bio: null,
    avatarUrl: null,
    version: 1,
    updatedAt: new Date().toISOString(),
  }
  await bus.js.publish(bus.subject('social.profile.updated'), envelope('social.profile.updated', profile))
  await bothSeen
  t.ok(
    seen.every((type) => (types as readonly string[]).includes(type)),
    'only its own types reach the handler',
  )
  // Deliveries, across however many consumers back it, are exactly the stream's events of those types.
  const bySubject = (await bus.jsm.streams.info(bus.stream, { subjects_filter: '>' })).state.subjects ?? {}
  const matching = types.reduce((n, type) => n + (bySubject[bus.subject(type)] ?? 0), 0)
  let delivered = 0
  for (const part of consumerParts(bus, 'test-mixed', types))
    delivered += (await bus.jsm.consumers.info(bus.stream, part.durable)).delivered.consumer_seq
  t.equal(delivered, matching, 'no other event (the chat one) was delivered to it')
})

t.test('consumerParts: one consumer on NATS 2.10+, one per producer on its narrowest wildcard before', async (t) => {
  const fakeBus = (version: string) => ({ nc: { info: { version } }, subject: (name: string) => `ns.evt.${name}` }) as unknown as Bus
  const types = ['auth.user.registered', 'auth.user.updated', 'social.profile.updated'] as const
  t.same(consumerParts(fakeBus('2.10.4'), 'users', types), [
    {
      durable: 'users',
      filter: { filter_subjects: ['ns.evt.auth.user.registered', 'ns.evt.auth.user.updated', 'ns.evt.social.profile.updated'] },
    },
  ])
  t.same(consumerParts(fakeBus('2.9.25'), 'users', types), [
    { durable: 'users', filter: { filter_subject: 'ns.evt.auth.user.>' } },
    { durable: 'users-social', filter: { filter_subject: 'ns.evt.social.profile.updated' } },
  ])
  t.same(consumerParts(fakeBus('2.9.25'), 'one', ['social.post.created']), [
    { durable: 'one', filter: { filter_subject: 'ns.evt.social.post.created' } },
  ])
})

t.test('request-reply answers, reports remote errors and times out', async (t) => {
  const sub = serveRequests<{ n: number }, { doubled: number }>(
    bus.nc,
    testDb.namespace,
    'double',
    async ({ n }) => {
      if (n < 0) throw new RequestError('NEGATIVE', 'no negatives')
      return { doubled: n * 2 }
    },
    silent,
  )
  t.teardown(() => sub.unsubscribe())
  t.same(await request(bus.nc, testDb.namespace, 'double', { n: 21 }), { doubled: 42 })
  await t.rejects(request(bus.nc, testDb.namespace, 'double', { n: -1 }), { code: 'NEGATIVE' })
  const started = Date.now()
  await t.rejects(request(bus.nc, testDb.namespace, 'nobody-answers', {}, 200), { code: 'UPSTREAM_UNAVAILABLE' })
  t.ok(Date.now() - started < 2_000, 'bounded wait')
})

t.test('httpErrorFromRequest: listed codes keep code and message, an unreachable service is 503, others 502', async (t) => {
  const statuses = { THING_GONE: 400, THING_NOT_YOURS: 403 }
  const mapped = (error: unknown) => httpErrorFromRequest(error, 'things', statuses) as HttpError
  t.match(mapped(new RequestError('THING_NOT_YOURS', 'thing 7 is bob’s')), {
    statusCode: 403,
    code: 'THING_NOT_YOURS',
    message: 'thing 7 is bob’s',
  })
  t.match(mapped(new RequestError('THING_GONE', 'gone')), { statusCode: 400, code: 'THING_GONE' })
  const down = mapped(new RequestError('UPSTREAM_UNAVAILABLE', 'things: timeout'))
  t.match(down, { statusCode: 503, code: 'UPSTREAM_UNAVAILABLE', headers: { 'retry-after': '1' } })
  t.match(mapped(new RequestError('INTERNAL', 'boom')), { statusCode: 502, code: 'THINGS_ERROR' })
  const bug = new TypeError('not a refusal')
  t.equal(httpErrorFromRequest(bug, 'things', statuses), bug, 'anything else passes through')
})

t.test('a pooled connection that Postgres terminates does not crash the process', async (t) => {
  const scratch = createDb<Db>({ url: testDb.url, schema: 'svc' })
  t.teardown(() => scratch.destroy())
  await sql`select 1`.execute(scratch)
  const admin = createDb<Db>({ url: testDb.url, schema: 'svc' })
  t.teardown(() => admin.destroy())
  // Kill every other session on this database, as a Postgres restart would.
  await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name = 'svc'`.execute(
    admin,
  )
  await new Promise((resolve) => setTimeout(resolve, 100))
  const again = await sql<{ one: number }>`select 1 as one`.execute(scratch)
  t.equal(again.rows[0]?.one, 1, 'the next query reconnects')
})

t.test('a prepared pool runs each query shape as a named statement; a plain one does not', async (t) => {
  const count = sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements where name like 'sm_%'`
  const prepared = createDb<Db>({ url: testDb.url, schema: 'svc', poolSize: 1, prepared: true })
  t.teardown(() => prepared.destroy())
  await sql`select 1 as one`.execute(prepared)
  t.ok(((await count.execute(prepared)).rows[0]?.n ?? 0) >= 2, 'both statements are prepared on the connection')
  const plain = createDb<Db>({ url: testDb.url, schema: 'svc', poolSize: 1 })
  t.teardown(() => plain.destroy())
  await sql`select 1 as one`.execute(plain)
  t.equal((await count.execute(plain)).rows[0]?.n, 0)
})

t.test('closeInOrder runs every step even after one fails, and logs the failure', async (t) => {
  const warnings: string[] = []
  const log = { error() {}, info() {}, debug() {}, warn: (_obj: unknown, msg?: string) => warnings.push(msg ?? '') }
  const ran: string[] = []
  await closeInOrder(
    [
      ['first', () => ran.push('first')],
      [
        'broken',
        () => {
          throw new Error('already closed')
        },
      ],
      ['last', async () => ran.push('last')],
    ],
    log,
  )
  t.same(ran, ['first', 'last'])
  t.same(warnings, ['closing broken failed'])
})
