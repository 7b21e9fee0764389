import { Comment, CommentPage, CreateCommentBody, IdParams, SocialPageQuery, UpdateCommentBody, VoteBody, VoteResult } from '@sm/contracts'
import type { App } from '@sm/platform'
import type { CommentsService } from '../services/comments.service.ts'

const secured = [{ bearer: [] }]
const tags = ['comments']

/** Comments on posts, one level of replies, votes (API.md › Posts, votes, comments). */
export async function commentsRoutes(app: App, { comments }: { comments: CommentsService }) {
  app.get(
    '/posts/:id/comments',
    { onRequest: app.identify, schema: { tags, params: IdParams, querystring: SocialPageQuery, response: { 200: CommentPage } } },
    async (request) => comments.list(request.params.id, request.user?.id, request.query),
  )

  app.post(
    '/posts/:id/comments',
    {
      onRequest: app.authenticate,
      schema: { tags, security: secured, params: IdParams, body: CreateCommentBody, response: { 201: Comment } },
    },
    async (request, reply) => reply.status(201).send(await comments.create(request.user, request.params.id, request.body, request.id)),
  )

  app.patch(
    '/comments/:id',
    {
      onRequest: app.authenticate,
      schema: { tags, security: secured, params: IdParams, body: UpdateCommentBody, response: { 200: Comment } },
    },
    async (request) => comments.update(request.user, request.params.id, request.body.text),
  )

  app.delete(
    '/comments/:id',
    { onRequest: app.authenticate, schema: { tags, security: secured, params: IdParams } },
    async (request, reply) => {
      await comments.delete(request.user, request.params.id)
      return reply.status(204).send()
    },
  )

  app.put(
    '/comments/:id/vote',
    { onRequest: app.authenticate, schema: { tags, security: secured, params: IdParams, body: VoteBody, response: { 200: VoteResult } } },
    async (request) => comments.vote(request.user, request.params.id, request.body.value),
  )
}
