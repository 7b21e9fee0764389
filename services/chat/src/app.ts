import websocket from '@fastify/websocket'
import { CHAT_FRAME_MAX_BYTES } from '@sm/contracts'
import {
  type App,
  authOptions,
  authPlugin,
  buildService,
  closeInOrder,
  OutboxRelay,
  openInfrastructure,
  publicKeysFor,
  sql,
} from '@sm/platform'
import type { ChatConfig } from './config.ts'
import { startSharesConsumer } from './consumers/shares.consumer.ts'
import { startUsersConsumer } from './consumers/users.consumer.ts'
import type { ChatDatabase } from './db/database.ts'
import { migrations } from './db/migrations/index.ts'
import { conversationRoutes } from './routes/conversations.routes.ts'
import { messageRoutes } from './routes/messages.routes.ts'
import { socketRoutes } from './routes/socket.routes.ts'
import { syncRoutes } from './routes/sync.routes.ts'
import { ChatService } from './services/chat.service.ts'
import { Delivery } from './services/delivery.ts'
import { MediaClient } from './services/media.client.ts'
import { PresenceStore } from './services/presence.service.ts'
import { Hub } from './ws/hub.ts'

export const SCHEMA = 'chat'

/**
 * The chat service: 1-on-1 conversations over REST and WebSocket. Postgres is the source of
 * truth (messages, receipts, per-user event logs); Redis holds presence and offline queues;
 * core NATS routes live frames to whichever instance holds a user's sockets.
 */
export async function buildApp(config: ChatConfig): Promise<App> {
  const infra = await openInfrastructure<ChatDatabase>({
    name: 'chat',
    schema: SCHEMA,
    migrations,
    config,
    poolSize: config.DATABASE_POOL_SIZE,
    // The send statement is a six-part CTE: planned once per connection, not once per message.
    prepared: true,
    // And kept to that plan. Left to choose, Postgres re-planned the delivered-receipt statement
    // on nearly every call (its arrays make a custom plan look cheaper): 0.59 ms of planning for
    // 0.2 ms of execution. Every chat statement is a key or key-range lookup, which a generic
    // plan serves as well.
    dbSettings: { plan_cache_mode: 'force_generic_plan' },
    // Frames for this instance's own sockets are handed over in-process (Delivery.send); NATS
    // carries them to the other instances only.
    natsNoEcho: true,
  })
  const { db, redis, bus } = infra
  // Open a few pooled connections now, so the first messages do not pay for connecting.
  await Promise.all(Array.from({ length: 4 }, () => sql`select 1`.execute(db)))

  const app = await buildService({
    name: 'chat',
    logLevel: config.LOG_LEVEL,
    description: '1-on-1 messaging: conversations, history, receipts, presence, WebSocket delivery',
    readiness: infra.readiness,
  })

  // Relay passes at least 50 ms apart (10 ms elsewhere): at 150 msg/s the relay's passes, each
  // BEGIN, claim, publish and COMMIT, were 7.7% of chat's CPU, and no service waits on chat's
  // events (nothing consumes chat.message.created or chat.presence.changed yet).
  const relay = new OutboxRelay(db, bus, app.log, { coalesceMs: 50 })
  relay.start()
  const presence = new PresenceStore(redis, config.namespace)
  const media = new MediaClient(bus, app.log, config.MEDIA_TIMEOUT_MS)
  const delivery = new Delivery({ bus, redis, queueMax: config.OFFLINE_QUEUE_MAX, queueTtlS: config.OFFLINE_QUEUE_TTL_S })
  const chat = new ChatService({ db, relay, delivery, media, presence, redis, config, log: app.log })
  const hub = new Hub({ db, bus, relay, chat, delivery, presence, media, config, log: app.log })
  hub.start()
  const consumers = [await startUsersConsumer(db, bus, app.log), await startSharesConsumer(chat, bus, app.log)]

  await app.register(authPlugin, authOptions(publicKeysFor(config, bus.nc), config))
  await app.register(websocket, {
    // Frames a bit over the limit get an error frame (and the socket stays); far over it, ws closes with 1009.
    // The hub tracks every socket itself; ws's own client set would add a Set entry and a close
    // listener (~150 bytes) per socket for nothing.
    options: { maxPayload: CHAT_FRAME_MAX_BYTES * 4, clientTracking: false },
    // Sockets are closed by the hub (1001) in onClose; the default would close them without a code.
    preClose: (done) => done(),
  })

  await app.register(socketRoutes, { hub, redis, config })
  await app.register(conversationRoutes, { chat })
  await app.register(messageRoutes, { chat })
  await app.register(syncRoutes, { chat, presence })

  app.addHook('preClose', async () => {
    await hub.stop()
  })
  app.addHook('onClose', async () => {
    // Every step runs even if an earlier one failed, so pools and connections never leak.
    await closeInOrder(
      [
        ['consumers', () => Promise.all(consumers.map((consumer) => consumer.stop()))],
        ['relay', () => relay.stop()],
        ['infrastructure', () => infra.close(app.log)],
      ],
      app.log,
    )
  })
  return app
}
