// API.md › Search: query strings and replies of the search service.
import { type Static, Type } from 'typebox'
import { MediaRef, Page, UserSummary, Uuid } from '../common.ts'

/** Longest accepted `q`: longer is a 400 (a search box never needs more, a hostile caller does). */
export const SEARCH_QUERY_MAX = 200

const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 })
const Cursor = Type.String({ maxLength: 512 })

/** `q` is required and bounded; `limit`/`cursor` as everywhere (keyset, opaque cursor). */
export const SearchQuery = Type.Object({
  q: Type.String({ minLength: 1, maxLength: SEARCH_QUERY_MAX }),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
})
export type SearchQuery = Static<typeof SearchQuery>

/**
 * A post as search knows it: the subset of social's Post that the `social.post.*` events carry.
 * Counters (likes, dislikes, comments, views, shares) and `myVote` are social's live data and
 * are omitted; fetch `GET /posts/:id` for them. `author` is the author's current summary.
 */
export const SearchPost = Type.Object({
  id: Uuid,
  author: UserSummary,
  text: Type.String(),
  hashtags: Type.Array(Type.String()),
  media: Type.Array(MediaRef),
  createdAt: Type.String({ format: 'date-time' }),
  editedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})
export type SearchPost = Static<typeof SearchPost>

export const UserSearchPage = Page(UserSummary)
export type UserSearchPage = Static<typeof UserSearchPage>

export const PostSearchPage = Page(SearchPost)
export type PostSearchPage = Static<typeof PostSearchPage>

/** `posts`: live posts carrying the tag (for trending: created within the window). */
export const HashtagCount = Type.Object({ tag: Type.String(), posts: Type.Integer({ minimum: 0 }) })
export type HashtagCount = Static<typeof HashtagCount>

export const HashtagSearchPage = Page(HashtagCount)
export type HashtagSearchPage = Static<typeof HashtagSearchPage>

export const TrendingQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
  /** Window in hours, default 24 (API: "most used in the last 24 h"), at most a week. */
  hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 168, default: 24 })),
})
export type TrendingQuery = Static<typeof TrendingQuery>

export const TrendingHashtags = Type.Object({ items: Type.Array(HashtagCount) })
export type TrendingHashtags = Static<typeof TrendingHashtags>
