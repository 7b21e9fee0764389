import {
  ChatMessage,
  ChatMessageDetail,
  DeleteMessageQuery,
  EditMessageBody,
  IdParams,
  ReactionParams,
  ReactionsReply,
  SendMessageBody,
} from '@sm/contracts'
import type { App } from '@sm/platform'
import type { ChatService } from '../services/chat.service.ts'

const secured = { tags: ['chat'], security: [{ bearer: [] }] }

/** Messages over REST: the same rules as the socket's frames (which most clients use). */
export async function messageRoutes(app: App, { chat }: { chat: ChatService }) {
  app.addHook('preHandler', app.authenticate)

  // 201 for a new message; a retried clientId answers 200 with the original.
  app.post(
    '/chat/messages',
    { schema: { ...secured, body: SendMessageBody, response: { 200: ChatMessage, 201: ChatMessage } } },
    async (request, reply) => {
      const { message, duplicate } = await chat.messages.send({ id: request.user.id, username: request.user.username }, request.body)
      return reply.status(duplicate ? 200 : 201).send(message)
    },
  )

  app.get('/chat/messages/:id', { schema: { ...secured, params: IdParams, response: { 200: ChatMessageDetail } } }, async (request) =>
    chat.queries.detail(request.user.id, request.params.id),
  )

  app.patch(
    '/chat/messages/:id',
    { schema: { ...secured, params: IdParams, body: EditMessageBody, response: { 200: ChatMessage } } },
    async (request) => chat.messages.edit(request.user.id, request.params.id, request.body.text),
  )

  app.delete(
    '/chat/messages/:id',
    { schema: { ...secured, params: IdParams, querystring: DeleteMessageQuery } },
    async (request, reply) => {
      await chat.messages.remove(request.user.id, request.params.id, request.query.scope)
      return reply.status(204).send()
    },
  )

  app.put(
    '/chat/messages/:id/reactions/:emoji',
    { schema: { ...secured, params: ReactionParams, response: { 200: ReactionsReply } } },
    async (request) => chat.messages.react(request.user.id, request.params.id, request.params.emoji, 'add'),
  )

  app.delete(
    '/chat/messages/:id/reactions/:emoji',
    { schema: { ...secured, params: ReactionParams, response: { 200: ReactionsReply } } },
    async (request) => chat.messages.react(request.user.id, request.params.id, request.params.emoji, 'remove'),
  )
}
