import { randomBytes, randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { TicketReply } from '@sm/contracts'
import { type App, type Redis, unauthorized } from '@sm/platform'
import type { FastifyRequest } from 'fastify'
import type { RawData, WebSocket } from 'ws'
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
  const connections = new WeakMap<WebSocket, Connection>()
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

  // One set of listeners for every socket: per-socket closures would cost memory for each.
  const onMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
    const connection = connections.get(this)
    if (!connection) return
    // Any frame proves the client is there, as a pong does (a busy client's pong may queue behind).
    connection.alive = true
    connection.handle(data as Buffer, isBinary)
  }
  const onPong = function (this: WebSocket) {
    const connection = connections.get(this)
    if (connection) connection.alive = true
  }
  const onClose = function (this: WebSocket) {
    const connection = connections.get(this)
    if (!connection) return
    hub.detach(connection).catch((error: unknown) => connection.log.error({ err: error }, 'chat socket: detach failed'))
  }
  // What @fastify/websocket's own listener did (log, then terminate), without its request and reply.
  const onError = function (this: WebSocket, error: Error) {
    const log = connections.get(this)?.log ?? app.log
    log.error({ err: error }, 'chat socket: error')
    this.terminate()
  }

  app.get('/chat/ws', { websocket: true, preValidation: authenticateUpgrade }, (socket, request) => {
    const since = (request.query as { since?: unknown }).since
    const connection = new Connection({
      id: randomUUID(),
      userId: request.user.id,
      username: request.user.username,
      ws: socket,
      hub,
      config,
      log: app.log,
      requestId: request.id,
    })
    releaseUpgrade(socket, request)
    connections.set(socket, connection)
    // Listeners first: frames sent while the connection catches up are not lost.
    socket.on('error', onError)
    socket.on('message', onMessage)
    socket.on('pong', onPong)
    socket.on('close', onClose)
    hub.attach(connection, typeof since === 'string' ? since : undefined).catch((error: unknown) => {
      connection.log.error({ err: error }, 'chat socket: attach failed')
      socket.close(1011, 'internal error')
    })
  })
}

/**
 * @fastify/websocket keeps the upgrade's request, reply and ServerResponse alive as long as the
 * socket: its error listener closes over request and reply, and the response stays attached to
 * the TCP socket (with the request, its headers and the buffer they were read into). About 5 KB
 * a socket that it never uses again: detach the response and drop that listener (ours replaces it).
 */
function releaseUpgrade(socket: WebSocket, request: FastifyRequest): void {
  const tcp = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null }
  tcp._httpMessage?.detachSocket(tcp)
  socket.removeAllListeners('error')
}
