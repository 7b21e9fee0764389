import { PresenceQuery, PresenceReply, SyncQuery, SyncReply } from '@sm/contracts'
import { type App, badRequest } from '@sm/platform'
import type { ChatService } from '../services/chat.service.ts'
import type { PresenceStore } from '../services/presence.service.ts'

const secured = { tags: ['chat'], security: [{ bearer: [] }] }
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Catch-up from the event log, and presence lookups. */
export async function syncRoutes(app: App, { chat, presence }: { chat: ChatService; presence: PresenceStore }) {
  app.addHook('preHandler', app.authenticate)

  app.get('/chat/sync', { schema: { ...secured, querystring: SyncQuery, response: { 200: SyncReply } } }, async (request) =>
    chat.queries.sync(request.user.id, request.query.since, request.query.limit),
  )

  app.get('/chat/presence', { schema: { ...secured, querystring: PresenceQuery, response: { 200: PresenceReply } } }, async (request) => {
    const ids = [...new Set(request.query.userIds.split(',').map((id) => id.trim()))].filter((id) => id !== '')
    if (ids.length === 0 || ids.length > 100) throw badRequest('VALIDATION', 'userIds: 1 to 100 comma-separated ids')
    if (!ids.every((id) => UUID.test(id))) throw badRequest('VALIDATION', 'userIds must be UUIDs')
    return { items: await presence.lookup(ids) }
  })
}
