import type { ChatMessage, MediaRef, MessageSnapshot } from '@sm/contracts'
import { badRequest } from '@sm/platform'
import type { Kysely, Transaction } from 'kysely'
import type { ChatDatabase, MessageRow } from '../db/database.ts'
import { originalsState, reactionsFor } from '../repositories/messages.repository.ts'
import type { MediaClient } from './media.client.ts'

type Db = Kysely<ChatDatabase> | Transaction<ChatDatabase>

/** A message as the API shows it (reactions aggregated, snapshots following their originals). */
export async function renderMessages(db: Db, rows: MessageRow[]): Promise<ChatMessage[]> {
  const reactions = await reactionsFor(
    db,
    rows.map((r) => r.id),
  )
  const originalIds = rows.flatMap((r) => [r.replyToId, r.quoteId]).filter((id): id is string => id !== null)
  const originals = await originalsState(db, originalIds)
  return rows.map((row) => toChatMessage(row, reactions.get(row.id) ?? [], originals))
}

/** A row as the API shows it; a message just stored has no reactions and fresh snapshots. */
export function toChatMessage(
  row: MessageRow,
  reactions: ChatMessage['reactions'] = [],
  originals: Map<string, { edited: boolean; deleted: boolean }> = new Map(),
): ChatMessage {
  return {
    id: row.id,
    conversationId: row.conversationId,
    seq: row.seq,
    senderId: row.senderId,
    clientId: row.clientId,
    kind: row.kind as ChatMessage['kind'],
    text: row.text,
    media: row.media,
    post: row.post,
    replyTo: followOriginal(row.replyTo, row.replyToId ? originals.get(row.replyToId) : undefined),
    quote: followOriginal(row.quote, row.quoteId ? originals.get(row.quoteId) : undefined),
    reactions,
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt?.toISOString() ?? null,
    deleted: row.deletedAt !== null,
  }
}

export async function renderMessage(db: Db, row: MessageRow): Promise<ChatMessage> {
  const [message] = await renderMessages(db, [row])
  return message as ChatMessage
}

function followOriginal(
  snapshot: MessageSnapshot | null,
  state: { edited: boolean; deleted: boolean } | undefined,
): MessageSnapshot | null {
  if (!snapshot) return null
  if (!state) return snapshot
  if (state.deleted) return { ...snapshot, text: null, media: null, post: null, deleted: true, edited: state.edited }
  return { ...snapshot, edited: state.edited }
}

/** The snapshot a reply or quote keeps of its original. */
export function snapshotOf(row: MessageRow): MessageSnapshot {
  const deleted = row.deletedAt !== null
  return {
    id: row.id,
    seq: row.seq,
    senderId: row.senderId,
    kind: row.kind as MessageSnapshot['kind'],
    text: deleted ? null : row.text,
    media: deleted ? null : row.media,
    post: deleted ? null : row.post,
    createdAt: row.createdAt.toISOString(),
    edited: row.editedAt !== null,
    deleted,
  }
}

/** Swaps stored media refs for ones `viewerId` can fetch now (signed URLs expire). Mutates copies. */
export async function withFreshMedia<T extends { message?: ChatMessage }>(media: MediaClient, viewerId: string, items: T[]): Promise<T[]> {
  const ids = new Set<string>()
  const refs = (m: ChatMessage) => [m.media, m.replyTo?.media, m.quote?.media].filter((r): r is MediaRef => !!r)
  for (const item of items) if (item.message) for (const ref of refs(item.message)) ids.add(ref.id)
  if (ids.size === 0) return items
  const fresh = await media.fresh(viewerId, [...ids])
  const swap = (ref: MediaRef | null | undefined) => (ref ? (fresh.get(ref.id) ?? ref) : null)
  return items.map((item) => {
    const m = item.message
    if (!m) return item
    return {
      ...item,
      message: {
        ...m,
        media: swap(m.media),
        replyTo: m.replyTo ? { ...m.replyTo, media: swap(m.replyTo.media) } : null,
        quote: m.quote ? { ...m.quote, media: swap(m.quote.media) } : null,
      },
    }
  })
}

const CURSOR_PREFIX = 'e1:'

/** Opaque sync cursor over the user's event seq. */
export const encodeCursor = (seq: number): string => Buffer.from(`${CURSOR_PREFIX}${seq}`).toString('base64url')

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0
  const text = Buffer.from(cursor, 'base64url').toString()
  const seq = Number(text.slice(CURSOR_PREFIX.length))
  if (!text.startsWith(CURSOR_PREFIX) || !Number.isSafeInteger(seq) || seq < 0) throw badRequest('INVALID_CURSOR', 'cursor is not valid')
  return seq
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u

/** One grapheme that is an emoji (flags, keycaps, ZWJ sequences and skin tones included). */
export function assertEmoji(emoji: string): void {
  const graphemes = [...segmenter.segment(emoji)]
  if (emoji.length > 32 || graphemes.length !== 1 || !EMOJI.test(emoji))
    throw badRequest('INVALID_EMOJI', 'reaction must be a single emoji')
}
