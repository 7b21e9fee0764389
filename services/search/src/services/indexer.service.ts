import type { Envelope, EventPayload, EventType } from '@sm/contracts'
import type { Transaction } from 'kysely'
import type { SearchDatabase } from '../db/database.ts'
import { adjustCounts } from '../repositories/hashtags.repository.ts'
import { findPostState, lockPost, savePost, saveTombstone } from '../repositories/posts.repository.ts'
import { upsertProfile, upsertRegistered, upsertUsername } from '../repositories/users.repository.ts'

export const USER_EVENTS = ['auth.user.registered', 'auth.user.updated', 'social.profile.updated'] as const
export const POST_EVENTS = ['social.post.created', 'social.post.updated', 'social.post.deleted'] as const
export type IndexedEvent = (typeof USER_EVENTS)[number] | (typeof POST_EVENTS)[number]
export const INDEXED_EVENTS: readonly IndexedEvent[] = [...USER_EVENTS, ...POST_EVENTS]

export const isIndexed = (type: string): type is IndexedEvent => (INDEXED_EVENTS as readonly string[]).includes(type)

/** What applying one event did to the index (for logs and tests). */
export type Outcome = 'applied' | 'stale' | 'tombstoned'

/**
 * Applies one event to the index inside the caller's transaction. Every handler is a guarded,
 * order-independent merge (usernames by auth time, profiles and posts by version, deletions
 * final), so live consumers and a rebuild's replay can interleave and still agree.
 */
export async function applyEvent(trx: Transaction<SearchDatabase>, event: Envelope<unknown>): Promise<Outcome> {
  const type = event.type as EventType
  switch (type) {
    case 'auth.user.registered':
      await upsertRegistered(trx, event.data as EventPayload<'auth.user.registered'>)
      return 'applied'
    case 'auth.user.updated':
      await upsertUsername(trx, event.data as EventPayload<'auth.user.updated'>)
      return 'applied'
    case 'social.profile.updated':
      await upsertProfile(trx, event.data as EventPayload<'social.profile.updated'>)
      return 'applied'
    case 'social.post.created':
    case 'social.post.updated':
      return writePost(trx, event.data as EventPayload<'social.post.created'>)
    case 'social.post.deleted':
      return deletePost(trx, event.data as EventPayload<'social.post.deleted'>)
    default:
      throw new Error(`search does not index ${event.type} events`)
  }
}

/** Tags as social promises them (lower-case, unique), enforced again: counts depend on it. */
const normalizeTags = (tags: string[]) => [...new Set(tags.map((tag) => tag.toLowerCase()))]

async function writePost(trx: Transaction<SearchDatabase>, post: EventPayload<'social.post.created'>): Promise<Outcome> {
  await lockPost(trx, post.postId)
  const current = await findPostState(trx, post.postId)
  if (current?.deleted) return 'tombstoned'
  if (current && current.version >= post.version) return 'stale'
  const hashtags = normalizeTags(post.hashtags)
  const before = current?.hashtags ?? []
  await savePost(trx, { ...post, hashtags })
  const deltas = new Map<string, number>()
  for (const tag of before) if (!hashtags.includes(tag)) deltas.set(tag, -1)
  for (const tag of hashtags) if (!before.includes(tag)) deltas.set(tag, 1)
  await adjustCounts(trx, deltas)
  return 'applied'
}

async function deletePost(trx: Transaction<SearchDatabase>, post: EventPayload<'social.post.deleted'>): Promise<Outcome> {
  await lockPost(trx, post.postId)
  const current = await findPostState(trx, post.postId)
  if (current?.deleted) return 'tombstoned'
  await saveTombstone(trx, post)
  await adjustCounts(trx, new Map((current?.hashtags ?? []).map((tag) => [tag, -1])))
  return 'applied'
}
