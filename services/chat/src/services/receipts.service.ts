import { notFound } from '@sm/platform'
import { sql, type Transaction } from 'kysely'
import type { ChatDatabase, MemberRow } from '../db/database.ts'
import { lastSeqOf } from '../repositories/conversations.repository.ts'
import { appendEvents, type LoggedEvent } from '../repositories/events.repository.ts'
import type { ChatServiceDeps } from './chat.service.ts'
import { publishLogged, toMembers } from './fanout.ts'

const conversationNotFound = () => notFound('conversation not found', 'CONVERSATION_NOT_FOUND')

/** Read and delivered receipts, and clearing a conversation for oneself. */
export class ReceiptsService {
  readonly #d: ChatServiceDeps

  constructor(deps: ChatServiceDeps) {
    this.#d = deps
  }

  // ── Receipts and clearing ──

  async read(userId: string, conversationId: string, seq: number) {
    const { db } = this.#d
    const result = await db.transaction().execute(async (trx) => {
      const membership = await this.#lockMembership(trx, conversationId, userId)
      const upTo = Math.min(seq, await lastSeqOf(trx, conversationId))
      if (upTo <= membership.readSeq) return { seq: membership.readSeq, at: membership.readAt ?? new Date(), logged: [] as LoggedEvent[] }
      const updated = await trx
        .updateTable('members')
        .set({
          readSeq: upTo,
          readAt: sql`now()`,
          deliveredSeq: sql`greatest(delivered_seq, ${upTo})`,
          deliveredAt: sql`case when delivered_seq < ${upTo} then now() else delivered_at end`,
        })
        .where('conversationId', '=', conversationId)
        .where('userId', '=', userId)
        .returning('readAt')
        .executeTakeFirstOrThrow()
      await trx
        .updateTable('messages')
        .set({ readAt: sql`now()`, deliveredAt: sql`coalesce(delivered_at, now())` })
        .where('conversationId', '=', conversationId)
        .where('seq', '>', membership.readSeq)
        .where('seq', '<=', upTo)
        .where('senderId', '<>', userId)
        .execute()
      const at = updated.readAt as Date
      const frame = { type: 'read', conversationId, userId, seq: upTo, at: at.toISOString() }
      const logged = await toMembers(trx, conversationId, 'read', frame)
      return { seq: upTo, at, logged }
    })
    await publishLogged(this.#d, result.logged)
    return { conversationId, seq: result.seq, at: result.at.toISOString() }
  }

  /**
   * A device of `userId` received everything up to `seq`: one statement moves the cursor and
   * stamps the messages, and the sender hears `delivered` live. Receipts are state (the
   * conversation list and message detail show them), not log entries: at one per message they
   * would double the writes of every send, and `sync` covers messages, edits, deletes,
   * reactions and reads.
   */
  async markDelivered(userId: string, conversationId: string, seq: number): Promise<void> {
    const { rows } = await sql<{ peerId: string; deliveredAt: Date }>`
      with durability as (
        -- A receipt lost in a crash only delays a "delivered" tick: no WAL flush wait for it.
        select set_config('synchronous_commit', 'off', true)
      ), moved as (
        update members set delivered_seq = ${seq}, delivered_at = now()
        where conversation_id = ${conversationId} and user_id = ${userId} and delivered_seq < ${seq}
        returning peer_id, delivered_at
      ), stamped as (
        update messages set delivered_at = now()
        where conversation_id = ${conversationId} and seq <= ${seq} and sender_id <> ${userId}
          and delivered_at is null and exists (select 1 from moved)
      )
      select peer_id, delivered_at from moved, durability`.execute(this.#d.db)
    const moved = rows[0]
    if (!moved) return
    const frame = { type: 'delivered' as const, conversationId, userId, seq, at: moved.deliveredAt.toISOString() }
    await this.#d.delivery.send(moved.peerId, { frame })
  }

  async clear(userId: string, conversationId: string): Promise<void> {
    const { db } = this.#d
    const logged = await db.transaction().execute(async (trx) => {
      await this.#lockMembership(trx, conversationId, userId)
      const seq = await lastSeqOf(trx, conversationId)
      await trx
        .updateTable('members')
        .set({ clearedSeq: seq })
        .where('conversationId', '=', conversationId)
        .where('userId', '=', userId)
        .execute()
      return appendEvents(trx, [{ userId, type: 'conversation.cleared', payload: { type: 'conversation.cleared', conversationId, seq } }])
    })
    await publishLogged(this.#d, logged)
  }

  async #lockMembership(trx: Transaction<ChatDatabase>, conversationId: string, userId: string): Promise<MemberRow> {
    const row = await trx
      .selectFrom('members')
      .selectAll()
      .where('conversationId', '=', conversationId)
      .where('userId', '=', userId)
      .forUpdate()
      .executeTakeFirst()
    if (!row) throw conversationNotFound()
    return row
  }
}
