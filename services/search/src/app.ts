import { type App, buildService, openInfrastructure, sql } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SearchConfig } from './config.ts'
import { startIndexConsumers } from './consumers/index.consumers.ts'
import type { SearchDatabase } from './db/database.ts'
import { migrations } from './db/migrations/index.ts'
import { createReader } from './db/reader.ts'
import { pruneProcessedEvents } from './repositories/processed-events.repository.ts'
import { searchRoutes } from './routes/search.routes.ts'
import { SearchService } from './services/search.service.ts'

export const SCHEMA = 'search'

/**
 * The search service: a denormalised index of users, posts and hashtags in its own schema,
 * fed only by events (durable JetStream consumers), read through public, bounded routes.
 * It needs no Redis and verifies no tokens: every route is public and nothing is cached.
 */
export async function buildApp(config: SearchConfig): Promise<App> {
  // Every route is public and nothing is cached: search needs no Redis.
  const infra = await openInfrastructure<SearchDatabase>({ name: 'search', schema: SCHEMA, migrations, config, redis: false })
  const { db, bus } = infra

  const app = await buildService({
    name: 'search',
    logLevel: config.LOG_LEVEL,
    description: 'Search over users, posts and hashtags, fed by events',
    readiness: infra.readiness,
  })

  const readerOptions = {
    url: config.DATABASE_URL,
    schema: SCHEMA,
    searchPath: await searchPath(db),
    timeoutMs: config.SEARCH_QUERY_TIMEOUT_MS,
  }
  const reader = createReader(readerOptions)
  const preparedReader = createReader({ ...readerOptions, prepared: true })
  const search = new SearchService({ reader, preparedReader })
  const consumers = await startIndexConsumers({ db, bus, log: app.log })
  await app.register(searchRoutes, { search })

  // Markers of applied events are kept PROCESSED_EVENTS_TTL_H (a week), pruned at start and hourly.
  const prune = () =>
    pruneProcessedEvents(db, config.PROCESSED_EVENTS_TTL_H).catch((err: unknown) =>
      app.log.warn({ err }, 'pruning processed events failed'),
    )
  const pruning = prune()
  const pruneTimer = setInterval(prune, 3_600_000)
  pruneTimer.unref()

  app.addHook('onClose', async () => {
    clearInterval(pruneTimer)
    await pruning
    for (const consumer of consumers) await consumer.stop()
    await reader.destroy()
    await preparedReader.destroy()
    await infra.close(app.log)
  })
  return app
}

/** Our schema first, then wherever pg_trgm was installed (its `similarity` and `%` are unqualified in queries). */
export async function searchPath(db: Kysely<SearchDatabase>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'
  `.execute(db)
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`
  return [SCHEMA, ...rows.map((row) => row.schema)].map(quote).join(', ')
}
