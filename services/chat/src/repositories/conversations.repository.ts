import { newId, type OutboxRow } from '@sm/platform'
import { type Kysely, sql, type Transaction } from 'kysely'
import type { ChatDatabase, ConversationRow, MemberRow } from '../db/database.ts'

type Db = Kysely<ChatDatabase> | Transaction<ChatDatabase>

export async function findConversation(db: Db, userId: string, peerId: string): Promise<ConversationRow | undefined> {
  const [userA, userB] = userId < peerId ? [userId, peerId] : [peerId, userId]
  return db.selectFrom('conversations').selectAll().where('userA', '=', userA).where('userB', '=', userB).executeTakeFirst()
}

/** The pair's conversation, created with both member rows on first use (race-safe). */
export async function findOrCreateConversation(db: Kysely<ChatDatabase>, userId: string, peerId: string): Promise<ConversationRow> {
  const [userA, userB] = userId < peerId ? [userId, peerId] : [peerId, userId]
  const existing = await findConversation(db, userA, userB)
  if (existing) return existing
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('conversations')
      .values({ id: newId(), userA, userB })
      .onConflict((oc) => oc.columns(['userA', 'userB']).doNothing())
      .returningAll()
      .executeTakeFirst()
    if (!inserted) {
      return trx.selectFrom('conversations').selectAll().where('userA', '=', userA).where('userB', '=', userB).executeTakeFirstOrThrow()
    }
    await trx
      .insertInto('members')
      .values([
        { conversationId: inserted.id, userId: userA, peerId: userB, readAt: null, deliveredAt: null },
        { conversationId: inserted.id, userId: userB, peerId: userA, readAt: null, deliveredAt: null },
      ])
      .execute()
    return inserted
  })
}

/** The caller's membership of a conversation, or undefined (also for conversations of others). */
export async function findMembership(db: Db, conversationId: string, userId: string): Promise<MemberRow | undefined> {
  return db.selectFrom('members').selectAll().where('conversationId', '=', conversationId).where('userId', '=', userId).executeTakeFirst()
}

export async function lastSeqOf(db: Db, conversationId: string): Promise<number> {
  const row = await db.selectFrom('conversations').select('lastSeq').where('id', '=', conversationId).executeTakeFirstOrThrow()
  return row.lastSeq
}

/**
 * Writes an event about `userId` (a presence change) and lists their peers, who are told live,
 * in one round trip: a reconnect storm runs one per socket.
 */
export async function insertEventListingPeers(db: Db, event: OutboxRow, userId: string): Promise<string[]> {
  const { rows } = await sql<{ peerId: string }>`
    with outboxed as (
      insert into outbox (id, type, payload, request_id) values (${event.id}, ${event.type}, ${event.payload}::jsonb, ${event.requestId})
    )
    select peer_id from members where user_id = ${userId}`.execute(db)
  return rows.map((r) => r.peerId)
}

export interface ConversationListRow {
  id: string
  lastSeq: number
  lastActivityAt: Date
  peerId: string
  readSeq: number
  clearedSeq: number
  peerReadSeq: number
  peerDeliveredSeq: number
}

/** The caller's conversations, most recent activity first, keyset-paged on (lastActivityAt, id). */
export async function listConversations(
  db: Kysely<ChatDatabase>,
  userId: string,
  limit: number,
  after?: { at: Date; id: string },
): Promise<ConversationListRow[]> {
  let query = db
    .selectFrom('members as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversationId')
    .innerJoin('members as p', (join) => join.onRef('p.conversationId', '=', 'c.id').onRef('p.userId', '=', 'm.peerId'))
    .select([
      'c.id',
      'c.lastSeq',
      'c.lastActivityAt',
      'm.peerId',
      'm.readSeq',
      'm.clearedSeq',
      'p.readSeq as peerReadSeq',
      'p.deliveredSeq as peerDeliveredSeq',
    ])
    .where('m.userId', '=', userId)
    // A conversation whose first send failed (e.g. media refused) has nothing to show.
    .where('c.lastSeq', '>', 0)
    .orderBy('c.lastActivityAt', 'desc')
    .orderBy('c.id', 'desc')
    .limit(limit)
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('c.lastActivityAt', '<', after.at), eb.and([eb('c.lastActivityAt', '=', after.at), eb('c.id', '<', after.id)])]),
    )
  }
  return query.execute()
}
