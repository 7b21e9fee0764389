import {
  CreatePostBody,
  IdParams,
  Post,
  PostAnalytics,
  ShareAccepted,
  SharePostBody,
  UpdatePostBody,
  VoteBody,
  VoteResult,
} from '@sm/contracts'
import type { App } from '@sm/platform'
import type { AnalyticsService } from '../services/analytics.service.ts'
import type { PostsService } from '../services/posts.service.ts'
import type { SharesService } from '../services/shares.service.ts'

const secured = [{ bearer: [] }]
const tags = ['posts']

/** Posts, votes on them, shares into DMs and per-post analytics (API.md › Posts). */
export async function postsRoutes(app: App, deps: { posts: PostsService; shares: SharesService; analytics: AnalyticsService }) {
  const { posts, shares, analytics } = deps

  app.post(
    '/posts',
    { onRequest: app.authenticate, schema: { tags, security: secured, body: CreatePostBody, response: { 201: Post } } },
    async (request, reply) => reply.status(201).send(await posts.create(request.user, request.body, request.id)),
  )

  app.get('/posts/:id', { onRequest: app.identify, schema: { tags, params: IdParams, response: { 200: Post } } }, async (request) =>
    posts.view(request.params.id, request.user?.id, request.ip),
  )

  app.patch(
    '/posts/:id',
    { onRequest: app.authenticate, schema: { tags, security: secured, params: IdParams, body: UpdatePostBody, response: { 200: Post } } },
    async (request) => posts.update(request.user, request.params.id, request.body, request.id),
  )

  app.delete(
    '/posts/:id',
    { onRequest: app.authenticate, schema: { tags, security: secured, params: IdParams } },
    async (request, reply) => {
      await posts.delete(request.user, request.params.id, request.id)
      return reply.status(204).send()
    },
  )

  app.put(
    '/posts/:id/vote',
    { onRequest: app.authenticate, schema: { tags, security: secured, params: IdParams, body: VoteBody, response: { 200: VoteResult } } },
    async (request) => posts.vote(request.user, request.params.id, request.body.value),
  )

  app.post(
    '/posts/:id/share',
    {
      onRequest: app.authenticate,
      schema: { tags, security: secured, params: IdParams, body: SharePostBody, response: { 202: ShareAccepted } },
    },
    async (request, reply) => reply.status(202).send(await shares.share(request.user, request.params.id, request.body, request.id)),
  )

  app.get(
    '/posts/:id/analytics',
    { onRequest: app.authenticate, schema: { tags: ['analytics'], security: secured, params: IdParams, response: { 200: PostAnalytics } } },
    async (request) => analytics.post(request.user, request.params.id),
  )
}
