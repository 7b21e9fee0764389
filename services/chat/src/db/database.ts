import type { MediaRef, MessageSnapshot, PostSnapshot } from '@sm/contracts'
import type { OutboxTable, ProcessedEventsTable } from '@sm/platform'
import type { Generated, Selectable } from 'kysely'
import type { Static } from 'typebox'

export interface UsersTable {
  id: string
  username: string
  nickname: string | null
  avatarUrl: string | null
  profileVersion: Generated<number>
  known: Generated<boolean>
  updatedAt: Generated<Date>
}

export interface ConversationsTable {
  id: string
  userA: string
  userB: string
  lastSeq: Generated<number>
  lastActivityAt: Generated<Date>
  createdAt: Generated<Date>
}

export interface MembersTable {
  conversationId: string
  userId: string
  peerId: string
  readSeq: Generated<number>
  readAt: Date | null
  deliveredSeq: Generated<number>
  deliveredAt: Date | null
  clearedSeq: Generated<number>
}

export interface MessagesTable {
  id: string
  conversationId: string
  seq: number
  senderId: string
  clientId: string
  kind: string
  text: string | null
  mediaId: string | null
  media: MediaRef | null
  post: Static<typeof PostSnapshot> | null
  replyToId: string | null
  replyTo: MessageSnapshot | null
  quoteId: string | null
  quote: MessageSnapshot | null
  createdAt: Generated<Date>
  editedAt: Date | null
  deletedAt: Date | null
  deliveredAt: Date | null
  readAt: Date | null
}

export interface MessageEditsTable {
  id: Generated<number>
  messageId: string
  previousText: string
  text: string
  editedAt: Generated<Date>
}

export interface ReactionsTable {
  messageId: string
  userId: string
  emoji: string
  createdAt: Generated<Date>
}

export interface HiddenMessagesTable {
  userId: string
  messageId: string
  hiddenAt: Generated<Date>
}

export interface EventCountersTable {
  userId: string
  lastSeq: Generated<number>
}

export interface EventsTable {
  userId: string
  seq: number
  type: string
  payload: unknown
  createdAt: Generated<Date>
}

export interface ChatDatabase {
  users: UsersTable
  conversations: ConversationsTable
  members: MembersTable
  messages: MessagesTable
  messageEdits: MessageEditsTable
  reactions: ReactionsTable
  hiddenMessages: HiddenMessagesTable
  eventCounters: EventCountersTable
  events: EventsTable
  outbox: OutboxTable
  processedEvents: ProcessedEventsTable
}

export type UserRow = Selectable<UsersTable>
export type ConversationRow = Selectable<ConversationsTable>
export type MemberRow = Selectable<MembersTable>
export type MessageRow = Selectable<MessagesTable>
