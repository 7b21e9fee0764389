import { randomUUID } from 'node:crypto'
import type { EventPayload, EventType, MediaRef } from '@sm/contracts'
import { type App, type Bus, connectBus, HttpError, newId, serveRequests } from '@sm/platform'
import { cleanup, createTestDatabase, dropNamespace, newKeyPair, signAccessToken, TEST_NATS_URL, TEST_REDIS_URL } from '@sm/testing'
import pg from 'pg'
import type { Test } from 'tap'
import { buildApp } from '../src/app.ts'
import { loadSocialConfig } from '../src/config.ts'

const silent = { error() {}, warn() {}, info() {}, debug() {} }

export interface TestUser {
  id: string
  username: string
  token: string
  headers: { authorization: string }
}

/** A stand-in for the media service over real NATS: uploads are registered in memory. */
export class FakeMedia {
  readonly uploads = new Map<string, { ownerId: string; purpose: string; ref: string | null; ref_: MediaRef }>()
  readonly releases: Array<{ ids: string[]; ref: string }> = []
  down = false

  upload(ownerId: string, purpose: 'post' | 'avatar' | 'chat' = 'post'): string {
    const id = newId()
    const ref_: MediaRef = { id, kind: 'image', mime: 'image/png', size: 68, width: 1, height: 1, url: `/media/${id}/file` }
    this.uploads.set(id, { ownerId, purpose, ref: null, ref_ })
    return id
  }

  claim(body: { userId: string; purpose: string; ids: string[]; ref: string }): { items: MediaRef[] } {
    for (const id of body.ids) {
      const upload = this.uploads.get(id)
      if (!upload) throw new HttpError(400, 'MEDIA_NOT_FOUND', id)
      if (upload.ownerId !== body.userId) throw new HttpError(403, 'MEDIA_FORBIDDEN', id)
      if (upload.purpose !== body.purpose) throw new HttpError(400, 'MEDIA_WRONG_PURPOSE', id)
      if (upload.ref !== null && upload.ref !== body.ref) throw new HttpError(409, 'MEDIA_ALREADY_CLAIMED', id)
    }
    return {
      items: body.ids.map((id) => {
        const upload = this.uploads.get(id) as NonNullable<ReturnType<typeof this.uploads.get>>
        upload.ref = body.ref
        return upload.ref_
      }),
    }
  }

  release(body: { ids: string[]; ref: string }): { released: number } {
    this.releases.push(body)
    let released = 0
    for (const id of body.ids) {
      const upload = this.uploads.get(id)
      if (upload?.ref === body.ref) {
        this.uploads.delete(id)
        released += 1
      }
    }
    return { released }
  }
}

export interface TestContext {
  app: App
  bus: Bus
  namespace: string
  databaseUrl: string
  media: FakeMedia
  /** A signed-in user (token signed like auth signs); the profile appears on first use. */
  newUser(username?: string, id?: string): TestUser
  /** Publishes an event as another service would (real JetStream). */
  publish<K extends EventType>(type: K, data: EventPayload<K>, id?: string): Promise<string>
}

let counter = 0
export function uniqueName(prefix = 'u'): string {
  counter += 1
  return `${prefix}_${process.pid.toString(36)}_${counter}`
}

/** The social app on its own database, NATS namespace and Redis prefix, with a fake media peer. */
export async function buildTestApp(t: Test, env: Record<string, string> = {}): Promise<TestContext> {
  const db = await createTestDatabase('social')
  const keys = newKeyPair()
  const config = loadSocialConfig({
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    REDIS_URL: TEST_REDIS_URL,
    NAMESPACE: db.namespace,
    JWT_PUBLIC_KEY: keys.publicPem,
    LOG_LEVEL: 'silent',
    VIEW_FLUSH_MS: '3600000',
    // Files run in parallel against one Postgres: keep each app's share of its connections small.
    DATABASE_POOL_SIZE: '8',
    ...env,
  })
  const app = await buildApp(config)
  const bus = await connectBus({ url: TEST_NATS_URL, namespace: db.namespace, name: 'social-test-peer' })
  const media = new FakeMedia()
  const guard =
    <T>(fn: (body: never) => T) =>
    async (body: never) => {
      if (media.down) throw new HttpError(503, 'UPSTREAM_UNAVAILABLE', 'down')
      return fn(body)
    }
  const claim = serveRequests(
    bus.nc,
    db.namespace,
    'media.claim',
    guard((body) => media.claim(body)),
    silent,
  )
  const release = serveRequests(
    bus.nc,
    db.namespace,
    'media.release',
    guard((body) => media.release(body)),
    silent,
  )
  t.teardown(() =>
    cleanup(
      {
        app: () => app.close(),
        peer: async () => {
          claim.unsubscribe()
          release.unsubscribe()
          await bus.nc.close()
        },
        // pg's pool.end() can resolve before a backend has gone; dropping the database then kills it
        // and the pool, no longer listening, throws. Wait for the backends to leave first.
        backends: () => backendsGone(db.url),
        database: () => db.drop(),
        namespace: () => dropNamespace(db.namespace),
      },
      ['app'],
    ),
  )
  return {
    app,
    bus,
    namespace: db.namespace,
    databaseUrl: db.url,
    media,
    newUser(username = uniqueName(), id = newId()) {
      const token = signAccessToken(keys, { id, username })
      return { id, username, token, headers: { authorization: `Bearer ${token}` } }
    },
    async publish(type, data, id = randomUUID()) {
      const envelope = { id, type, occurredAt: new Date().toISOString(), producer: type.split('.')[0], data }
      await bus.js.publish(bus.subject(type), JSON.stringify(envelope), { msgID: id })
      return id
    },
  }
}

async function backendsGone(databaseUrl: string): Promise<void> {
  const admin = new URL(databaseUrl)
  const name = admin.pathname.slice(1)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    await eventually(async () => {
      const { rows } = await client.query(
        "select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'social'",
        [name],
      )
      return rows[0].n === 0
    }, 3_000).catch(() => process.stderr.write('backends still there\n'))
  } finally {
    await client.end()
  }
}

/** Polls until `check` returns a truthy value (or throws on the deadline): for event-driven effects. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met before the deadline')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** JSON helpers over app.inject. */
export function api(app: App) {
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, user?: TestUser, payload?: unknown) => {
    const response = await app.inject({ method, url, headers: user?.headers, payload: payload as never })
    const body = response.body ? response.json() : undefined
    return { status: response.statusCode, body }
  }
  return {
    get: (url: string, user?: TestUser) => call('GET', url, user),
    post: (url: string, user: TestUser | undefined, payload?: unknown) => call('POST', url, user, payload),
    put: (url: string, user: TestUser | undefined, payload?: unknown) => call('PUT', url, user, payload),
    patch: (url: string, user: TestUser | undefined, payload?: unknown) => call('PATCH', url, user, payload),
    delete: (url: string, user?: TestUser) => call('DELETE', url, user),
  }
}
