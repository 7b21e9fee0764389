import { loadConfig } from '@sm/platform'
import { Type } from 'typebox'

export const searchConfigSchema = {
  PORT: Type.Integer({ default: 3004, minimum: 0, maximum: 65535 }),
  /** Upper bound on one search statement (Postgres `statement_timeout`): a slow query is cut, never left running. */
  SEARCH_QUERY_TIMEOUT_MS: Type.Integer({ default: 2_000, minimum: 10, maximum: 60_000 }),
  /** Hours an applied event's marker is kept (duplicate deliveries come within minutes). */
  PROCESSED_EVENTS_TTL_H: Type.Integer({ default: 168, minimum: 1 }),
}

export const loadSearchConfig = (env: Record<string, string | undefined> = process.env) => loadConfig(searchConfigSchema, env)
export type SearchConfig = ReturnType<typeof loadSearchConfig>
