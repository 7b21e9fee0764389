import { createDb } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SearchDatabase } from './database.ts'

export interface ReaderOptions {
  url: string
  schema: string
  /** Our schema then pg_trgm's (its `similarity` and `%` are unqualified in queries). */
  searchPath: string
  /** Postgres cancels any statement that runs longer (a search is one statement). */
  timeoutMs: number
  poolSize?: number
  /**
   * Named prepared statements, so Postgres may keep a generic plan. Only for statements whose
   * best plan does not depend on their values: a word search (planning was 0.35 of its 1.2 ms;
   * pgbench 1,820 -> 3,890 tps for the rare-word statement). Not for LIKE prefixes (the btree
   * range needs the constant) or tag-only pages (the recency walk versus GIN choice).
   */
  prepared?: boolean
}

/**
 * The pool searches run on: every connection starts read-only, with the statement timeout and
 * the search path already set. A search is then one round trip. Setting them per search took a
 * transaction and three more (BEGIN READ ONLY, set_config, COMMIT), which cost more than the
 * query itself for a rare word (0.5 ms of execution).
 */
export function createReader(opts: ReaderOptions): Kysely<SearchDatabase> {
  return createDb<SearchDatabase>({
    url: opts.url,
    schema: opts.schema,
    poolSize: opts.poolSize,
    prepared: opts.prepared,
    settings: {
      search_path: opts.searchPath,
      statement_timeout: String(opts.timeoutMs),
      default_transaction_read_only: 'on',
    },
  })
}
