import { migrateToLatest } from '@sm/platform'
import { createTestDatabase } from '@sm/testing'
import { Kysely, Migrator, PostgresDialect } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { loadSocialConfig } from '../src/config.ts'
import { migrations } from '../src/db/migrations/index.ts'
import { buildTestApp } from './helper.ts'

t.test('health, readiness and the OpenAPI document', async (t) => {
  const { app } = await buildTestApp(t)
  t.match((await app.inject('/health')).json(), { status: 'ok', service: 'social' })
  t.match((await app.inject('/ready')).json(), { status: 'ready', dependencies: { postgres: 'up', redis: 'up', nats: 'up' } })
  const paths = Object.keys((await app.inject('/openapi.json')).json().paths)
  for (const path of ['/users/{username}', '/posts/{id}/vote', '/feed', '/hashtags/{tag}/posts', '/me/analytics', '/comments/{id}']) {
    t.ok(paths.includes(path), path)
  }
})

t.test('configuration: defaults and refusals', async (t) => {
  const config = loadSocialConfig({})
  t.match(config, { PORT: 3002, TIMELINE_CAP: 800, FANOUT_FOLLOWER_LIMIT: 10_000 })
  t.throws(() => loadSocialConfig({ TIMELINE_CAP: '3' }), /TIMELINE_CAP/)
})

t.test('migrations go down and up again', async (t) => {
  const database = await createTestDatabase('social_mig')
  t.teardown(() => database.drop())
  await migrateToLatest(database.url, 'social', migrations)
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, options: '-c search_path=social' }) }),
  })
  t.teardown(() => db.destroy())
  const migrator = new Migrator({
    db: db.withSchema('social'),
    migrationTableSchema: 'social',
    provider: { getMigrations: async () => migrations },
  })
  for (let i = 0; i < Object.keys(migrations).length; i++) {
    const { error } = await migrator.migrateDown()
    t.error(error)
  }
  t.same(await migrateToLatest(database.url, 'social', migrations), Object.keys(migrations))
})
