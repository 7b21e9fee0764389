import type { Kysely, Migration } from 'kysely'
import { sql } from 'kysely'
import { createDb, ensureDatabase, migrateToLatest } from './db.ts'
import type { Log } from './logger.ts'
import { type Bus, connectBus } from './nats.ts'
import { createRedis, type Redis } from './redis.ts'

export interface InfrastructureOptions {
  /** The service's name: NATS connection name. */
  name: string
  /** The service's Postgres schema and its migrations, run now under an advisory lock. */
  schema: string
  migrations: Record<string, Migration>
  config: { DATABASE_URL: string; REDIS_URL: string; NATS_URL: string; namespace: string }
  poolSize?: number
  prepared?: boolean
  /** Server settings for every pooled connection (`createDb`'s `settings`). */
  dbSettings?: Record<string, string>
  /** NATS does not echo this service's own publishes back to its subscriptions. */
  natsNoEcho?: boolean
}

export interface Infrastructure<DB> {
  db: Kysely<DB>
  bus: Bus
  /** For buildService({ readiness }): every dependency this service opened. */
  readiness: Record<string, () => Promise<unknown>>
  /** Drains NATS, then closes Redis and Postgres (call after the service's own parts stopped). */
  close(log: Log): Promise<void>
}

/**
 * What every service opens before it builds its app: its database (created if missing,
 * migrated), its Postgres pool, Redis (unless `redis: false`) and the NATS bus, all under the
 * stack's namespace, with the matching readiness checks and one ordered close.
 */
export async function openInfrastructure<DB>(opts: InfrastructureOptions & { redis?: true }): Promise<Infrastructure<DB> & { redis: Redis }>
export async function openInfrastructure<DB>(opts: InfrastructureOptions & { redis: false }): Promise<Infrastructure<DB>>
export async function openInfrastructure<DB>(
  opts: InfrastructureOptions & { redis?: boolean },
): Promise<Infrastructure<DB> & { redis?: Redis }> {
  const { config } = opts
  await ensureDatabase(config.DATABASE_URL)
  await migrateToLatest(config.DATABASE_URL, opts.schema, opts.migrations)
  const db = createDb<DB>({
    url: config.DATABASE_URL,
    schema: opts.schema,
    poolSize: opts.poolSize,
    prepared: opts.prepared,
    settings: opts.dbSettings,
  })
  const redis = opts.redis === false ? undefined : createRedis(config.REDIS_URL, config.namespace)
  const bus = await connectBus({ url: config.NATS_URL, namespace: config.namespace, name: opts.name, noEcho: opts.natsNoEcho })
  const readiness: Record<string, () => Promise<unknown>> = {
    postgres: () => sql`select 1`.execute(db),
    nats: () => bus.nc.flush(),
  }
  if (redis) readiness.redis = () => redis.ping()
  return {
    db,
    bus,
    redis,
    readiness,
    close: (log) =>
      closeInOrder(
        [
          ['nats', () => bus.nc.drain()],
          ['redis', () => redis?.disconnect()],
          ['postgres', () => db.destroy()],
        ],
        log,
      ),
  }
}

/**
 * Runs shutdown steps in order, each even if an earlier one failed (a NATS connection already
 * lost must not leave the Postgres pool open), logging what failed.
 */
export async function closeInOrder(steps: Array<[string, () => unknown]>, log: Log): Promise<void> {
  for (const [name, step] of steps) {
    try {
      await step()
    } catch (err) {
      log.warn({ err }, `closing ${name} failed`)
    }
  }
}
