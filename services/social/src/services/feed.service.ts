import type { Post } from '@sm/contracts'
import type { Log } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import type { Breaker } from '../lib/breaker.ts'
import { type Cursor, decodeCursor, encodeCursor } from '../lib/cursor.ts'
import { timeOfId } from '../lib/ids.ts'
import { type FeedWindowRow, findFeedKeysBefore, findFeedWindow, type PostView } from '../repositories/posts.repository.ts'
import type { PostsService } from './posts.service.ts'
import type { TimelineStore } from './timeline.store.ts'

export interface FeedDeps {
  db: Kysely<SocialDatabase>
  log: Log
  /** Shared with the view counter: one Redis outage, one decision. */
  breaker: Breaker
  timelines: TimelineStore
  posts: PostsService
}

const keyOf = (id: string): Cursor => ({ id, createdAt: timeOfId(id) })
const MAX_ROUNDS = 3

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
    let cursor = decodeCursor(query.cursor)
    const limit = query.limit ?? 20
    const rows: PostView[] = []
    // Ids whose post vanished (deleted, author unfollowed) since they were listed are skipped;
    // a few more rounds fill the page so it is not short for that reason.
    for (let round = 1; ; round++) {
      const need = limit - rows.length
      const { ids, merge } = await this.#candidates(userId, cursor, need + 1)
      const window = await findFeedWindow(this.#deps.db, { userId, ids, merge, cursor, limit: need + 1 })
      const page = window.slice(0, need)
      // The join re-checks the follow, so an unfollow is honoured even before its event is consumed.
      rows.push(...page.filter((row): row is FeedWindowRow & PostView => row.id !== undefined && row.id !== null))
      const last = page.at(-1)?.windowId
      if (window.length <= need || !last) return { items: await this.#deps.posts.present(rows), nextCursor: null }
      cursor = keyOf(last)
      if (rows.length >= limit || round >= MAX_ROUNDS) {
        return { items: await this.#deps.posts.present(rows), nextCursor: encodeCursor(cursor.createdAt, cursor.id) }
      }
    }
  }

  /** Candidate ids after the cursor, and whether very-followed authors still need merging in. */
  async #candidates(userId: string, cursor: Cursor | undefined, want: number): Promise<{ ids: string[]; merge: boolean }> {
    const { db, log, breaker } = this.#deps
    const ids = await breaker.run(
      () => this.#fromTimeline(userId, cursor, want),
      (err) => {
        log.warn({ err, userId }, 'timeline unavailable; serving the feed from Postgres')
        return undefined
      },
    )
    if (ids) return { ids, merge: true }
    // No usable timeline (being built by someone else, or Redis trouble): Postgres alone, every author included.
    return { ids: (await findFeedKeysBefore(db, userId, cursor, want)).map((k) => k.id), merge: false }
  }

  async #fromTimeline(userId: string, cursor: Cursor | undefined, want: number): Promise<string[] | undefined> {
    const { db, timelines } = this.#deps
    let timeline = await timelines.read(userId, cursor?.id, want)
    if (timeline.state === 'missing') {
      await this.#build(userId)
      timeline = await timelines.read(userId, cursor?.id, want)
    }
    if (timeline.state === 'missing' || timeline.state === 'building') return undefined
    const ids = [...timeline.ids]
    if (timeline.state === 'truncated' && ids.length < want) {
      const last = ids.at(-1)
      const boundary = last ? keyOf(last) : cursor
      ids.push(...(await findFeedKeysBefore(db, userId, boundary, want - ids.length)).map((k) => k.id))
    }
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
