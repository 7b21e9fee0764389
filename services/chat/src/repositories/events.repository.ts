import { type Kysely, sql, type Transaction } from 'kysely'
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
  const numbered = entries.map((entry) => {
    const k = (perUser.get(entry.userId) ?? 0) + 1
    perUser.set(entry.userId, k)
    return { ...entry, k }
  })
  const users = [...perUser.keys()].sort()
  // One round trip: bump the counters (rows in user-id order, so locks are taken in that
  // order) and insert the entries numbered from where each counter stood.
  const { rows } = await sql<{ userId: string; seq: number }>`
    with counters as (
      insert into event_counters (user_id, last_seq)
      values ${sql.join(users.map((userId) => sql`(${userId}::uuid, ${perUser.get(userId)}::bigint)`))}
      on conflict (user_id) do update set last_seq = event_counters.last_seq + excluded.last_seq
      returning user_id, last_seq
    ), entries (user_id, k, n, type, payload) as (
      values ${sql.join(
        numbered.map(
          (e) =>
            sql`(${e.userId}::uuid, ${e.k}::bigint, ${perUser.get(e.userId)}::bigint, ${e.type}::text, ${JSON.stringify(e.payload)}::jsonb)`,
        ),
      )}
    )
    insert into events (user_id, seq, type, payload)
    select e.user_id, c.last_seq - e.n + e.k, e.type, e.payload from entries e join counters c on c.user_id = e.user_id
    returning user_id, seq`.execute(trx)
  // Each user's entries got consecutive seqs in the order given.
  const seqs = new Map<string, number[]>()
  for (const row of rows) seqs.set(row.userId, [...(seqs.get(row.userId) ?? []), Number(row.seq)])
  for (const list of seqs.values()) list.sort((a, b) => a - b)
  return numbered.map(({ k, ...entry }) => ({ ...entry, seq: (seqs.get(entry.userId) as number[])[k - 1] as number }))
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
