import type { OutboxRow } from '@sm/platform'
import { type Kysely, sql, type Transaction } from 'kysely'
import type { ChatDatabase, MessageRow, MessagesTable } from '../db/database.ts'

type Db = Kysely<ChatDatabase> | Transaction<ChatDatabase>

export async function findByClientId(db: Db, senderId: string, clientId: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('senderId', '=', senderId).where('clientId', '=', clientId).executeTakeFirst()
}

export async function findMessage(db: Db, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findMessageForUpdate(trx: Transaction<ChatDatabase>, id: string): Promise<MessageRow | undefined> {
  return trx.selectFrom('messages').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export type NewMessage = Omit<MessagesTable, 'createdAt' | 'seq' | 'editedAt' | 'deletedAt' | 'deliveredAt' | 'readAt'> & {
  createdAt: Date
}

/** What storing a send came to: the new message and its log entries' seqs, or the retried original. */
export type StoredSend = { duplicate: false; row: MessageRow; eventSeqs: Map<string, number> } | { duplicate: true; row: MessageRow }

/**
 * A send in one statement, so one round trip (it was BEGIN, four statements and COMMIT): take
 * the conversation's next seq (its row lock orders the conversation's messages), insert the
 * message, append `frame` to each member's event log (counter rows locked in the order given,
 * so two writers never deadlock) and write the outbox row. `frame` and `event` carry a
 * placeholder seq that the statement fills in.
 *
 * A retried (sender, clientId) already committed is answered with the original and changes
 * nothing. A retry racing its original fails the insert's unique key, which aborts the whole
 * statement, seq included: undefined, and the caller reads the winner.
 */
export async function insertMessageWithEvents(
  db: Db,
  m: NewMessage,
  memberIds: [string, string],
  frame: { message: unknown },
  event: OutboxRow,
): Promise<StoredSend | undefined> {
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value))
  const users = [...memberIds].sort()
  try {
    const { rows } = await sql<MessageRow & { duplicate: boolean; logged: Array<{ userId: string; seq: number }> | null }>`
      with dup as (
        select * from messages where sender_id = ${m.senderId} and client_id = ${m.clientId}
      ), next as (
        update conversations set last_seq = last_seq + 1, last_activity_at = ${m.createdAt}
        where id = ${m.conversationId} and not exists (select 1 from dup)
        returning last_seq
      ), msg as (
        insert into messages (id, conversation_id, seq, sender_id, client_id, kind, text, media_id, media, post,
          reply_to_id, reply_to, quote_id, quote, created_at)
        select ${m.id}::uuid, ${m.conversationId}::uuid, next.last_seq, ${m.senderId}::uuid, ${m.clientId}, ${m.kind}, ${m.text},
          ${m.mediaId}::uuid, ${json(m.media)}::jsonb, ${json(m.post)}::jsonb, ${m.replyToId}::uuid, ${json(m.replyTo)}::jsonb,
          ${m.quoteId}::uuid, ${json(m.quote)}::jsonb, ${m.createdAt}
        from next
        returning *
      ), counters as (
        insert into event_counters (user_id, last_seq)
        select u.id, 1 from msg cross join unnest(${users}::uuid[]) with ordinality as u(id, ord) order by u.ord
        on conflict (user_id) do update set last_seq = event_counters.last_seq + 1
        returning user_id, last_seq
      ), logged as (
        insert into events (user_id, seq, type, payload)
        select c.user_id, c.last_seq, 'message.new', jsonb_set(${JSON.stringify(frame)}::jsonb, '{message,seq}', to_jsonb(msg.seq))
        from counters c cross join msg
        returning user_id, seq
      ), outboxed as (
        insert into outbox (id, type, payload, request_id)
        select ${event.id}, ${event.type}, jsonb_set(${event.payload}::jsonb, '{data,seq}', to_jsonb(msg.seq)), ${event.requestId}
        from msg
      )
      select msg.*, false as duplicate, (select jsonb_agg(jsonb_build_object('userId', user_id, 'seq', seq)) from logged) as logged
      from msg
      union all
      select dup.*, true, null from dup`.execute(db)
    const found = rows[0]
    if (!found) return undefined
    const { duplicate, logged, ...row } = found
    if (duplicate) return { duplicate: true, row }
    return { duplicate: false, row, eventSeqs: new Map((logged ?? []).map((entry) => [entry.userId, Number(entry.seq)])) }
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'messages_sender_client_id') return undefined
    throw error
  }
}

export interface HistoryBounds {
  before?: number
  after?: number
  limit: number
}

