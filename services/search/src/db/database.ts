import type { ProcessedEventsTable } from '@sm/platform'
import type { Generated, Selectable } from 'kysely'

/**
 * A user as search knows one. The username comes from auth's events (the source of truth),
 * guarded by auth's timestamp; nickname and avatar come from social's profile events, guarded
 * by the profile `version`.
 */
export interface UsersTable {
  userId: string
  username: string
  nickname: string | null
  avatarUrl: string | null
  /** Time of the auth event that set `username`; null while only social has named the user. */
  usernameAt: Date | null
  /** Highest `social.profile.updated` version applied; 0 before any. */
  profileVersion: Generated<number>
  updatedAt: Generated<Date>
  /** Generated: `fold(username)` (lower-case, accents removed), what searches match and score. */
  usernameFolded: Generated<string>
  /** Generated: `fold(nickname)`. */
  nicknameFolded: Generated<string | null>
}

/**
 * One post, or its tombstone: a deleted post keeps its row (`deleted`, text and tags cleared)
 * so an older event arriving late can never bring it back.
 */
export interface PostsTable {
  postId: string
  authorId: string
  /** The author summary carried by the latest applied event (used when the user row is missing). */
  author: unknown
  text: string
  hashtags: string[]
  media: unknown
  createdAt: Date
  editedAt: Date | null
  version: number
  deleted: Generated<boolean>
  /** Generated: `to_tsvector('simple', fold(text))`; never written. */
  document: Generated<string>
  updatedAt: Generated<Date>
}

/** Live posts per tag, kept in the same transaction as the post changes. */
export interface HashtagsTable {
  tag: string
  posts: number
}

export interface SearchDatabase {
  users: UsersTable
  posts: PostsTable
  hashtags: HashtagsTable
  processedEvents: ProcessedEventsTable
}

export type UserRow = Selectable<UsersTable>
export type PostRow = Selectable<PostsTable>
