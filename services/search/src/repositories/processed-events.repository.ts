import { type Kysely, sql } from 'kysely'
import type { SearchDatabase } from '../db/database.ts'

/**
 * Forgets applied-event markers older than `olderThanHours`. JetStream redelivers within
 * minutes (bounded attempts with backoff), and every handler is a guarded merge anyway, so
 * old markers only cost space; without pruning the table grows with every event ever seen.
 */
export async function pruneProcessedEvents(db: Kysely<SearchDatabase>, olderThanHours: number): Promise<number> {
  const result = await db
    .deleteFrom('processedEvents')
    .where('processedAt', '<', sql<Date>`now() - make_interval(hours => ${olderThanHours})`)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
