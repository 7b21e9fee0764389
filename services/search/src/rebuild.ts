// Rebuilds the search index from the event stream: `pnpm --filter @sm/search run rebuild`
// (with `run`: bare `pnpm rebuild` is pnpm's built-in that rebuilds native packages).
// Reads the same environment as the service (DATABASE_URL, NATS_URL, NAMESPACE, …); the
// service may keep running meanwhile (see README › Rebuild).
import { connectBus, createDb, ensureDatabase, type Log, migrateToLatest } from '@sm/platform'
import { SCHEMA } from './app.ts'
import { loadSearchConfig } from './config.ts'
import type { SearchDatabase } from './db/database.ts'
import { migrations } from './db/migrations/index.ts'
import { rebuildIndex } from './services/rebuild.service.ts'

const config = loadSearchConfig()
const quiet = config.LOG_LEVEL === 'silent'
/** One JSON line per entry, like the services' pino output. */
const line = (level: string) => (obj: unknown, msg?: string) => {
  if (quiet) return
  const entry = { level, time: new Date().toISOString(), service: 'search-rebuild', msg, ...(obj as object) }
  process.stdout.write(`${JSON.stringify(entry)}\n`)
}
const log: Log = { error: line('error'), warn: line('warn'), info: line('info'), debug: () => {} }
await ensureDatabase(config.DATABASE_URL)
await migrateToLatest(config.DATABASE_URL, SCHEMA, migrations)
const db = createDb<SearchDatabase>({ url: config.DATABASE_URL, schema: SCHEMA })
const bus = await connectBus({ url: config.NATS_URL, namespace: config.namespace, name: 'search-rebuild' })
try {
  const started = Date.now()
  const result = await rebuildIndex({ db, bus, log })
  log.info({ ...result, ms: Date.now() - started }, 'search index rebuilt from the event stream')
} finally {
  await bus.nc.drain()
  await db.destroy()
}
