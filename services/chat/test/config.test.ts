import { ConfigError } from '@sm/platform'
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { loadChatConfig } from '../src/config.ts'
import { migrations } from '../src/db/migrations/index.ts'
import { buildTestChat } from './helper.ts'

t.test('defaults follow the brief; bad values fail at start, naming the variable', async (t) => {
  const config = loadChatConfig({})
  t.match(config, {
    PORT: 3005,
    EDIT_WINDOW_S: 900,
    DELETE_WINDOW_S: 3600,
    EDIT_RATE_PER_MIN: 10,
    TYPING_TTL_MS: 5000,
    HEARTBEAT_INTERVAL_MS: 15_000,
    HEARTBEAT_TIMEOUT_MS: 45_000,
    WS_TICKET_TTL_S: 30,
  })
  t.throws(() => loadChatConfig({ EDIT_WINDOW_S: '0', HEARTBEAT_INTERVAL_MS: 'soon' }), ConfigError)
  const error = (() => {
    try {
      loadChatConfig({ EDIT_WINDOW_S: '0' })
    } catch (e) {
      return e as Error
    }
  })()
  t.match(error?.message, /EDIT_WINDOW_S/)
})

t.test('the service reports ready and its migrations roll back cleanly', async (t) => {
  const chat = await buildTestChat(t)
  const ready = await chat.app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { status: 'ready', dependencies: { postgres: 'up', redis: 'up', nats: 'up' } })

  // A scratch schema, so the running app's tables stay untouched.
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: chat.databaseUrl, max: 1, options: '-c search_path=chat_rollback' }),
    }),
  })
  t.teardown(() => db.destroy())
  await db.schema.createSchema('chat_rollback').execute()
  const migrator = new Migrator({
    db: db.withSchema('chat_rollback'),
    migrationTableSchema: 'chat_rollback',
    provider: { getMigrations: async () => migrations },
  })
  const up = await migrator.migrateToLatest()
  t.error(up.error)
  for (let i = 0; i < Object.keys(migrations).length; i++) {
    const down = await migrator.migrateDown()
    t.error(down.error)
  }
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from information_schema.tables
    where table_schema = 'chat_rollback' and table_name not like 'kysely_%'`.execute(db)
  t.equal(rows[0]?.n, 0, 'every table dropped')
})
