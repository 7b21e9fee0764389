import type { ChatMessage, DeleteScope, PostShared, SendMessageBody } from '@sm/contracts'
import { badRequest, forbidden, HttpError, newId, notFound, outboxRow, tooManyRequests } from '@sm/platform'
import { sql, type Transaction } from 'kysely'
import type { Static } from 'typebox'
import type { ChatDatabase, MessageRow } from '../db/database.ts'
import { findConversation, findMembership, findOrCreateConversation } from '../repositories/conversations.repository.ts'
import { appendEvents, type LoggedEvent } from '../repositories/events.repository.ts'
import * as messages from '../repositories/messages.repository.ts'
import { ensureUser, userExists } from '../repositories/users.repository.ts'
import type { Caller, ChatServiceDeps } from './chat.service.ts'
import { type ConversationRoute, ConversationRoutes } from './conversation-routes.ts'
import { EditRate } from './edit-rate.ts'
import { publishLogged, toMembers, viewFor } from './fanout.ts'
import { assertEmoji, renderMessage, snapshotOf, toChatMessage, withFreshMedia } from './views.ts'

type PostSharedEvent = Static<typeof PostShared>

const conversationNotFound = () => notFound('conversation not found', 'CONVERSATION_NOT_FOUND')
const messageNotFound = () => notFound('message not found', 'MESSAGE_NOT_FOUND')
const conflictRetry = () => new HttpError(409, 'CONFLICT', 'message could not be stored; retry')

/**
 * Sending and changing messages: who may do what to which message, in one transaction per
 * change, with an entry in each affected member's event log; frames go out after commit.
 */
export class MessagesService {
  readonly #d: ChatServiceDeps
  readonly #routes = new ConversationRoutes()
  readonly #editRate: EditRate

  constructor(deps: ChatServiceDeps) {
    this.#d = deps
    this.#editRate = new EditRate(deps.redis, deps.config.EDIT_RATE_PER_MIN)
  }

  // ── Sending ──

  async send(caller: Caller, body: SendMessageBody, origin?: string): Promise<{ message: ChatMessage; duplicate: boolean }> {
    if ((body.to === undefined) === (body.conversationId === undefined)) {
      throw badRequest('VALIDATION', 'give exactly one of `to` and `conversationId`')
    }
    const text = body.text ?? null
    if (body.mediaId === undefined && (text === null || text.trim() === ''))
      throw badRequest('EMPTY_MESSAGE', 'a message needs text or media')

    const { conversationId, recipientId } = await this.#route(caller, body)
    const replyTo = body.replyToId ? await this.#original(conversationId, body.replyToId) : null
    const quote = body.quoteId ? await this.#original(conversationId, body.quoteId) : null
    const media = body.mediaId ? await this.#d.media.claim(caller.id, body.mediaId, conversationId, recipientId) : null

    const stored = await this.#store(
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
    if (stored) return stored
    // The conversation is gone (nothing deletes one today): look it up afresh on the retry.
    this.#routes.forget(caller.id, body)
    throw conflictRetry()
  }

