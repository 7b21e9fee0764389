import { ConversationPage, HistoryQuery, IdParams, MessagePage, PageQuery, ReadBody, ReadReply } from '@sm/contracts'
import type { App } from '@sm/platform'
import type { ChatService } from '../services/chat.service.ts'

const secured = { tags: ['chat'], security: [{ bearer: [] }] }

/** The caller's conversations: list, history, read cursor, clear chat. */
export async function conversationRoutes(app: App, { chat }: { chat: ChatService }) {
  app.addHook('preHandler', app.authenticate)

  app.get('/chat/conversations', { schema: { ...secured, querystring: PageQuery, response: { 200: ConversationPage } } }, async (request) =>
    chat.queries.conversations(request.user.id, request.query),
  )

  app.get(
    '/chat/conversations/:id/messages',
    { schema: { ...secured, params: IdParams, querystring: HistoryQuery, response: { 200: MessagePage } } },
    async (request) => chat.queries.history(request.user.id, request.params.id, request.query),
  )

  app.post(
    '/chat/conversations/:id/read',
    { schema: { ...secured, params: IdParams, body: ReadBody, response: { 200: ReadReply } } },
    async (request) => chat.receipts.read(request.user.id, request.params.id, request.body.seq),
  )

  app.post('/chat/conversations/:id/clear', { schema: { ...secured, params: IdParams } }, async (request, reply) => {
    await chat.receipts.clear(request.user.id, request.params.id)
    return reply.status(204).send()
  })
}
