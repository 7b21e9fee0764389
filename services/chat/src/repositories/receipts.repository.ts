import { type Kysely, type RawBuilder, sql } from 'kysely'
import type { ChatDatabase } from '../db/database.ts'

type Receipt = { userId: string; conversationId: string; seq: number }
type MovedCursor = { conversationId: string; userId: string; peerId: string; seq: number; deliveredAt: Date }

/**
 * One statement for a batch of delivered receipts (one per user and conversation): moves each
 * member's cursor forward only, stamps the messages it covers, and returns the cursors that
 * moved, for the `delivered` frames.
 */
export async function moveDeliveredCursors(db: Kysely<ChatDatabase>, receipts: Receipt[]): Promise<MovedCursor[]> {
  const { rows } = await deliveredCursorsStatement(receipts).execute(db)
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }))
}

/** The statement itself, apart so a test can read its plan. */
export function deliveredCursorsStatement(receipts: Receipt[]): RawBuilder<MovedCursor> {
  return sql<MovedCursor>`
    with durability as (
      -- A receipt lost in a crash only delays a "delivered" tick: no WAL flush wait for it.
      select set_config('synchronous_commit', 'off', true)
    ), input as (
      select * from unnest(${receipts.map((r) => r.userId)}::uuid[], ${receipts.map((r) => r.conversationId)}::uuid[],
        ${receipts.map((r) => r.seq)}::int[]) as i(user_id, conversation_id, seq)
    ), moved as (
      -- "was" is the same row as the statement's snapshot saw it: the cursor it moves from.
      update members m set delivered_seq = i.seq, delivered_at = now()
      from input i join members was on was.conversation_id = i.conversation_id and was.user_id = i.user_id
      where m.conversation_id = i.conversation_id and m.user_id = i.user_id and m.delivered_seq < i.seq
      returning m.conversation_id, m.user_id, m.peer_id, was.delivered_seq as from_seq, i.seq, m.delivered_at
    ), stamped as (
      -- Only the messages the cursor moved over: everything up to the old cursor is stamped
      -- already. Bounded below, a receipt reads the new messages, not the conversation's history.
      update messages msg set delivered_at = now()
      from moved
      where msg.conversation_id = moved.conversation_id and msg.seq > moved.from_seq and msg.seq <= moved.seq
        and msg.sender_id <> moved.user_id and msg.delivered_at is null
    )
    select conversation_id, user_id, peer_id, seq, delivered_at from moved, durability`
}
