import { randomBytes } from 'node:crypto'
import { type EventPayload, type EventType, events, type MediaRef, type UserSummary } from '@sm/contracts'
import { type App, type Bus, connectBus, createDb, newId } from '@sm/platform'
import { cleanup, createTestDatabase, dropNamespace, TEST_NATS_URL, TEST_REDIS_URL } from '@sm/testing'
import type { Kysely } from 'kysely'
import pg from 'pg'
import type { Test } from 'tap'
import { buildApp, SCHEMA } from '../src/app.ts'
import { loadSearchConfig } from '../src/config.ts'
import type { SearchDatabase } from '../src/db/database.ts'

export interface Published<K extends EventType = EventType> {
  id: string
  type: K
  occurredAt: string
  producer: string
  data: EventPayload<K>
}

export interface TestContext {
  app: App
  /** A stand-in peer (auth, social) on the same namespace: publishes events as they would. */
  bus: Bus
  /** Read access to the service's schema, to see what was applied. */
  db: Kysely<SearchDatabase>
  namespace: string
  databaseUrl: string
  publish<K extends EventType>(type: K, data: EventPayload<K>, opts?: { id?: string; msgId?: string | null }): Promise<Published<K>>
  /** Resolves once each consumer has handled everything published before this call. */
  settle(): Promise<void>
  /** GET through app.inject; returns status and parsed body. */
  get<T = Record<string, unknown>>(url: string, query?: Record<string, string | number>): Promise<{ status: number; body: T }>
}

/** The search app on its own database and NATS namespace, with a peer publishing events into it. */
export async function buildTestApp(t: Test, env: Record<string, string> = {}): Promise<TestContext> {
  const database = await createTestDatabase('search')
  const config = loadSearchConfig({
    DATABASE_URL: database.url,
    NATS_URL: TEST_NATS_URL,
    REDIS_URL: TEST_REDIS_URL,
    NAMESPACE: database.namespace,
    LOG_LEVEL: 'silent',
    ...env,
  })
  const app = await buildApp(config)
  const bus = await connectBus({ url: TEST_NATS_URL, namespace: database.namespace, name: 'search-test-peer' })
  const db = createDb<SearchDatabase>({ url: database.url, schema: SCHEMA, poolSize: 2 })
  t.teardown(() =>
    cleanup(
      {
        app: () => app.close(),
        peer: () => bus.nc.close(),
        db: () => db.destroy(),
        disconnected: () => disconnected(database.name),
        database: () => database.drop(),
        namespace: () => dropNamespace(database.namespace),
      },
      ['app'],
    ),
  )

  async function publish<K extends EventType>(type: K, data: EventPayload<K>, opts: { id?: string; msgId?: string | null } = {}) {
    const id = opts.id ?? newId()
    const envelope: Published<K> = { id, type, occurredAt: new Date().toISOString(), producer: type.split('.')[0] as string, data }
    const msgId = opts.msgId === undefined ? id : opts.msgId
    await bus.js.publish(bus.subject(events[type].subject), JSON.stringify(envelope), msgId === null ? {} : { msgID: msgId })
    return envelope
  }

  async function applied(consumer: string, eventId: string): Promise<void> {
    await eventually(async () => {
      const row = await db
        .selectFrom('processedEvents')
        .select('eventId')
        .where('consumer', '=', consumer)
        .where('eventId', '=', eventId)
        .executeTakeFirst()
      if (!row) throw new Error(`event ${eventId} not applied by ${consumer}`)
    })
  }

  return {
    app,
    bus,
    db,
    namespace: database.namespace,
    databaseUrl: database.url,
    publish,
    async settle() {
      // Each durable handles its events one at a time in stream order: once a marker published
      // now is applied, so is everything published before it (stale or repeated events too).
      const user = await publish('auth.user.registered', {
        userId: newId(),
        username: `zzmarker_${randomBytes(4).toString('hex')}`,
        nickname: null,
        createdAt: new Date().toISOString(),
      })
      const post = await publish('social.post.deleted', {
        postId: newId(),
        authorId: newId(),
        deletedAt: new Date().toISOString(),
        version: 1,
      })
      await Promise.all([applied('search-users', user.id), applied('search-posts', post.id)])
    },
    async get<T>(url: string, query: Record<string, string | number> = {}) {
      const response = await app.inject({
        method: 'GET',
        url,
        query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
      })
      return { status: response.statusCode, body: response.json() as T }
    },
  }
}

/**
 * Waits until the test's pools have really closed their connections: a pool's `end()` can
 * resolve while the server still holds a session, and dropping the database `with (force)`
 * then kills it mid-goodbye, which pg reports as an unhandled error in the test process.
 */
async function disconnected(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' })
  await admin.connect()
  try {
    await eventually(async () => {
      const { rows } = await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
        name,
      ])
      if (rows[0].n > 0) throw new Error(`${rows[0].n} connections to ${name} still open`)
    }, 5_000)
  } finally {
    await admin.end()
  }
}

/** Retries `check` until it passes or `timeoutMs` runs out (then its last error is thrown). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  }
}

let counter = 0
function unique(): string {
  counter += 1
  return `${process.pid.toString(36)}${counter}${randomBytes(2).toString('hex')}`
}

/** Event data for a new account (as auth publishes it). */
export function registered(overrides: Partial<EventPayload<'auth.user.registered'>> = {}): EventPayload<'auth.user.registered'> {
  return { userId: newId(), username: `user_${unique()}`, nickname: null, createdAt: new Date().toISOString(), ...overrides }
}

export function summary(user: { userId: string; username: string; nickname?: string | null }): UserSummary {
  return { id: user.userId, username: user.username, nickname: user.nickname ?? null, avatarUrl: null }
}

/** Hashtags as social parses them: `#word`, lower-cased, unique. */
export const tagsOf = (text: string) => [...new Set([...text.matchAll(/#([\p{L}\p{N}_]+)/gu)].map((m) => (m[1] as string).toLowerCase()))]

/** Event data for a post write (created or updated) by `author`. */
export function postWritten(
  author: UserSummary,
  text: string,
  overrides: Partial<EventPayload<'social.post.created'>> = {},
): EventPayload<'social.post.created'> {
  return {
    postId: newId(),
    author,
    text,
    hashtags: tagsOf(text),
    media: [] as MediaRef[],
    createdAt: new Date().toISOString(),
    editedAt: null,
    version: 1,
    ...overrides,
  }
}