/** What `userId` sees of a conversation: after their clear point, without what they deleted for themselves. */
export async function findHistory(db: Db, conversationId: string, userId: string, clearedSeq: number, bounds: HistoryBounds) {
  let query = db
    .selectFrom('messages')
    .selectAll()
    .where('conversationId', '=', conversationId)
    .where('seq', '>', Math.max(clearedSeq, bounds.after ?? 0))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('hiddenMessages')
            .select('messageId')
            .whereRef('hiddenMessages.messageId', '=', 'messages.id')
            .where('hiddenMessages.userId', '=', userId),
        ),
      ),
    )
    .limit(bounds.limit + 1)
  if (bounds.before !== undefined) query = query.where('seq', '<', bounds.before)
  // Paging forward from `after` reads upwards; otherwise the page closest to `before` (or the newest).
  const rows = await query.orderBy('seq', bounds.after !== undefined ? 'asc' : 'desc').execute()
  const more = rows.length > bounds.limit
  const page = rows.slice(0, bounds.limit)
  if (bounds.after === undefined) page.reverse()
  return { rows: page, more }
}

export async function isHidden(db: Db, userId: string, messageId: string): Promise<boolean> {
  const row = await db
    .selectFrom('hiddenMessages')
    .select('messageId')
    .where('userId', '=', userId)
    .where('messageId', '=', messageId)
    .executeTakeFirst()
  return row !== undefined
}

export async function hideMessage(trx: Transaction<ChatDatabase>, userId: string, messageId: string): Promise<boolean> {
  const row = await trx
    .insertInto('hiddenMessages')
    .values({ userId, messageId })
    .onConflict((oc) => oc.doNothing())
    .returning('messageId')
    .executeTakeFirst()
  return row !== undefined
}

/** `{ emoji, userIds }` per message, emoji in order of first use, users in order of reacting. */
export async function reactionsFor(db: Db, messageIds: string[]): Promise<Map<string, Array<{ emoji: string; userIds: string[] }>>> {
  const result = new Map<string, Array<{ emoji: string; userIds: string[] }>>()
  if (messageIds.length === 0) return result
  const rows = await db
    .selectFrom('reactions')
    .select(['messageId', 'emoji', 'userId'])
    .where('messageId', 'in', messageIds)
    .orderBy('createdAt')
    .orderBy('userId')
    .execute()
  for (const row of rows) {
    const list = result.get(row.messageId) ?? []
    let entry = list.find((r) => r.emoji === row.emoji)
    if (!entry) {
      entry = { emoji: row.emoji, userIds: [] }
      list.push(entry)
    }
    entry.userIds.push(row.userId)
    result.set(row.messageId, list)
  }
  return result
}

/** Current state of messages replied to or quoted, so snapshots show later edits and deletes. */
export async function originalsState(db: Db, ids: string[]): Promise<Map<string, { edited: boolean; deleted: boolean }>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom('messages').select(['id', 'editedAt', 'deletedAt']).where('id', 'in', ids).execute()
  return new Map(rows.map((r) => [r.id, { edited: r.editedAt !== null, deleted: r.deletedAt !== null }]))
}

export async function editsOf(db: Db, messageId: string) {
  return db
    .selectFrom('messageEdits')
    .select(['previousText', 'text', 'editedAt'])
    .where('messageId', '=', messageId)
    .orderBy('id')
    .execute()
}

/** The last message `userId` can see in each conversation. */
export async function lastVisibleMessages(db: Db, userId: string, conversationIds: string[]): Promise<Map<string, MessageRow>> {
  if (conversationIds.length === 0) return new Map()
  const { rows } = await sql<MessageRow>`
    select m.id, m.conversation_id, m.seq, m.sender_id, m.client_id, m.kind, m.text, m.media_id, m.media, m.post,
           m.reply_to_id, m.reply_to, m.quote_id, m.quote, m.created_at, m.edited_at, m.deleted_at, m.delivered_at, m.read_at
    from members me
    cross join lateral (
      select * from messages msg
      where msg.conversation_id = me.conversation_id and msg.seq > me.cleared_seq
        and not exists (select 1 from hidden_messages h where h.user_id = me.user_id and h.message_id = msg.id)
      order by msg.seq desc limit 1
    ) m
    where me.user_id = ${userId} and me.conversation_id = any(${conversationIds}::uuid[])`.execute(db)
  return new Map(rows.map((row) => [row.conversationId, row]))
}

/** Messages after my read (and clear) point, not sent by me, not deleted, not hidden from me. */
export async function unreadCounts(db: Db, userId: string, conversationIds: string[]): Promise<Map<string, number>> {
  if (conversationIds.length === 0) return new Map()
  const { rows } = await sql<{ conversationId: string; unread: number }>`
    select me.conversation_id, count(msg.id)::int as unread
    from members me
    join messages msg on msg.conversation_id = me.conversation_id
      and msg.seq > greatest(me.read_seq, me.cleared_seq)
      and msg.sender_id <> me.user_id and msg.deleted_at is null
      and not exists (select 1 from hidden_messages h where h.user_id = me.user_id and h.message_id = msg.id)
    where me.user_id = ${userId} and me.conversation_id = any(${conversationIds}::uuid[])
    group by me.conversation_id`.execute(db)
  return new Map(rows.map((row) => [row.conversationId, row.unread]))
}
