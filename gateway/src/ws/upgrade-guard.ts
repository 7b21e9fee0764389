import { notFound } from '@sm/platform'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/**
 * @fastify/http-proxy routes every upgrade request on the server through the router, including
 * upgrades to plain HTTP proxy routes (`/posts`, …), whose handler hijacks the reply and then
 * has no WebSocket relay to hand it to: the client's socket would hang open. Only the listed
 * socket paths may upgrade; anything else is answered 404 before a handler runs.
 */
export const upgradeGuard = fp<{ socketPaths: string[] }>(
  async (app: FastifyInstance, opts) => {
    const allowed = new Set(opts.socketPaths)
    app.addHook('onRequest', async (request: FastifyRequest) => {
      // Node's parser flags the requests it hands to 'upgrade' listeners (untyped in @types/node).
      if ((request.raw as { upgrade?: boolean }).upgrade !== true) return
      const path = request.url.split('?', 1)[0] ?? ''
      if (!allowed.has(path)) throw notFound(`no WebSocket endpoint at ${path}`)
    })
  },
  { name: 'gateway-upgrade-guard' },
)
