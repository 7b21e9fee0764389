import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { notFound } from '@sm/platform'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** An upgrade request's connection, as Node hands it over once it stops parsing HTTP on it. */
export interface Upgrade {
  /** The client's TCP socket, and the bytes it sent after the request head (usually none). */
  socket: Socket
  head: Buffer
  /**
   * Set by the route that answered 101 and now owns the socket. Otherwise the socket is closed
   * once the HTTP answer (401, 404, 429, 503, chat's own refusal…) has been written.
   */
  switched: boolean
}

const upgrades = new WeakMap<IncomingMessage, Upgrade>()

/** The connection behind an upgrade request; undefined for a plain HTTP request. */
export function upgradeOf(raw: IncomingMessage): Upgrade | undefined {
  return upgrades.get(raw)
}

/**
 * Every upgrade request on the server goes through Fastify's router, like a plain request, so
 * that every onRequest hook applies to it: client address, CORS/helmet, this guard, the rate
 * limit, request ids and logs, and the socket route's own token check. Node hands an upgrade
 * to the server's 'upgrade' listeners with the raw socket instead of a response; the listener
 * builds a ServerResponse on that socket (the technique @fastify/websocket and
 * @fastify/http-proxy use), so a hook's error is answered as ordinary HTTP, then the socket is
 * closed. Only the listed socket paths may upgrade; anything else is a 404 before a handler
 * runs (a proxy route would otherwise hold a socket it cannot relay).
 */
export const upgradeGuard = fp<{ socketPaths: string[] }>(
  async (app: FastifyInstance, opts) => {
    const allowed = new Set(opts.socketPaths)
    app.addHook('onRequest', async (request: FastifyRequest) => {
      if (!upgrades.has(request.raw)) return
      const path = request.url.split('?', 1)[0] ?? ''
      if (!allowed.has(path)) throw notFound(`no WebSocket endpoint at ${path}`)
    })

    // Created once: a listener made inside onUpgrade would keep its scope (the ServerResponse and
    // through it the request) alive as long as a relayed socket lives.
    const onSocketError = (error: Error) => app.log.debug({ err: error }, 'upgrade: client socket error')
    const onUpgrade = (raw: IncomingMessage, duplex: Duplex, head: Buffer) => {
      const socket = duplex as Socket
      // Node removed its own listeners: without this, a reset by the client would crash the process.
      socket.on('error', onSocketError)
      const upgrade: Upgrade = { socket, head, switched: false }
      upgrades.set(raw, upgrade)
      const res = new ServerResponse(raw)
      res.shouldKeepAlive = false
      res.assignSocket(socket)
      res.once('finish', () => {
        res.detachSocket(socket)
        // Ended once our answer is flushed, without waiting for the client's side to close.
        if (!upgrade.switched) socket.destroySoon()
      })
      try {
        app.routing(raw, res)
      } catch (error) {
        app.log.error({ err: error }, 'upgrade: routing failed')
        socket.destroy()
      }
    }
    app.server.on('upgrade', onUpgrade)
    app.addHook('onClose', async () => {
      app.server.off('upgrade', onUpgrade)
    })
  },
  { name: 'gateway-upgrade-guard' },
)
