import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Client } from '@sm/client'
import type { EventPayload, EventType, MediaRef } from '@sm/contracts'
import { type App, type Bus, connectBus, createDb, newId, RequestError, serveRequests } from '@sm/platform'
import {
  cleanup,
  createTestDatabase,
  dropNamespace,
  type KeyPair,
  newKeyPair,
  signAccessToken,
  TEST_NATS_URL,
  TEST_REDIS_URL,
} from '@sm/testing'
import type { Kysely } from 'kysely'
import type { Test } from 'tap'
import { buildApp } from '../src/app.ts'
import { loadChatConfig } from '../src/config.ts'
import type { ChatDatabase } from '../src/db/database.ts'

export interface Peer {
  bus: Bus
  /** Publishes an event as its producer would (through JetStream, deduplicated by id). */
  publish<K extends EventType>(type: K, data: EventPayload<K>, id?: string): Promise<string>
}

export interface TestChat {
  app: App
  url: string
  namespace: string
  databaseUrl: string
  keys: KeyPair
  db: Kysely<ChatDatabase>
  peer: Peer
  media: MediaStandIn
  /** Another instance on the same database, namespace and Redis. */
  another(env?: Record<string, string>): Promise<{ app: App; url: string }>
  user(username?: string): Promise<TestUser>
}

export interface TestUser {
  id: string
  username: string
  token: string
  client: Client
  /** A client pointed at one instance's URL. */
  clientAt(url: string): Client
}

export const fastEnv = {
  LOG_LEVEL: 'silent',
  // Files run in parallel against one Postgres: keep each instance's share of its connections small.
  DATABASE_POOL_SIZE: '8',
  HEARTBEAT_INTERVAL_MS: '200',
  HEARTBEAT_TIMEOUT_MS: '800',
  TYPING_TTL_MS: '300',
}

/**
 * Chat on its own database, NATS namespace and Redis prefix, listening on a free port so real
 * sockets can connect. Tokens are signed with a test key pair (no auth service); auth, social
 * and media are played by a stand-in peer on the same namespace.
 */
export async function buildTestChat(t: Test, env: Record<string, string> = {}): Promise<TestChat> {
  const database = await createTestDatabase('chat')
  const keys = newKeyPair()
  const config = (extra: Record<string, string>) =>
    loadChatConfig({
      DATABASE_URL: database.url,
      NATS_URL: TEST_NATS_URL,
      REDIS_URL: TEST_REDIS_URL,
      NAMESPACE: database.namespace,
      JWT_PUBLIC_KEY: keys.publicPem,
      ...fastEnv,
      ...env,
      ...extra,
    })
  const apps: App[] = []
  const start = async (extra: Record<string, string> = {}) => {
    const app = await buildApp(config(extra))
    apps.push(app)
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
  }
  const first = await start()
  const bus = await connectBus({ url: TEST_NATS_URL, namespace: database.namespace, name: 'chat-test-peer' })
  const db = createDb<ChatDatabase>({ url: database.url, schema: 'chat', poolSize: 2 })
  const media = new MediaStandIn(bus)
  t.teardown(() =>
    cleanup(
      {
        app: async () => {
          // Tests may close an instance themselves (shutdown, failover): close the rest.
          for (const app of apps) if (app.server.listening) await app.close()
        },
        peer: () => bus.nc.close(),
        db: () => db.destroy(),
        database: () => database.drop(),
        namespace: () => dropNamespace(database.namespace),
      },
      ['app'],
    ),
  )
  const peer: Peer = {
    bus,
    async publish(type, data, id = newId()) {
      const envelope = { id, type, occurredAt: new Date().toISOString(), producer: type.split('.')[0] as string, data }
      await bus.js.publish(bus.subject(type), JSON.stringify(envelope), { msgID: id })
      return id
    },
  }
  let counter = 0
  const context: TestChat = {
    ...first,
    namespace: database.namespace,
    databaseUrl: database.url,
    keys,
    db,
    peer,
    media,
    another: start,
    async user(username) {
      counter += 1
      const id = randomUUID()
      const name = username ?? `user_${counter}_${id.slice(0, 4)}`
      await peer.publish('auth.user.registered', { userId: id, username: name, nickname: null, createdAt: new Date().toISOString() })
      await until(async () => (await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()) !== undefined)
      const token = signAccessToken(keys, { id, username: name })
      return {
        id,
        username: name,
        token,
        client: new Client({ baseUrl: first.url, accessToken: token }),
        clientAt: (url: string) => new Client({ baseUrl: url, accessToken: token }),
      }
    },
  }
  return context
}

