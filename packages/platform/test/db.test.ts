import { createTestDatabase, dropNamespace, TEST_NATS_URL, TEST_REDIS_URL } from '@sm/testing'
import { sql } from 'kysely'
import t from 'tap'
import { createDb, startupOptions } from '../src/db.ts'
import { openInfrastructure } from '../src/infrastructure.ts'

t.test('start-up options escape what libpq would split on', async (t) => {
  t.equal(startupOptions({ a: 'x', b: 'one two', c: 'back\\slash' }), '-c a=x -c b=one\\ two -c c=back\\\\slash')
  t.equal(startupOptions({}), '')
})

t.test('a pool starts every connection with its settings, values whole', async (t) => {
  const database = await createTestDatabase('platform')
  t.teardown(() => database.drop())
  const db = createDb<unknown>({
    url: database.url,
    schema: 'public',
    poolSize: 2,
    settings: { statement_timeout: '1234', 'sm.probe': 'a b\\c', search_path: '"public", pg_catalog' },
  })
  t.teardown(() => db.destroy())
  const { rows } = await sql<{ timeout: string; probe: string; path: string }>`
    select current_setting('statement_timeout') as timeout, current_setting('sm.probe') as probe,
           current_setting('search_path') as path
  `.execute(db)
  t.same(rows[0], { timeout: '1234ms', probe: 'a b\\c', path: '"public", pg_catalog' })

  const plain = createDb<unknown>({ url: database.url, schema: 'public', poolSize: 1 })
  t.teardown(() => plain.destroy())
  const defaults = await sql<{ path: string }>`select current_setting('search_path') as path`.execute(plain)
  t.equal(defaults.rows[0]?.path, 'public', 'without settings, the search path is the schema')
})

t.test("a query builder's table names resolve in the service's schema, not in public", async (t) => {
  const database = await createTestDatabase('platform')
  t.teardown(() => database.drop())
  const admin = createDb<unknown>({ url: database.url, schema: 'public', poolSize: 1 })
  t.teardown(() => admin.destroy())
  await sql`create schema svc`.execute(admin)
  await sql`create table public.items (label text)`.execute(admin)
  await sql`create table svc.items (label text)`.execute(admin)
  await sql`insert into public.items values ('public one')`.execute(admin)
  await sql`insert into svc.items values ('service one')`.execute(admin)
  const db = createDb<{ items: { label: string } }>({ url: database.url, schema: 'svc', poolSize: 1, prepared: true })
  t.teardown(() => db.destroy())
  t.same(await db.selectFrom('items').select('label').execute(), [{ label: 'service one' }])
  await db.insertInto('items').values({ label: 'inserted' }).execute()
  const { rows } = await sql<{ count: number }>`select count(*)::int as count from svc.items`.execute(admin)
  t.equal(rows[0]?.count, 2, 'writes land there too')
})

t.test("a service's infrastructure opens its pool with the service's settings", async (t) => {
  const database = await createTestDatabase('platform')
  t.teardown(() => database.drop())
  const config = { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, NATS_URL: TEST_NATS_URL, namespace: database.namespace }
  const infra = await openInfrastructure<unknown>({
    name: 'probe',
    schema: 'probe',
    migrations: {},
    config,
    redis: false,
    dbSettings: { plan_cache_mode: 'force_generic_plan' },
  })
  t.teardown(async () => {
    const quiet = () => {}
    await infra.close({ error: quiet, warn: quiet, info: quiet, debug: quiet })
    await dropNamespace(database.namespace)
  })
  const { rows } = await sql<{ mode: string }>`select current_setting('plan_cache_mode') as mode`.execute(infra.db)
  t.equal(rows[0]?.mode, 'force_generic_plan')
})
