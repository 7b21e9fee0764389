import { newId } from '@sm/platform'
import { sql } from 'kysely'
import t from 'tap'
import { pruneProcessedEvents } from '../src/repositories/processed-events.repository.ts'
import { applyEvent } from '../src/services/indexer.service.ts'
import { buildTestApp } from './helper.ts'

const { db } = await buildTestApp(t)

t.test('markers of applied events older than the TTL are pruned, recent ones kept', async (t) => {
  const old = newId()
  const recent = newId()
  await db.insertInto('processedEvents').values({ consumer: 'search-posts', eventId: old }).execute()
  await db.insertInto('processedEvents').values({ consumer: 'search-posts', eventId: recent }).execute()
  await sql`update processed_events set processed_at = now() - interval '9 days' where event_id = ${old}`.execute(db)
  t.equal(await pruneProcessedEvents(db, 168), 1)
  const left = await db.selectFrom('processedEvents').select('eventId').where('eventId', 'in', [old, recent]).execute()
  t.same(
    left.map((row) => row.eventId),
    [recent],
  )
})

t.test('an event type search does not index is refused by the indexer (the consumers never pass one)', async (t) => {
  const event = { id: newId(), type: 'social.post.shared', occurredAt: new Date().toISOString(), producer: 'social', data: {} }
  await t.rejects(
    db.transaction().execute((trx) => applyEvent(trx, event)),
    /does not index social.post.shared/,
  )
})