  /** The conversation and recipient of a send: from the cache, else checked and remembered. */
  async #route(caller: Caller, body: SendMessageBody): Promise<ConversationRoute> {
    const cached = this.#routes.get(caller.id, body)
    if (cached) return cached
    const { db } = this.#d
    let route: ConversationRoute
    if (body.to !== undefined) {
      if (body.to === caller.id) throw badRequest('SELF_MESSAGE', 'you cannot message yourself')
      let conversation = await findConversation(db, caller.id, body.to)
      if (!conversation) {
        if (!(await userExists(db, body.to))) throw notFound('user not found', 'USER_NOT_FOUND')
        // Nothing in a conversation that does not exist yet can be replied to or quoted.
        if (body.replyToId || body.quoteId) throw notFound('replied or quoted message not found', 'MESSAGE_NOT_FOUND')
        await ensureUser(db, caller.id, caller.username, true)
        conversation = await findOrCreateConversation(db, caller.id, body.to)
      }
      route = { conversationId: conversation.id, recipientId: body.to }
    } else {
      const membership = await findMembership(db, body.conversationId as string, caller.id)
      if (!membership) throw conversationNotFound()
      route = { conversationId: membership.conversationId, recipientId: membership.peerId }
    }
    this.#routes.set(caller.id, body, route)
    return route
  }

  /** social.post.shared → a `post` message; the share id makes redelivery a no-op. */
  async receiveShare(share: PostSharedEvent, requestId?: string): Promise<void> {
    const { db } = this.#d
    if (share.fromUserId === share.toUserId) return
    await ensureUser(db, share.fromUserId, `user_${share.fromUserId.slice(0, 8)}`, false)
    await ensureUser(db, share.toUserId, `user_${share.toUserId.slice(0, 8)}`, false)
    const conversation = await findOrCreateConversation(db, share.fromUserId, share.toUserId)
    const stored = await this.#store(
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
    // Redelivered later, when it may go through.
    if (!stored) throw conflictRetry()
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
  ): Promise<{ message: ChatMessage; duplicate: boolean } | undefined> {
    const { db } = this.#d
    const { recipientId, ...fields } = draft
    // The row as it will be stored, so the frame and the event are rendered the usual way
    // before the statement runs; the statement fills in the seq (1 is a placeholder).
    const row: MessageRow = {
      ...fields,
      id: newId(),
      seq: 1,
      mediaId: fields.media?.id ?? null,
      replyToId: fields.replyTo?.id ?? null,
      quoteId: fields.quote?.id ?? null,
      createdAt: new Date(),
      editedAt: null,
      deletedAt: null,
      deliveredAt: null,
      readAt: null,
    }
    const message = toChatMessage(row)
    const frame = { type: 'message.new' as const, message }
    const event = outboxRow(
      'chat',
      'chat.message.created',
      {
        messageId: row.id,
        conversationId: row.conversationId,
        seq: 1,
        senderId: row.senderId,
        recipientId,
        kind: row.kind,
        createdAt: message.createdAt,
      },
      requestId,
    )
    const stored = await messages.insertMessageWithEvents(db, row, [fields.senderId, recipientId], frame, event)
    if (!stored || stored.duplicate) {
      // A retry: answer with the original (read again when the retry raced it).
      const original = stored?.row ?? (await messages.findByClientId(db, draft.senderId, draft.clientId))
      if (!original) return undefined
      return { message: await viewFor(this.#d, draft.senderId, original), duplicate: true }
    }
    message.seq = stored.row.seq
    const logged: LoggedEvent[] = [fields.senderId, recipientId].map((userId) => ({
      userId,
      type: 'message.new',
      payload: frame,
      seq: stored.eventSeqs.get(userId) as number,
    }))
    this.#d.relay.kick()
    await publishLogged(this.#d, logged, origin ? { userId: draft.senderId, connId: origin } : undefined)
    const [fresh] = await withFreshMedia(this.#d.media, draft.senderId, [{ message }])
    return { message: fresh?.message ?? message, duplicate: false }
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
      const logged = await toMembers(trx, row.conversationId, 'message.edited', { type: 'message.edited', message })
      return { message, logged }
    })
    await publishLogged(this.#d, result.logged)
    const [fresh] = await withFreshMedia(this.#d.media, userId, [{ message: result.message }])
    return fresh?.message ?? result.message
  }

  async #takeEditToken(userId: string): Promise<void> {
    const waitS = await this.#editRate.take(userId)
    if (waitS > 0) throw tooManyRequests(waitS, 'too many edits')
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
      const logged = await toMembers(trx, row.conversationId, 'message.deleted', frame)
      return { logged, released: row.mediaId ? { ids: [row.mediaId], conversationId: row.conversationId } : null }
    })
    await publishLogged(this.#d, result.logged)
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
      const logged = changed ? await toMembers(trx, row.conversationId, 'reaction', frame) : []
      const reactions = (await messages.reactionsFor(trx, [messageId])).get(messageId) ?? []
      return { logged, reactions }
    })
    await publishLogged(this.#d, result.logged)
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
}
