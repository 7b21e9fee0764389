import type { ClientRequest } from 'node:http'
import proxy from '@fastify/http-proxy'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { proxyClientOptions, proxyReplyOptions, type UpstreamTimeouts } from '../upstream.ts'
import { authenticateUpgrade } from './authenticate.ts'
import { RelayedSockets } from './close-codes.ts'
import { upstreamSocketHeaders } from './headers.ts'

export const CHAT_SOCKET_PATH = '/chat/ws'

export interface ChatSocketOptions {
  upstream: string
  timeouts: UpstreamTimeouts
  /** Largest frame relayed, either way. */
  maxPayload: number
}

/**
 * `GET /chat/ws`: the WebSocket relay to chat. The token is checked here, at the upgrade,
 * because once @fastify/http-proxy accepts the client's socket it only then dials chat, and a
 * refusal by chat can only surface as close 1011; a 401 before any socket opens is what a
 * client can act on. Chat verifies the token again (and a `?ticket=`, which only it can).
 */
export async function chatSocketRoutes(app: FastifyInstance, opts: ChatSocketOptions): Promise<void> {
  const relayed = new RelayedSockets()

  // Applies to every route of this plugin (the socket path only), before the proxy handler.
  app.addHook('onRequest', authenticateUpgrade)
  // Runs before the server stops accepting: each client hears 1001 instead of a dropped line.
  app.addHook('preClose', async () => relayed.closeAll('gateway shutting down'))

  await app.register(proxy, {
    upstream: opts.upstream,
    prefix: CHAT_SOCKET_PATH,
    rewritePrefix: CHAT_SOCKET_PATH,
    websocket: true,
    replyOptions: proxyReplyOptions(),
    ...proxyClientOptions(opts.timeouts),
    wsServerOptions: {
      maxPayload: opts.maxPayload,
      // Liveness must be end to end: chat pings, the client answers. If the gateway answered
      // pings itself, chat would keep a dead client's presence "online" forever.
      autoPong: false,
      WebSocket: relayed.socketClass(),
    },
    wsClientOptions: {
      // The proxy's default forwards only `cookie`; chat needs the token and the request id.
      rewriteRequestHeaders: (headers: Record<string, string>, request: FastifyRequest) => upstreamSocketHeaders(headers, request),
      handshakeTimeout: opts.timeouts.connectTimeoutMs,
      maxPayload: opts.maxPayload,
      autoPong: false,
      finishRequest: (handshake: ClientRequest, target: WebSocket) => {
        // The proxy closes the client's socket with 1011 and the error's message as the reason:
        // "connect ECONNREFUSED 10.0.3.7:3005" must stay in the log, not reach the public.
        target.prependListener('error', (error: Error) => {
          app.log.warn({ err: error }, 'chat socket: upstream connection failed')
          error.message = 'upstream unavailable'
        })
        handshake.end()
      },
      // The query string (`?ticket=`) is copied to the upstream URL by the proxy itself.
    } as NonNullable<Parameters<typeof proxy>[1]['wsClientOptions']>,
    wsHooks: {
      onConnect: (_context, source, target) => relayed.link(source, target),
    },
  })
}
