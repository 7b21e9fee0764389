import { HttpError } from '@sm/platform'
import type { FastifyInstance } from 'fastify'
import type { UpstreamTimeouts } from '../upstream.ts'
import { SocketRelay } from './relay.ts'
import { upgradeOf } from './upgrade-guard.ts'

export const CHAT_SOCKET_PATH = '/chat/ws'

export interface ChatSocketOptions {
  upstream: string
  /** `connectTimeoutMs` bounds connecting to chat and chat's answer to the handshake. */
  timeouts: UpstreamTimeouts
}

/**
 * `GET /chat/ws`: the WebSocket relay to chat. Upgrades reach this route through the router
 * (upgrade-guard.ts), after the client-address, rate-limit and request-id hooks. The credential
 * (bearer token or `?ticket=`) is chat's to check, as every service checks its own: a refusal
 * is relayed as the HTTP answer it is (relay.ts), so a bad one is an HTTP 401 and no socket opens.
 */
export async function chatSocketRoutes(app: FastifyInstance, opts: ChatSocketOptions): Promise<void> {
  const relay = new SocketRelay(
    opts.upstream,
    { connectTimeoutMs: opts.timeouts.connectTimeoutMs, answerTimeoutMs: opts.timeouts.responseTimeoutMs },
    app.log,
  )

  // Runs once Fastify answers new requests 503 and before the server waits for its connections:
  // relayed sockets never end on their own, so they are cut here (see SocketRelay.close).
  app.addHook('preClose', async () => relay.close())

  app.get(CHAT_SOCKET_PATH, { schema: { hide: true } }, (request, reply) => {
    const upgrade = upgradeOf(request.raw)
    if (!upgrade) {
      return reply
        .header('upgrade', 'websocket')
        .send(new HttpError(426, 'UPGRADE_REQUIRED', 'this endpoint only accepts WebSocket upgrades'))
    }
    reply.hijack()
    relay.open(request, reply, upgrade)
  })
}
