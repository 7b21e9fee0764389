import { randomBytes, randomUUID } from 'node:crypto'
import { TicketReply } from '@sm/contracts'
import { type App, type Redis, unauthorized } from '@sm/platform'
import type { FastifyRequest } from 'fastify'
import type { ChatConfig } from '../config.ts'
import { Connection } from '../ws/connection.ts'
import type { Hub } from '../ws/hub.ts'

export interface SocketRouteOptions {
  hub: Hub
  redis: Redis
  config: ChatConfig
}

/**
 * `GET /chat/ws` and `POST /chat/ws-ticket`. The upgrade is authenticated here too (a service
 * never trusts the edge): a bearer token, or a single-use ticket taken from Redis with GETDEL.
 * A bad credential gets an HTTP 401 before any socket opens.
 */
export async function socketRoutes(app: App, { hub, redis, config }: SocketRouteOptions) {
  app.post(
    '/chat/ws-ticket',
    { preHandler: app.authenticate, schema: { tags: ['chat'], security: [{ bearer: [] }], response: { 200: TicketReply } } },
    async (request) => {
      const ticket = randomBytes(32).toString('base64url')
      const user = request.user
      await redis.set(`ws-ticket:${ticket}`, JSON.stringify({ id: user.id, username: user.username }), 'EX', config.WS_TICKET_TTL_S)
      return { ticket, expiresIn: config.WS_TICKET_TTL_S }
    },
  )

  async function authenticateUpgrade(request: FastifyRequest) {
    if (request.headers.authorization) return app.authenticate(request, undefined as never)
    const ticket = (request.query as { ticket?: unknown }).ticket
    if (typeof ticket !== 'string' || ticket === '' || ticket.length > 200) throw unauthorized('missing bearer token or ticket')
    const stored = await redis.getdel(`ws-ticket:${ticket}`)
    if (!stored) throw unauthorized('ticket is invalid, expired or already used', 'INVALID_TICKET')
    const user = JSON.parse(stored) as { id: string; username: string }
    request.user = { id: user.id, username: user.username, tokenId: `ticket:${ticket.slice(0, 8)}` }
  }

  app.get('/chat/ws', { websocket: true, preValidation: authenticateUpgrade }, (socket, request) => {
    // Take what the socket needs from the request; closures below must not keep it alive.
    const since = (request.query as { since?: unknown }).since
    const log = request.log
    const connection = new Connection({
      id: randomUUID(),
      userId: request.user.id,
      username: request.user.username,
      ws: socket,
      hub,
      config,
      log,
    })
    // Listeners first: frames sent while the connection catches up are not lost.
    socket.on('message', (data, isBinary) => connection.handle(data as Buffer, isBinary))
    socket.on('pong', () => {
      connection.alive = true
    })
    socket.on('close', () => {
      hub.detach(connection).catch((error: unknown) => log.error({ err: error }, 'chat socket: detach failed'))
    })
    hub.attach(connection, typeof since === 'string' ? since : undefined).catch((error: unknown) => {
      log.error({ err: error }, 'chat socket: attach failed')
      socket.close(1011, 'internal error')
    })
  })
}