/** Polls `check` until it holds (events and sockets are awaited, never slept on). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Plays the media service: uploads are registered here; claim/get/release answer like media would. */
export class MediaStandIn {
  readonly uploads = new Map<string, { owner: string; purpose: string; ref: MediaRef; claimedBy?: string }>()
  readonly released: string[] = []
  readonly gets: Array<{ ids: string[]; viewerId?: string }> = []
  /** Lifetime of the signed URLs media.get hands out. */
  urlTtlS = 3600
  #subs: Array<{ unsubscribe(): void }> = []
  #bus: Bus
  #counter = 0

  constructor(bus: Bus) {
    this.#bus = bus
  }

  upload(owner: string, kind: MediaRef['kind'] = 'image', purpose = 'chat'): string {
    const id = randomUUID()
    const ref: MediaRef = { id, kind, mime: kind === 'image' ? 'image/png' : 'application/octet-stream', size: 10, url: `/media/${id}/raw` }
    this.uploads.set(id, { owner, purpose, ref })
    return id
  }

  start(): void {
    const log = { error() {}, warn() {}, info() {}, debug() {} }
    const { nc, namespace } = this.#bus
    this.#subs.push(
      serveRequests<{ userId: string; purpose: string; ids: string[]; ref: string }, { items: MediaRef[] }>(
        nc,
        namespace,
        'media.claim',
        async (req) => {
          const items: MediaRef[] = []
          for (const id of req.ids) {
            const upload = this.uploads.get(id)
            if (!upload) throw coded('MEDIA_NOT_FOUND', 'no such media')
            if (upload.owner !== req.userId) throw coded('MEDIA_FORBIDDEN', 'not yours')
            if (upload.purpose !== req.purpose) throw coded('MEDIA_WRONG_PURPOSE', 'wrong purpose')
            if (upload.claimedBy && upload.claimedBy !== req.ref) throw coded('MEDIA_ALREADY_CLAIMED', 'claimed elsewhere')
            upload.claimedBy = req.ref
            items.push(upload.ref)
          }
          return { items }
        },
        log,
      ),
      serveRequests<{ ids: string[]; viewerId?: string }, { items: MediaRef[] }>(
        nc,
        namespace,
        'media.get',
        async (req) => {
          this.gets.push(req)
          this.#counter += 1
          const exp = Math.floor(Date.now() / 1000) + this.urlTtlS
          return {
            items: req.ids.flatMap((id) => {
              const upload = this.uploads.get(id)
              return upload ? [{ ...upload.ref, url: `/media/${id}/raw?viewer=${req.viewerId}&exp=${exp}&n=${this.#counter}` }] : []
            }),
          }
        },
        log,
      ),
      serveRequests<{ ids: string[]; ref: string }, { released: number }>(
        nc,
        namespace,
        'media.release',
        async (req) => {
          this.released.push(...req.ids)
          return { released: req.ids.length }
        },
        log,
      ),
    )
  }

  stop(): void {
    for (const sub of this.#subs) sub.unsubscribe()
    this.#subs = []
  }
}

const coded = (code: string, message: string) => new RequestError(code, message)

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
let clientIds = 0
export const cid = (tag = 'c') => `${tag}-${++clientIds}-${randomUUID().slice(0, 8)}`
