import {
  ErrorBody,
  HashtagSearchPage,
  PostSearchPage,
  SearchQuery,
  type SearchQuery as SearchQueryType,
  TrendingHashtags,
  TrendingQuery,
  UserSearchPage,
} from '@sm/contracts'
import type { App } from '@sm/platform'
import type { SearchService } from '../services/search.service.ts'

const errors = { 400: ErrorBody, 503: ErrorBody }

/** The schema's default fills `limit` in; the fallback only keeps the types honest. */
const page = (query: SearchQueryType) => ({ q: query.q, limit: query.limit ?? 20, cursor: query.cursor })

/** API.md › Search: public routes (no token), every one bounded in input size and time. */
export async function searchRoutes(app: App, { search }: { search: SearchService }) {
  app.get(
    '/search/users',
    {
      schema: {
        tags: ['search'],
        summary: 'Users by username/nickname: exact username first, then prefixes, then fuzzy matches',
        querystring: SearchQuery,
        response: { 200: UserSearchPage, ...errors },
      },
    },
    async (request) => search.users(page(request.query)),
  )

  app.get(
    '/search/posts',
    {
      schema: {
        tags: ['search'],
        summary: 'Posts by full text (last word as a prefix; `#tag` terms match hashtags), by relevance blended with recency',
        querystring: SearchQuery,
        response: { 200: PostSearchPage, ...errors },
      },
    },
    async (request) => search.posts(page(request.query)),
  )

  app.get(
    '/search/hashtags',
    {
      schema: {
        tags: ['search'],
        summary: 'Hashtags by prefix with their live post counts, most used first',
        querystring: SearchQuery,
        response: { 200: HashtagSearchPage, ...errors },
      },
    },
    async (request) => search.hashtags(page(request.query)),
  )

  app.get(
    '/search/hashtags/trending',
    {
      schema: {
        tags: ['search'],
        summary: 'The hashtags on the most posts created in the last `hours` (default 24)',
        querystring: TrendingQuery,
        response: { 200: TrendingHashtags, ...errors },
      },
    },
    async (request) => search.trending({ hours: request.query.hours ?? 24, limit: request.query.limit ?? 10 }),
  )
}
