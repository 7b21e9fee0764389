import type {
  ChatEvent,
  ChatMessage,
  ChatMessageDetail,
  ConversationPage,
  DeleteScope,
  MessagePage,
  PostShared,
  SendMessageBody,
  ServerFrame,
  SyncReply,
} from '@sm/contracts'
import { badRequest, enqueueEvent, forbidden, HttpError, type Log, newId, notFound, type OutboxRelay, tooManyRequests } from '@sm/platform'
import { type Kysely, sql, type Transaction } from 'kysely'
import type { Static } from 'typebox'
import type { ChatConfig } from '../config.ts'
import type { ChatDatabase, MemberRow, MessageRow } from '../db/database.ts'
import {
  findConversation,
  findMembership,
  findOrCreateConversation,
  lastSeqOf,
  listConversations,
  nextSeq,
  peersOf,
} from '../repositories/conversations.repository.ts'
import { appendEvents, type LoggedEvent, type NewEvent, readEvents } from '../repositories/events.repository.ts'
import * as messages from '../repositories/messages.repository.ts'
import { ensureUser, findSummaries, userExists } from '../repositories/users.repository.ts'
import type { Delivery } from './delivery.ts'
import type { MediaClient } from './media.client.ts'
import type { PresenceStore } from './presence.service.ts'
import {
  assertEmoji,
  decodeCursor,
  encodeCursor,
  renderMessage,
  renderMessages,
  snapshotOf,
  toChatMessage,
  withFreshMedia,
} from './views.ts'

type Db = Kysely<ChatDatabase>
type PostSharedEvent = Static<typeof PostShared>

export interface Caller {
  id: string
  username: string
}

export interface ChatServiceDeps {
  db: Db
  relay: OutboxRelay
  delivery: Delivery
  media: MediaClient
  presence: PresenceStore
  redis: import('@sm/platform').Redis
  config: ChatConfig
  log: Log
}

const conversationNotFound = () => notFound('conversation not found', 'CONVERSATION_NOT_FOUND')
const messageNotFound = () => notFound('message not found', 'MESSAGE_NOT_FOUND')

/**
 * Messaging rules: who may do what to which message, in one transaction per change, with an
 * entry in each affected member's event log; frames go out only after commit.
 */
export class ChatService {
  readonly #d: ChatServiceDeps

  constructor(deps: ChatServiceDeps) {
    this.#d = deps
  }

  // ── Sending ──

