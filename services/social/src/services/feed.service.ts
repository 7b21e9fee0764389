import type { Post } from '@sm/contracts'
import type { Log } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import type { Breaker } from '../lib/breaker.ts'
import { type Cursor, decodeCursor, encodeCursor } from '../lib/cursor.ts'
import { timeOfId } from '../lib/ids.ts'
import { type FeedWindowRow, findFeedKeysBefore, findFeedWindow, type PostView } from '../repositories/posts.repository.ts'
import type { PostsService } from './posts.service.ts'
import type { TimelineRead, TimelineStore } from './timeline.store.ts'

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
/** Ids a deep read appends to a truncated timeline at once: ten pages of 20 per Postgres query. */
const EXTEND_CHUNK = 200
/** An extended timeline stops growing once it holds this many times the cap (deeper pages read Postgres each time). */
const EXTEND_LIMIT = 4

interface Candidates {
  ids: string[]
  fallback: { before: Cursor | undefined } | undefined
  merge: boolean
}

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
      const candidates = await this.#candidates(userId, cursor, need + 1)
      const window = await findFeedWindow(this.#deps.db, { userId, ...candidates, cursor, limit: need + 1 })
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

  /** Where a page's candidates come from: timeline ids, Postgres below a point, merged authors. */
  async #candidates(userId: string, cursor: Cursor | undefined, want: number): Promise<Candidates> {
    const { log, breaker } = this.#deps
    const fromTimeline = await breaker.run(
      () => this.#fromTimeline(userId, cursor, want),
      (err) => {
        log.warn({ err, userId }, 'timeline unavailable; serving the feed from Postgres')
        return undefined
      },
    )
    // No usable timeline (being built by someone else, or Redis trouble): Postgres alone, every author included.
    return fromTimeline ?? { ids: [], fallback: { before: cursor }, merge: false }
  }

  async #fromTimeline(userId: string, cursor: Cursor | undefined, want: number): Promise<Candidates | undefined> {
    const { timelines } = this.#deps
    let timeline = await timelines.read(userId, cursor?.id, want)
    if (timeline.state === 'missing') {
      await this.#build(userId)
      timeline = await timelines.read(userId, cursor?.id, want)
    }
    if (timeline.state === 'missing' || timeline.state === 'building') return undefined
    let ids = timeline.ids
    let exhausted = timeline.state === 'complete' || ids.length >= want
    if (!exhausted) {
      // Past the end of a truncated timeline: continue it from Postgres a chunk at a time, so
      // the next pages are Redis reads again rather than a Postgres merge per page.
      const more = await this.#extend(userId, timeline, cursor)
      if (more) {
        ids = [...ids, ...more.ids].slice(0, want)
        exhausted = more.exhausted || ids.length >= want
      }
    }
    // Still short (the cursor lies below the stored ids, or the set is as long as it may grow):
    // this page continues from Postgres below its last id: no depth limit.
    const last = ids.at(-1)
    const fallback = exhausted ? undefined : { before: last ? keyOf(last) : cursor }
    return { ids, fallback, merge: true }
  }

  /**
   * The feed's next `EXTEND_CHUNK` posts below a truncated timeline's oldest id, appended to it.
   * Only when the page continues from that end (a cursor below it, e.g. after a follow trimmed
   * the set back to the cap, leaves a gap the chunk would not cover).
   */
  async #extend(
    userId: string,
    timeline: TimelineRead,
    cursor: Cursor | undefined,
  ): Promise<{ ids: string[]; exhausted: boolean } | undefined> {
    const { db, timelines, log } = this.#deps
    const oldest = timeline.end?.oldest
    if (!oldest || (cursor && cursor.id < oldest) || (timeline.end?.size ?? 0) >= timelines.cap * EXTEND_LIMIT) return undefined
    try {
      const keys = await findFeedKeysBefore(db, userId, keyOf(oldest), EXTEND_CHUNK)
      const ids = keys.map((k) => k.id)
      const exhausted = ids.length < EXTEND_CHUNK
      await timelines.extend(userId, oldest, ids, exhausted)
      return { ids, exhausted }
    } catch (err) {
      // The page is still served: from the per-page Postgres fallback.
      log.warn({ err, userId }, 'timeline extension failed')
      return undefined
    }
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
