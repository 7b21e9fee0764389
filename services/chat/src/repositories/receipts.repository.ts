import { type Kysely, sql } from 'kysely'
import type { ChatDatabase } from '../db/database.ts'

/**
 * One statement for a batch of delivered receipts (one per user and conversation): moves each
 * member's cursor forward only, stamps the messages it covers, and returns the cursors that
 * moved, for the `delivered` frames.
 */
export async function moveDeliveredCursors(
  db: Kysely<ChatDatabase>,
  receipts: Array<{ userId: string; conversationId: string; seq: number }>,
): Promise<Array<{ conversationId: string; userId: string; peerId: string; seq: number; deliveredAt: Date }>> {
  const { rows } = await sql<{ conversationId: string; userId: string; peerId: string; seq: number; deliveredAt: Date }>`
    with durability as (
      -- A receipt lost in a crash only delays a "delivered" tick: no WAL flush wait for it.
      select set_config('synchronous_commit', 'off', true)
    ), input as (
      select * from unnest(${receipts.map((r) => r.userId)}::uuid[], ${receipts.map((r) => r.conversationId)}::uuid[],
        ${receipts.map((r) => r.seq)}::int[]) as i(user_id, conversation_id, seq)
    ), moved as (
      update members m set delivered_seq = i.seq, delivered_at = now()
      from input i
      where m.conversation_id = i.conversation_id and m.user_id = i.user_id and m.delivered_seq < i.seq
      returning m.conversation_id, m.user_id, m.peer_id, i.seq, m.delivered_at
    ), stamped as (
      update messages msg set delivered_at = now()
      from moved
      where msg.conversation_id = moved.conversation_id and msg.seq <= moved.seq and msg.sender_id <> moved.user_id
        and msg.delivered_at is null
    )
    select conversation_id, user_id, peer_id, seq, delivered_at from moved, durability`.execute(db)
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }))
}
