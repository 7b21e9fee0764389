import { applyOnce, type Bus, type Log, type RunningConsumer, startConsumer } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SearchDatabase } from '../db/database.ts'
import { applyEvent, POST_EVENTS, USER_EVENTS } from '../services/indexer.service.ts'

/**
 * Two durable consumers, so a burst of posts never delays a profile change (and vice versa).
 * Each event is applied once per consumer (`processed_events`) on top of the handlers' own
 * version guards, which is what makes redelivery and reordering harmless.
 */
export async function startIndexConsumers(opts: { db: Kysely<SearchDatabase>; bus: Bus; log: Log }): Promise<RunningConsumer[]> {
  const { db, bus, log } = opts
  const users = await startConsumer({
    bus,
    log,
    durable: 'search-users',
    types: USER_EVENTS,
    handler: async (event) => {
      await applyOnce(db, 'search-users', event.id, (trx) => applyEvent(trx, event).then(() => undefined))
    },
  })
  const posts = await startConsumer({
    bus,
    log,
    durable: 'search-posts',
    types: POST_EVENTS,
    handler: async (event) => {
      await applyOnce(db, 'search-posts', event.id, (trx) => applyEvent(trx, event).then(() => undefined))
    },
  })
  return [users, posts]
}
