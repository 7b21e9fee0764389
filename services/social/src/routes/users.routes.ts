import { Page, PostPage, Profile, SocialPageQuery, UpdateProfileBody, UsernameParams, UserSummary } from '@sm/contracts'
import type { App } from '@sm/platform'
import type { FollowsService } from '../services/follows.service.ts'
import type { PostsService } from '../services/posts.service.ts'
import type { ProfilesService } from '../services/profiles.service.ts'

const secured = [{ bearer: [] }]
const tags = ['profiles']

/** Profiles, follows and a user's posts (API.md › Profiles and follows). */
export async function usersRoutes(app: App, deps: { profiles: ProfilesService; follows: FollowsService; posts: PostsService }) {
  const { profiles, follows, posts } = deps

  app.get(
    '/users/me',
    { onRequest: app.authenticate, schema: { tags, security: secured, response: { 200: Profile } } },
    async (request) => {
      await profiles.ensure(request.user, request.id)
      return profiles.byId(request.user.id, request.user.id)
    },
  )

  app.patch(
    '/users/me',
    { onRequest: app.authenticate, schema: { tags, security: secured, body: UpdateProfileBody, response: { 200: Profile } } },
    async (request) => profiles.update(request.user, request.body, request.id),
  )

  app.delete('/users/me/avatar', { onRequest: app.authenticate, schema: { tags, security: secured } }, async (request, reply) => {
    await profiles.update(request.user, { avatarMediaId: null }, request.id)
    return reply.status(204).send()
  })

  app.get(
    '/users/:username',
    { onRequest: app.identify, schema: { tags, params: UsernameParams, response: { 200: Profile } } },
    async (request) => profiles.byUsername(request.params.username, request.user?.id),
  )

  app.put(
    '/users/:username/follow',
    { onRequest: app.authenticate, schema: { tags, security: secured, params: UsernameParams } },
    async (request, reply) => {
      await follows.follow(request.user, request.params.username, request.id)
      return reply.status(204).send()
    },
  )

  app.delete(
    '/users/:username/follow',
    { onRequest: app.authenticate, schema: { tags, security: secured, params: UsernameParams } },
    async (request, reply) => {
      await follows.unfollow(request.user, request.params.username, request.id)
      return reply.status(204).send()
    },
  )

  for (const side of ['followers', 'following'] as const) {
    app.get(
      `/users/:username/${side}`,
      { schema: { tags, params: UsernameParams, querystring: SocialPageQuery, response: { 200: Page(UserSummary) } } },
      async (request) => follows.list(side, request.params.username, request.query),
    )
  }

  app.get(
    '/users/:username/posts',
    {
      onRequest: app.identify,
      schema: { tags: ['posts'], params: UsernameParams, querystring: SocialPageQuery, response: { 200: PostPage } },
    },
    async (request) => posts.listByUser(request.params.username, request.user?.id, request.query),
  )
}
