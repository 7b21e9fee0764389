import type { MediaKind, MediaPurpose } from '@sm/contracts'
import type { OutboxTable } from '@sm/platform'
import type { Generated, Insertable, Selectable } from 'kysely'

export interface MediaTable {
  id: string
  ownerId: string
  purpose: MediaPurpose
  kind: MediaKind
  mime: string
  size: number
  width: number | null
  height: number | null
  /** Path under MEDIA_ROOT (`posts_media/<random>`): random, never derived from the client's name. */
  storageKey: string
  /** Who attached it (`post:<id>`, `avatar:<userId>`, `chat:<conversationId>`); null = unclaimed. */
  claimedRef: string | null
  claimedAt: Date | null
  createdAt: Generated<Date>
}

/** Users besides the owner who may read a chat medium (the conversation's members). */
export interface MediaReadersTable {
  mediaId: string
  userId: string
}

/** Service-wide settings shared by every instance (the URL signing secret). */
export interface SettingsTable {
  key: string
  value: string
}

export interface MediaDatabase {
  media: MediaTable
  mediaReaders: MediaReadersTable
  settings: SettingsTable
  outbox: OutboxTable
}

export type Media = Selectable<MediaTable>
export type NewMedia = Insertable<MediaTable>