  async send(caller: Caller, body: SendMessageBody, origin?: string): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const { db } = this.#d
    const retried = await messages.findByClientId(db, caller.id, body.clientId)
    if (retried) return { message: await this.#viewFor(caller.id, retried), duplicate: true }

    if ((body.to === undefined) === (body.conversationId === undefined)) {
      throw badRequest('VALIDATION', 'give exactly one of `to` and `conversationId`')
    }
    const text = body.text ?? null
    if (body.mediaId === undefined && (text === null || text.trim() === ''))
      throw badRequest('EMPTY_MESSAGE', 'a message needs text or media')

    let conversationId: string
    let recipientId: string
    if (body.to !== undefined) {
      if (body.to === caller.id) throw badRequest('SELF_MESSAGE', 'you cannot message yourself')
      if (!(await userExists(db, body.to))) throw notFound('user not found', 'USER_NOT_FOUND')
      // Nothing in a conversation that does not exist yet can be replied to or quoted.
      if ((body.replyToId || body.quoteId) && !(await findConversation(db, caller.id, body.to))) {
        throw notFound('replied or quoted message not found', 'MESSAGE_NOT_FOUND')
      }
      await ensureUser(db, caller.id, caller.username, true)
      const conversation = await findOrCreateConversation(db, caller.id, body.to)
      conversationId = conversation.id
      recipientId = body.to
    } else {
      const membership = await findMembership(db, body.conversationId as string, caller.id)
      if (!membership) throw conversationNotFound()
      conversationId = membership.conversationId
      recipientId = membership.peerId
    }

    const replyTo = body.replyToId ? await this.#original(conversationId, body.replyToId) : null
    const quote = body.quoteId ? await this.#original(conversationId, body.quoteId) : null
    const media = body.mediaId ? await this.#d.media.claim(caller.id, body.mediaId, conversationId, recipientId) : null

    return this.#store(
      {
        conversationId,
        senderId: caller.id,
        recipientId,
        clientId: body.clientId,
        kind: media ? media.kind : 'text',
        text: text && text.trim() !== '' ? text : null,
        media,
        post: null,
        replyTo,
        quote,
      },
      origin,
    )
  }

  /** social.post.shared → a `post` message; the share id makes redelivery a no-op. */
  async receiveShare(share: PostSharedEvent, requestId?: string): Promise<void> {
    const { db } = this.#d
    if (share.fromUserId === share.toUserId) return
    await ensureUser(db, share.fromUserId, `user_${share.fromUserId.slice(0, 8)}`, false)
    await ensureUser(db, share.toUserId, `user_${share.toUserId.slice(0, 8)}`, false)
    const conversation = await findOrCreateConversation(db, share.fromUserId, share.toUserId)
    await this.#store(
      {
        conversationId: conversation.id,
        senderId: share.fromUserId,
        recipientId: share.toUserId,
        clientId: `share:${share.shareId}`,
        kind: 'post',
        text: share.comment,
        media: null,
        post: share.post,
        replyTo: null,
        quote: null,
      },
      undefined,
      requestId,
    )
  }

  async #original(conversationId: string, id: string) {
    const row = await messages.findMessage(this.#d.db, id)
    if (!row || row.conversationId !== conversationId) throw notFound('replied or quoted message not found', 'MESSAGE_NOT_FOUND')
    return snapshotOf(row)
  }

  async #store(
    draft: Omit<
      MessageRow,
      'id' | 'seq' | 'createdAt' | 'editedAt' | 'deletedAt' | 'deliveredAt' | 'readAt' | 'mediaId' | 'replyToId' | 'quoteId'
    > & {
      recipientId: string
    },
    origin?: string,
    requestId?: string,
  ): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const { db } = this.#d
    const { recipientId, ...fields } = draft
    const outcome = await db
      .transaction()
      .execute(async (trx) => {
        const seq = await nextSeq(trx, draft.conversationId)
        const row = await messages.insertMessage(trx, {
          ...fields,
          id: newId(),
          seq,
          mediaId: fields.media?.id ?? null,
          replyToId: fields.replyTo?.id ?? null,
          quoteId: fields.quote?.id ?? null,
          editedAt: null,
          deletedAt: null,
          deliveredAt: null,
          readAt: null,
        })
        // A concurrent retry of the same clientId won: undo our seq, answer with theirs.
        if (!row) throw new DuplicateSend()
        const message = toChatMessage(row)
        const frame = { type: 'message.new', message }
        const logged = await appendEvents(trx, [
          { userId: draft.senderId, type: 'message.new', payload: frame },
          { userId: recipientId, type: 'message.new', payload: frame },
        ])
        await enqueueEvent(
          trx,
          'chat',
          'chat.message.created',
          {
            messageId: row.id,
            conversationId: row.conversationId,
            seq: row.seq,
            senderId: row.senderId,
            recipientId,
            kind: row.kind,
            createdAt: message.createdAt,
          },
          requestId,
        )
        return { message, logged }
      })
      .catch(async (error: unknown) => {
        if (!(error instanceof DuplicateSend)) throw error
        return undefined
      })
    if (!outcome) {
      const original = await messages.findByClientId(db, draft.senderId, draft.clientId)
      if (!original) throw new HttpError(409, 'CONFLICT', 'message could not be stored; retry')
      return { message: await this.#viewFor(draft.senderId, original), duplicate: true }
    }
    this.#d.relay.kick()
    await this.publish(outcome.logged, origin ? { userId: draft.senderId, connId: origin } : undefined)
    const [fresh] = await withFreshMedia(this.#d.media, draft.senderId, [{ message: outcome.message }])
    return { message: (fresh?.message ?? outcome.message) as ChatMessage, duplicate: false }
  }

  // ── Changing messages ──

  async edit(userId: string, messageId: string, text: string): Promise<ChatMessage> {
    if (text.trim() === '') throw badRequest('EMPTY_MESSAGE', 'text must not be empty')
    const { db, config } = this.#d
    const result = await db.transaction().execute(async (trx) => {
      const row = await this.#visibleForUpdate(trx, userId, messageId)
      if (row.senderId !== userId) throw forbidden('only the sender can edit a message', 'NOT_SENDER')
      if (row.deletedAt) throw new HttpError(409, 'MESSAGE_DELETED', 'message was deleted')
      if (row.kind !== 'text') throw badRequest('NOT_EDITABLE', 'only text messages can be edited')
      if (Date.now() - row.createdAt.getTime() > config.EDIT_WINDOW_S * 1000) {
        throw forbidden('the edit window has passed', 'EDIT_WINDOW_EXPIRED')
      }
      if (row.text === text) return { message: await renderMessage(trx, row), logged: [] as LoggedEvent[] }
      await this.#takeEditToken(userId)
      await trx
        .insertInto('messageEdits')
        .values({ messageId, previousText: row.text ?? '', text })
        .execute()
      const updated = await trx
        .updateTable('messages')
        .set({ text, editedAt: sql`now()` })
        .where('id', '=', messageId)
        .returningAll()
        .executeTakeFirstOrThrow()
      const message = await renderMessage(trx, updated)
      const logged = await this.#toMembers(trx, row.conversationId, 'message.edited', { type: 'message.edited', message })
      return { message, logged }
    })
    await this.publish(result.logged)
    const [fresh] = await withFreshMedia(this.#d.media, userId, [{ message: result.message }])
    return fresh?.message ?? result.message
  }

  /** Fixed one-minute window per user in Redis, shared by every instance. */
  async #takeEditToken(userId: string): Promise<void> {
    const minute = Math.floor(Date.now() / 60_000)
    const key = `edit-rate:${userId}:${minute}`
    const results = await this.#d.redis.multi().incr(key).expire(key, 61).exec()
    const count = Number(results?.[0]?.[1] ?? 0)
    if (count > this.#d.config.EDIT_RATE_PER_MIN) throw tooManyRequests(60 - (Math.floor(Date.now() / 1000) % 60), 'too many edits')
  }

  async remove(userId: string, messageId: string, scope: DeleteScope): Promise<void> {
    const { db, config } = this.#d
    const result = await db.transaction().execute(async (trx) => {
      const row = await messages.findMessageForUpdate(trx, messageId)
      const membership = row ? await findMembership(trx, row.conversationId, userId) : undefined
      if (!row || !membership) throw messageNotFound()
      const frame = { type: 'message.deleted', conversationId: row.conversationId, messageId, scope }
      if (scope === 'me') {
        const hidden = await messages.hideMessage(trx, userId, messageId)
        return { logged: hidden ? await appendEvents(trx, [{ userId, type: 'message.deleted', payload: frame }]) : [], released: null }
      }
      if (row.senderId !== userId) throw forbidden('only the sender can delete a message for everyone', 'NOT_SENDER')
      if (row.deletedAt) return { logged: [], released: null }
      if (Date.now() - row.createdAt.getTime() > config.DELETE_WINDOW_S * 1000) {
        throw forbidden('the delete-for-everyone window has passed', 'DELETE_WINDOW_EXPIRED')
      }
      await trx
        .updateTable('messages')
        .set({ text: null, media: null, post: null, deletedAt: sql`now()` })
        .where('id', '=', messageId)
        .execute()
      await trx.deleteFrom('reactions').where('messageId', '=', messageId).execute()
      await trx.deleteFrom('messageEdits').where('messageId', '=', messageId).execute()
      const logged = await this.#toMembers(trx, row.conversationId, 'message.deleted', frame)
      return { logged, released: row.mediaId ? { ids: [row.mediaId], conversationId: row.conversationId } : null }
    })
    await this.publish(result.logged)
    if (result.released) await this.#d.media.release(result.released.ids, result.released.conversationId)
  }

  async react(userId: string, messageId: string, emoji: string, action: 'add' | 'remove') {
    assertEmoji(emoji)
    const { db } = this.#d
    const result = await db.transaction().execute(async (trx) => {
      const row = await this.#visibleForUpdate(trx, userId, messageId)
      if (row.deletedAt) throw new HttpError(409, 'MESSAGE_DELETED', 'message was deleted')
      const changed =
        action === 'add'
          ? await trx
              .insertInto('reactions')
              .values({ messageId, userId, emoji })
              .onConflict((oc) => oc.doNothing())
              .returning('emoji')
              .executeTakeFirst()
          : await trx
              .deleteFrom('reactions')
              .where('messageId', '=', messageId)
              .where('userId', '=', userId)
              .where('emoji', '=', emoji)
              .returning('emoji')
              .executeTakeFirst()
      const frame = { type: 'reaction', conversationId: row.conversationId, messageId, userId, emoji, action }
      const logged = changed ? await this.#toMembers(trx, row.conversationId, 'reaction', frame) : []
      const reactions = (await messages.reactionsFor(trx, [messageId])).get(messageId) ?? []
      return { logged, reactions }
    })
    await this.publish(result.logged)
    return { messageId, reactions: result.reactions }
  }

  /** A message the caller may act on: a member's, not hidden from them or cleared away. Locked. */
  async #visibleForUpdate(trx: Transaction<ChatDatabase>, userId: string, messageId: string): Promise<MessageRow> {
    const row = await messages.findMessageForUpdate(trx, messageId)
    const membership = row ? await findMembership(trx, row.conversationId, userId) : undefined
    if (!row || !membership || row.seq <= membership.clearedSeq || (await messages.isHidden(trx, userId, messageId)))
      throw messageNotFound()
    return row
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
      const logged = await this.#toMembers(trx, conversationId, 'read', frame)
      return { seq: upTo, at, logged }
    })
    await this.publish(result.logged)
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
      with moved as (
        update members set delivered_seq = ${seq}, delivered_at = now()
        where conversation_id = ${conversationId} and user_id = ${userId} and delivered_seq < ${seq}
        returning peer_id, delivered_at
      ), stamped as (
        update messages set delivered_at = now()
        where conversation_id = ${conversationId} and seq <= ${seq} and sender_id <> ${userId}
          and delivered_at is null and exists (select 1 from moved)
      )
      select peer_id, delivered_at from moved`.execute(this.#d.db)
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
    await this.publish(logged)
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

  async #toMembers(trx: Transaction<ChatDatabase>, conversationId: string, type: string, payload: Record<string, unknown>) {
    const members = await trx.selectFrom('members').select('userId').where('conversationId', '=', conversationId).execute()
    return appendEvents(
      trx,
      members.map((m): NewEvent => ({ userId: m.userId, type, payload })),
    )
  }

  // ── Fan-out ──

  /** Sends committed log entries to their users (media URLs signed for each recipient). */
  async publish(logged: LoggedEvent[], skip?: { userId: string; connId: string }): Promise<void> {
    await Promise.all(
      logged.map(async (event) => {
        const frame = { ...event.payload, cursor: encodeCursor(event.seq) } as ServerFrame & { message?: ChatMessage }
        const [fresh] = await withFreshMedia(this.#d.media, event.userId, [frame])
        const except = skip && skip.userId === event.userId ? skip.connId : undefined
        await this.#d.delivery.send(event.userId, { frame: fresh as ServerFrame, seq: event.seq, ...(except ? { except } : {}) })
      }),
    )
  }

  // ── Reading ──

  async #viewFor(viewerId: string, row: MessageRow): Promise<ChatMessage> {
    const message = await renderMessage(this.#d.db, row)
    const [fresh] = await withFreshMedia(this.#d.media, viewerId, [{ message }])
    return fresh?.message ?? message
  }

  async history(userId: string, conversationId: string, query: { before?: number; after?: number; limit?: number }): Promise<MessagePage> {
    const { db } = this.#d
    const membership = await findMembership(db, conversationId, userId)
    if (!membership) throw conversationNotFound()
    const limit = query.limit ?? 20
    const { rows, more } = await messages.findHistory(db, conversationId, userId, membership.clearedSeq, { ...query, limit })
    const rendered = await renderMessages(db, rows)
    const items = (
      await withFreshMedia(
        this.#d.media,
        userId,
        rendered.map((message) => ({ message })),
      )
    ).map((i) => i.message)
    const edge = query.after !== undefined ? items.at(-1) : items[0]
    return { items, nextCursor: more && edge ? String(edge.seq) : null }
  }

  async detail(userId: string, messageId: string): Promise<ChatMessageDetail> {
    const { db } = this.#d
    const row = await messages.findMessage(db, messageId)
    const membership = row ? await findMembership(db, row.conversationId, userId) : undefined
    if (!row || !membership || row.seq <= membership.clearedSeq || (await messages.isHidden(db, userId, messageId))) throw messageNotFound()
    const message = await this.#viewFor(userId, row)
    const edits = await messages.editsOf(db, messageId)
    return {
      ...message,
      receipts: { deliveredAt: row.deliveredAt?.toISOString() ?? null, readAt: row.readAt?.toISOString() ?? null },
      edits: edits.map((e) => ({ text: e.previousText, editedAt: e.editedAt.toISOString() })),
    }
  }

  async conversations(userId: string, query: { limit?: number; cursor?: string }): Promise<ConversationPage> {
    const { db } = this.#d
    const limit = query.limit ?? 20
    const rows = await listConversations(db, userId, limit + 1, query.cursor ? decodeListCursor(query.cursor) : undefined)
    const page = rows.slice(0, limit)
    const ids = page.map((r) => r.id)
    const peers = page.map((r) => r.peerId)
    const [summaries, lastRows, unread, presence] = await Promise.all([
      findSummaries(db, peers),
      messages.lastVisibleMessages(db, userId, ids),
      messages.unreadCounts(db, userId, ids),
      this.#d.presence.lookup(peers),
    ])
    const lastMessages = await renderMessages(db, [...lastRows.values()])
    const fresh = await withFreshMedia(
      this.#d.media,
      userId,
      lastMessages.map((message) => ({ message })),
    )
    const byConversation = new Map(fresh.map((f) => [f.message.conversationId, f.message]))
    const items = page.map((row, i) => ({
      id: row.id,
      peer: summaries.get(row.peerId) ?? { id: row.peerId, username: 'unknown', nickname: null, avatarUrl: null },
      lastMessage: byConversation.get(row.id) ?? null,
      unread: unread.get(row.id) ?? 0,
      peerOnline: presence[i]?.online ?? false,
      peerLastSeenAt: presence[i]?.lastSeenAt ?? null,
      readSeq: row.readSeq,
      peerReadSeq: row.peerReadSeq,
      peerDeliveredSeq: row.peerDeliveredSeq,
      lastActivityAt: row.lastActivityAt.toISOString(),
    }))
    const last = page.at(-1)
    return { items, nextCursor: rows.length > limit && last ? encodeListCursor(last.lastActivityAt, last.id) : null }
  }

  /** Every logged event after `since`, oldest first, with the cursor to continue from. */
  async sync(userId: string, since: string | undefined, limit = 500, upTo?: number): Promise<SyncReply> {
    const after = decodeCursor(since)
    const rows = await readEvents(this.#d.db, userId, after, limit + 1, upTo)
    const page = rows.slice(0, limit)
    const frames = page.map(
      (row) => ({ ...(row.payload as object), cursor: encodeCursor(Number(row.seq)) }) as ChatEvent & { message?: ChatMessage },
    )
    const events = (await withFreshMedia(this.#d.media, userId, frames)) as ChatEvent[]
    const lastSeq = page.length > 0 ? Number(page.at(-1)?.seq) : after
    return { events, cursor: encodeCursor(lastSeq), hasMore: rows.length > limit }
  }

  /** Conversation ids and peers, for membership checks of typing frames (cached by sockets). */
  async peerIn(userId: string, conversationId: string): Promise<string> {
    const membership = await findMembership(this.#d.db, conversationId, userId)
    if (!membership) throw conversationNotFound()
    return membership.peerId
  }

  peersOf(userId: string): Promise<string[]> {
    return peersOf(this.#d.db, userId)
  }
}

class DuplicateSend extends Error {}

const encodeListCursor = (at: Date, id: string) => Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url')

function decodeListCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string]
    const date = new Date(at)
    if (Number.isNaN(date.getTime()) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad cursor')
    return { at: date, id }
  } catch {
    throw badRequest('INVALID_CURSOR', 'cursor is not valid')
  }
}
