import { MyAnalytics, PostPage, SocialPageQuery, TagParams } from '@sm/contracts'
import type { App } from '@sm/platform'
import type { AnalyticsService } from '../services/analytics.service.ts'
import type { FeedService } from '../services/feed.service.ts'
import type { PostsService } from '../services/posts.service.ts'

const secured = [{ bearer: [] }]

/** The home feed, hashtag pages and the caller's analytics. */
export async function feedRoutes(app: App, deps: { feed: FeedService; posts: PostsService; analytics: AnalyticsService }) {
  const { feed, posts, analytics } = deps

  app.get(
    '/feed',
    {
      onRequest: app.authenticate,
      schema: { tags: ['feed'], security: secured, querystring: SocialPageQuery, response: { 200: PostPage } },
    },
    async (request) => feed.page(request.user.id, request.query),
  )

  app.get(
    '/hashtags/:tag/posts',
    {
      onRequest: app.identify,
      schema: { tags: ['hashtags'], params: TagParams, querystring: SocialPageQuery, response: { 200: PostPage } },
    },
    async (request) => posts.listByTag(request.params.tag, request.user?.id, request.query),
  )

  app.get(
    '/me/analytics',
    { onRequest: app.authenticate, schema: { tags: ['analytics'], security: secured, response: { 200: MyAnalytics } } },
    async (request) => analytics.mine(request.user),
  )
}
