import { createHash } from 'node:crypto'
import { CamelCasePlugin, Kysely, type Migration, Migrator, PostgresDialect, type PostgresPool, type PostgresPoolClient, sql } from 'kysely'
import pg from 'pg'

// int8 (counts, bigserial) as JS numbers: every count we keep fits in 2^53.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10))

export interface DbOptions {
  url: string
  /** The service's own schema: every unqualified table name resolves there. */
  schema: string
  poolSize?: number
  /**
   * Run every statement as a named prepared statement, planned once per connection. Worth it
   * where planning dominates (social's feed page: 0.55 ms planning vs 0.2 ms executing; backend
   * CPU per page 0.65 → 0.18 ms). Kysely emits one SQL text per query shape (values are always
   * parameters), so the set of statements stays small. The cost: a migration that changes a
   * table's columns invalidates older instances' plans until they restart.
   */
  prepared?: boolean
  /**
   * Server settings every connection starts with (`statement_timeout`, `default_transaction_read_only`,
   * a longer `search_path`…), sent with the connection's start-up message. A setting fixed for a
   * pool this way costs no statement per query, where `SET LOCAL` costs a transaction and a
   * round trip each time.
   */
  settings?: Record<string, string>
}

/**
 * Start-up `options`: `-c name=value` each. libpq splits them on spaces, so spaces and
 * backslashes in a value are escaped with a backslash.
 */
export function startupOptions(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value.replace(/[\\ ]/g, (c) => `\\${c}`)}`)
    .join(' ')
}

function pool(url: string, schema: string, poolSize: number, settings: Record<string, string>) {
  const created = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // search_path pins this pool to the service's schema, so raw SQL sees only its own tables.
    options: startupOptions({ search_path: schema, ...settings }),
    application_name: schema,
  })
  // An idle client whose connection Postgres ended (restart, failover, admin kill) emits
  // 'error' on the pool; unhandled, that would crash the process. The pool drops that client and
  // the next query opens a fresh connection, so a log line is all it takes.
  created.on('error', (error) => {
    process.emitWarning(`postgres idle connection lost (${schema}): ${error.message}`)
  })
  return created
}

/**
 * A statement's name: the same SQL text always maps to the same prepared statement. Memoised:
 * a service has a few dozen query shapes, and hashing each text per query showed in profiles.
 */
const statementNames = new Map<string, string>()
function statementName(text: string): string {
  let name = statementNames.get(text)
  if (name === undefined) {
    name = `sm_${createHash('sha1').update(text).digest('base64url')}`
    // Bounded all the same: a caller building SQL with inlined values must not grow it forever.
    if (statementNames.size >= 2_000) statementNames.clear()
    statementNames.set(text, name)
  }
  return name
}

function preparedPool(inner: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await inner.connect()
      return {
        // Kysely only ever calls query(sql, parameters) (no cursors here).
        query: ((text: string, values: readonly unknown[]) =>
          client.query({ name: statementName(text), text, values: [...values] })) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      }
    },
    end: () => inner.end(),
  }
}

/**
 * Kysely over the service's schema: snake_case in SQL, camelCase in code. Table names stay
 * unqualified and resolve through the connections' `search_path`, which starts with the schema,
 * as raw SQL always did. (Kysely's `withSchema` qualified them by walking every query's tree
 * again: 2.3% of chat's CPU at 150 msg/s under `perf`, for names that already resolved.)
 */
export function createDb<DB>({ url, schema, poolSize = 10, prepared = false, settings = {} }: DbOptions): Kysely<DB> {
  const connections = pool(url, schema, poolSize, settings)
  return new Kysely<DB>({
    dialect: new PostgresDialect({ pool: prepared ? preparedPool(connections) : connections }),
    plugins: [new CamelCasePlugin()],
  })
}

/** Creates the database named in the URL if it is missing (local start and tests). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name])
    if (rowCount === 0) {
      await client.query(`create database "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // 42P04: another process created it between our check and our create.
        if (error.code !== '42P04' && error.code !== '23505') throw error
      })
    }
  } finally {
    await client.end()
  }
}

export type Migrations = Record<string, Migration>

/**
 * Runs the service's migrations inside its schema. Kysely's Postgres adapter takes a
 * transaction-level advisory lock around the run; we take our own session lock around schema
 * creation too, so any number of instances can start at once.
 */
export async function migrateToLatest(url: string, schema: string, migrations: Migrations): Promise<string[]> {
  // Migrations use a plain instance (no CamelCasePlugin) so SQL names are exactly what they say.
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: pool(url, schema, 1, {}) }) })
  try {
    await sql`select pg_advisory_lock(hashtext(${`migrate:${schema}`}))`.execute(db)
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
    await sql`select pg_advisory_unlock(hashtext(${`migrate:${schema}`}))`.execute(db)
    const migrator = new Migrator({
      db: db.withSchema(schema),
      migrationTableSchema: schema,
      provider: { getMigrations: async () => migrations },
    })
    const { error, results = [] } = await migrator.migrateToLatest()
    if (error) throw error
    return results.filter((r) => r.status === 'Success').map((r) => r.migrationName)
  } finally {
    await db.destroy()
  }
}

export { sql }
