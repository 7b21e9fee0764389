import type { ChatEvent, ChatMessage, ChatMessageDetail, ConversationPage, MessagePage, SyncReply } from '@sm/contracts'
import { badRequest, notFound } from '@sm/platform'
import { findMembership, listConversations } from '../repositories/conversations.repository.ts'
import { readEvents } from '../repositories/events.repository.ts'
import * as messages from '../repositories/messages.repository.ts'
import { findSummaries } from '../repositories/users.repository.ts'
import type { ChatServiceDeps } from './chat.service.ts'
import { viewFor } from './fanout.ts'
import { decodeCursor, encodeCursor, renderMessages, withFreshMedia } from './views.ts'

const conversationNotFound = () => notFound('conversation not found', 'CONVERSATION_NOT_FOUND')
const messageNotFound = () => notFound('message not found', 'MESSAGE_NOT_FOUND')

/** What members read: history, one message with receipts and edits, the conversation list, sync. */
export class QueriesService {
  readonly #d: ChatServiceDeps

  constructor(deps: ChatServiceDeps) {
    this.#d = deps
  }

  // ── Reading ──

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
    const message = await viewFor(this.#d, userId, row)
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
}

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
