import type { FastifyInstance, HTTPMethods } from 'fastify'
import type { ServiceName } from '../config.ts'
import type { UpstreamTimeouts } from '../upstream.ts'
import { Forwarder } from './forward.ts'

export interface ProxyRoute {
  prefix: string
  service: ServiceName
  /** Credential-guessing targets get the strict per-IP budget instead of the global one. */
  strictRateLimit?: boolean
}

/**
 * Every public prefix of API.md and the service behind it. Services serve the same paths the
 * gateway does, so nothing is rewritten. `/auth/login` and `/auth/password` get their own
 * entries only to carry the stricter rate limit: a static route beats the `/auth/*` wildcard.
 * The chat socket (`/chat/ws`) is registered by ws/chat-socket.ts.
 */
export const PROXY_ROUTES: readonly ProxyRoute[] = [
  { prefix: '/auth', service: 'auth' },
  { prefix: '/auth/login', service: 'auth', strictRateLimit: true },
  { prefix: '/auth/password', service: 'auth', strictRateLimit: true },
  { prefix: '/users', service: 'social' },
  { prefix: '/posts', service: 'social' },
  { prefix: '/comments', service: 'social' },
  { prefix: '/feed', service: 'social' },
  { prefix: '/hashtags', service: 'social' },
  { prefix: '/me', service: 'social' },
  { prefix: '/media', service: 'media' },
  { prefix: '/search', service: 'search' },
  { prefix: '/chat', service: 'chat' },
]

const METHODS: HTTPMethods[] = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS']

export interface ProxyRoutesOptions {
  upstreams: Record<ServiceName, string>
  timeouts: UpstreamTimeouts
  strictRateLimit: { max: number; timeWindow: number }
}

export async function proxyRoutes(app: FastifyInstance, opts: ProxyRoutesOptions): Promise<void> {
  // Bodies are the services' business: they pass through unparsed, as the stream the body-limit
  // hook handed on, so an upload is never held in the gateway's memory.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))

  const forwarders = new Map<ServiceName, Forwarder>()
  app.addHook('onClose', async () => {
    await Promise.all([...forwarders.values()].map((forwarder) => forwarder.close()))
  })
  for (const route of PROXY_ROUTES) {
    let forwarder = forwarders.get(route.service)
    if (!forwarder) {
      forwarder = new Forwarder(opts.upstreams[route.service], opts.timeouts)
      forwarders.set(route.service, forwarder)
    }
    const config = route.strictRateLimit ? { rateLimit: opts.strictRateLimit } : {}
    for (const url of [route.prefix, `${route.prefix}/*`]) {
      app.route({ method: METHODS, url, config, handler: forwarder.handler })
    }
  }
}
