import type { HashtagSearchPage, PostSearchPage, SearchPost, TrendingHashtags, UserSearchPage } from '@sm/contracts'
import { HttpError } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SearchDatabase } from '../db/database.ts'
import { searchTags, trendingTags } from '../repositories/hashtags.repository.ts'
import { type PostHit, searchPosts } from '../repositories/posts.repository.ts'
import { searchUsers } from '../repositories/users.repository.ts'
import {
  assertUuid,
  decodeCursor,
  encodeCursor,
  escapeLike,
  invalidCursor,
  isTag,
  parsePostQuery,
  parseTagQuery,
  parseUserQuery,
} from './query.ts'

export interface SearchOptions {
  /** Read-only connections with the statement timeout and search path set (db/reader.ts). */
  reader: Kysely<SearchDatabase>
  /** The same, with prepared statements: for word searches only (see ReaderOptions.prepared). */
  preparedReader: Kysely<SearchDatabase>
}

interface PageArgs {
  q: string
  limit: number
  cursor?: string | undefined
}

const empty = { items: [], nextCursor: null }

const MAX_INT4 = 2 ** 31 - 1
const LAST_INSTANT = Date.UTC(10_000, 0, 1)

/** Postgres' code for a statement cancelled by statement_timeout. */
const QUERY_CANCELED = '57014'

/** Read side: parses hostile input into safe terms, runs one bounded query, pages by keyset. */
export class SearchService {
  readonly #opts: SearchOptions

  constructor(opts: SearchOptions) {
    this.#opts = opts
  }

  async users({ q, limit, cursor }: PageArgs): Promise<UserSearchPage> {
    const query = parseUserQuery(q)
    const after = cursor ? decodeCursor<{ s: number; id: string }>(cursor, 'users', query, { s: 'number', id: 'string' }) : undefined
    if (!query) return empty
    const rows = await this.#bounded((reader) =>
      searchUsers(reader, {
        query,
        likePrefix: escapeLike(query),
        limit: limit + 1,
        after: after && { score: after.s, id: assertUuid(after.id) },
      }),
    )
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return {
      items: page.map((row) => ({ id: row.userId, username: row.username, nickname: row.nickname, avatarUrl: row.avatarUrl })),
      nextCursor: rows.length > limit && last ? encodeCursor('users', query, { s: last.score, id: last.userId }) : null,
    }
  }

  async posts({ q, limit, cursor }: PageArgs): Promise<PostSearchPage> {
    const { words, tags } = parsePostQuery(q)
    const key = JSON.stringify([words, tags])
    const after = cursor
      ? decodeCursor<{ s: number; id: string; at: string }>(cursor, 'posts', key, { s: 'number', id: 'string', at: 'string' })
      : undefined
    if (words.length === 0 && tags.length === 0) return empty
    // A tag-only search's position is a creation time in epoch microseconds (posts.repository.ts).
    if (after && words.length === 0 && !(Number.isInteger(after.s) && after.s >= 0 && after.s < LAST_INSTANT * 1000)) {
      throw invalidCursor()
    }
    const asOf = after ? parseTime(after.at) : new Date()
    // Word searches plan the same whatever the words: prepared (see ReaderOptions.prepared).
    const rows = await this.#bounded(
      (reader) =>
        searchPosts(reader, { words, tags, asOf, limit: limit + 1, after: after && { score: after.s, id: assertUuid(after.id) } }),
      words.length > 0 ? this.#opts.preparedReader : this.#opts.reader,
    )
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return {
      items: page.map(toSearchPost),
      nextCursor:
        rows.length > limit && last ? encodeCursor('posts', key, { s: last.score, id: last.postId, at: asOf.toISOString() }) : null,
    }
  }

  async hashtags({ q, limit, cursor }: PageArgs): Promise<HashtagSearchPage> {
    const prefix = parseTagQuery(q)
    const after = cursor
      ? decodeCursor<{ p: number; t: string }>(cursor, 'hashtags', prefix ?? '', { p: 'number', t: 'string' })
      : undefined
    if (!prefix) return empty
    // Both go back into SQL: an int4 count and a tag (no NUL, nothing a tag cannot hold).
    if (after && (!Number.isInteger(after.p) || after.p < 0 || after.p > MAX_INT4 || !isTag(after.t))) throw invalidCursor()
    const rows = await this.#bounded((reader) =>
      searchTags(reader, { likePrefix: escapeLike(prefix), limit: limit + 1, after: after && { posts: after.p, tag: after.t } }),
    )
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return {
      items: page,
      nextCursor: rows.length > limit && last ? encodeCursor('hashtags', prefix, { p: last.posts, t: last.tag }) : null,
    }
  }

  async trending(args: { hours: number; limit: number }): Promise<TrendingHashtags> {
    return { items: await this.#bounded((reader) => trendingTags(reader, args)) }
  }

  /**
   * Runs `work` on the reader, whose statements are read-only and cancelled by Postgres after
   * the timeout (a cancelled search is a 503 SEARCH_TIMEOUT, never a 500 or a query left running).
   */
  async #bounded<T>(work: (reader: Kysely<SearchDatabase>) => Promise<T>, reader = this.#opts.reader): Promise<T> {
    return runBounded(reader, work)
  }
}

/** Runs `work` on a reader (db/reader.ts), mapping a statement cut off by its timeout to a 503. */
export async function runBounded<T>(reader: Kysely<SearchDatabase>, work: (reader: Kysely<SearchDatabase>) => Promise<T>): Promise<T> {
  try {
    return await work(reader)
  } catch (error) {
    if ((error as { code?: string }).code === QUERY_CANCELED) {
      throw new HttpError(503, 'SEARCH_TIMEOUT', 'the search took too long; try fewer or longer words', { 'retry-after': '1' })
    }
    throw error
  }
}

/** A cursor's reference time: a real instant Postgres can hold (years 1970 to 9999). */
function parseTime(value: string): Date {
  const time = new Date(value)
  if (!(time.getTime() >= 0 && time.getTime() < LAST_INSTANT)) throw invalidCursor()
  return time
}

/**
 * The author as the index knows them now: the username from the users row (auth's, so renames
 * show at once); nickname and avatar from it too once social has sent a profile, else from
 * the post event (social's view at write time beats the sign-up nickname). An author the
 * index has never heard of is shown as the event described them.
 */
function toSearchPost(row: PostHit): SearchPost {
  const snapshot = row.author ?? { id: row.authorId, username: '', nickname: null, avatarUrl: null }
  const fromProfile = (row.profileVersion ?? 0) > 0
  const author =
    row.username === null
      ? snapshot
      : {
          id: row.authorId,
          username: row.username,
          nickname: fromProfile ? row.nickname : (snapshot.nickname ?? row.nickname),
          avatarUrl: fromProfile ? row.avatarUrl : snapshot.avatarUrl,
        }
  return {
    id: row.postId,
    author,
    text: row.text,
    hashtags: row.hashtags,
    media: row.media,
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt ? row.editedAt.toISOString() : null,
  }
}
