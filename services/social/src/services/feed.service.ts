import type { Post } from '@sm/contracts'
import type { Kysely } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import { type Cursor, decodeCursor, encodeCursor } from '../lib/cursor.ts'
import { timeOfId } from '../lib/ids.ts'
import { findFeedKeysBefore, findMergedAuthorKeys } from '../repositories/posts.repository.ts'
import type { PostsService } from './posts.service.ts'
import type { TimelineStore } from './timeline.store.ts'

export interface FeedDeps {
  db: Kysely<SocialDatabase>
  timelines: TimelineStore
  posts: PostsService
}

const keyOf = (id: string): Cursor => ({ id, createdAt: timeOfId(id) })

/**
 * The home feed: the user's precomputed Redis timeline (fan-out on write, maintained by the
 * timeline consumer), Postgres beyond its cap, and the posts of very-followed authors (never
 * fanned out) merged in at read time. Ids are UUID v7 and `created_at` is the id's own
 * instant, so every source sorts by id alone and one cursor pages across all of them.
 */
export class FeedService {
  readonly #deps: FeedDeps

  constructor(deps: FeedDeps) {
    this.#deps = deps
  }

  async page(userId: string, query: { limit?: number; cursor?: string }): Promise<{ items: Post[]; nextCursor: string | null }> {
    const cursor = decodeCursor(query.cursor)
    const limit = query.limit ?? 20
    const want = limit + 1
    const candidates = await this.#candidates(userId, cursor, want)
    const window = [...new Set(candidates)].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)).slice(0, want)
    const pageIds = window.slice(0, limit)
    const last = pageIds.at(-1)
    const nextCursor = window.length > limit && last ? encodeCursor(timeOfId(last), last) : null
    // Hydration re-checks the follow, so an unfollow is honoured even before its event is consumed.
    return { items: await this.#deps.posts.hydrate(pageIds, userId, userId), nextCursor }
  }

  async #candidates(userId: string, cursor: Cursor | undefined, want: number): Promise<string[]> {
    const { db, timelines } = this.#deps
    let timeline = await timelines.read(userId, cursor?.id, want)
    if (timeline.state === 'missing') {
      await this.#build(userId)
      timeline = await timelines.read(userId, cursor?.id, want)
    }
    if (timeline.state === 'missing' || timeline.state === 'building') {
      // Someone else is building it: answer from Postgres alone this time.
      return (await findFeedKeysBefore(db, userId, cursor, want)).map((k) => k.id)
    }
    const ids = [...timeline.ids]
    if (timeline.state === 'truncated' && ids.length < want) {
      const last = ids.at(-1)
      const boundary = last ? keyOf(last) : cursor
      ids.push(...(await findFeedKeysBefore(db, userId, boundary, want - ids.length)).map((k) => k.id))
    }
    ids.push(...(await findMergedAuthorKeys(db, userId, cursor, want)).map((k) => k.id))
    return ids
  }

  /** Fills a missing timeline from Postgres: the newest `cap` posts of the user and their follows. */
  async #build(userId: string): Promise<void> {
    const { db, timelines } = this.#deps
    if (!(await timelines.begin(userId))) return
    const keys = await findFeedKeysBefore(db, userId, undefined, timelines.cap)
    await timelines.finish(
      userId,
      keys.map((k) => k.id),
      keys.length >= timelines.cap,
    )
  }
}
