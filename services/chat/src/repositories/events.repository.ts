import type { Kysely, Transaction } from 'kysely'
import type { ChatDatabase } from '../db/database.ts'

export interface NewEvent {
  userId: string
  type: string
  payload: Record<string, unknown>
}

export interface LoggedEvent extends NewEvent {
  seq: number
}

/**
 * Appends events to the members' logs in the caller's transaction. Each user's counter row is
 * locked (users in id order, so two writers never deadlock) until commit: a user's events
 * commit in seq order, so a reader never sees seq n+1 before seq n.
 */
export async function appendEvents(trx: Transaction<ChatDatabase>, entries: NewEvent[]): Promise<LoggedEvent[]> {
  if (entries.length === 0) return []
  const perUser = new Map<string, number>()
  for (const entry of entries) perUser.set(entry.userId, (perUser.get(entry.userId) ?? 0) + 1)
  // One statement for every user, rows in user-id order: locks are taken in that order.
  const users = [...perUser.keys()].sort()
  const counters = await trx
    .insertInto('eventCounters')
    .values(users.map((userId) => ({ userId, lastSeq: perUser.get(userId) as number })))
    .onConflict((oc) =>
      oc.column('userId').doUpdateSet((eb) => ({ lastSeq: eb('eventCounters.lastSeq', '+', eb.ref('excluded.lastSeq')) })),
    )
    .returning(['userId', 'lastSeq'])
    .execute()
  const next = new Map<string, number>()
  for (const row of counters) next.set(row.userId, Number(row.lastSeq) - (perUser.get(row.userId) as number) + 1)
  const logged = entries.map((entry) => {
    const seq = next.get(entry.userId) as number
    next.set(entry.userId, seq + 1)
    return { ...entry, seq }
  })
  await trx
    .insertInto('events')
    .values(logged.map((e) => ({ userId: e.userId, seq: e.seq, type: e.type, payload: JSON.stringify(e.payload) })))
    .execute()
  return logged
}

export async function readEvents(db: Kysely<ChatDatabase>, userId: string, afterSeq: number, limit: number, upTo?: number) {
  let query = db
    .selectFrom('events')
    .select(['seq', 'type', 'payload'])
    .where('userId', '=', userId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
  if (upTo !== undefined) query = query.where('seq', '<=', upTo)
  return query.execute()
}

export async function currentEventSeq(db: Kysely<ChatDatabase>, userId: string): Promise<number> {
  const row = await db.selectFrom('eventCounters').select('lastSeq').where('userId', '=', userId).executeTakeFirst()
  return row ? Number(row.lastSeq) : 0
}
