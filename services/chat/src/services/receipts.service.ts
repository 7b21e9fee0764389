import { notFound } from '@sm/platform'
import { sql, type Transaction } from 'kysely'
import type { ChatDatabase, MemberRow } from '../db/database.ts'
import { lastSeqOf } from '../repositories/conversations.repository.ts'
import { appendEvents, type LoggedEvent } from '../repositories/events.repository.ts'
import { moveDeliveredCursors } from '../repositories/receipts.repository.ts'
import type { ChatServiceDeps } from './chat.service.ts'
import { publishLogged, toMembers } from './fanout.ts'

const conversationNotFound = () => notFound('conversation not found', 'CONVERSATION_NOT_FOUND')

interface PendingReceipt {
  userId: string
  conversationId: string
  seq: number
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>
}

/** Read and delivered receipts, and clearing a conversation for oneself. */
export class ReceiptsService {
  readonly #d: ChatServiceDeps
  readonly #receipts = new Map<string, PendingReceipt>()
  #receiptsScheduled = false
  #receiptsRunning = false

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
   * A device of `userId` received everything up to `seq`: the cursor moves, the messages are
   * stamped, and the sender hears `delivered` live. Receipts are state (the conversation list
   * and message detail show them), not log entries: at one per message they would double the
   * writes of every send, and `sync` covers messages, edits, deletes, reactions and reads.
   * Receipts arriving together (any users, any conversations) share one statement: while one
   * runs, the next batch gathers.
   */
  markDelivered(userId: string, conversationId: string, seq: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const key = `${userId}|${conversationId}`
      const entry = this.#receipts.get(key)
      if (entry) {
        entry.seq = Math.max(entry.seq, seq)
        entry.waiters.push({ resolve, reject })
      } else this.#receipts.set(key, { userId, conversationId, seq, waiters: [{ resolve, reject }] })
      this.#scheduleReceipts()
    })
  }

  #scheduleReceipts(): void {
    if (this.#receiptsScheduled || this.#receiptsRunning) return
    this.#receiptsScheduled = true
    setImmediate(() => {
      this.#receiptsScheduled = false
      void this.#writeReceipts()
    })
  }

  async #writeReceipts(): Promise<void> {
    const batch = [...this.#receipts.values()]
    this.#receipts.clear()
    if (batch.length === 0) return
    this.#receiptsRunning = true
    try {
      const moved = await moveDeliveredCursors(this.#d.db, batch).catch((error: { code?: string }) => {
        // Two instances' batches can lock the same members rows in different orders: once more.
        if (error.code === '40P01') return moveDeliveredCursors(this.#d.db, batch)
        throw error
      })
      await Promise.all(
        moved.map((row) => {
          const frame = {
            type: 'delivered' as const,
            conversationId: row.conversationId,
            userId: row.userId,
            seq: row.seq,
            at: row.deliveredAt.toISOString(),
          }
          return this.#d.delivery.send(row.peerId, { frame })
        }),
      )
      for (const entry of batch) for (const waiter of entry.waiters) waiter.resolve()
    } catch (error) {
      for (const entry of batch) for (const waiter of entry.waiters) waiter.reject(error)
    } finally {
      this.#receiptsRunning = false
      if (this.#receipts.size > 0) this.#scheduleReceipts()
    }
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
