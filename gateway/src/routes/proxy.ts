import proxy from '@fastify/http-proxy'
import type { FastifyInstance } from 'fastify'
import type { ServiceName } from '../config.ts'
import { proxyClientOptions, proxyReplyOptions, type UpstreamTimeouts } from '../upstream.ts'

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

export interface ProxyRoutesOptions {
  upstreams: Record<ServiceName, string>
  timeouts: UpstreamTimeouts
  strictRateLimit: { max: number; timeWindow: number }
}

export async function proxyRoutes(app: FastifyInstance, opts: ProxyRoutesOptions): Promise<void> {
  for (const route of PROXY_ROUTES) {
    await app.register(proxy, {
      upstream: opts.upstreams[route.service],
      prefix: route.prefix,
      rewritePrefix: route.prefix,
      config: route.strictRateLimit ? { rateLimit: opts.strictRateLimit } : {},
      replyOptions: proxyReplyOptions(),
      ...proxyClientOptions(opts.timeouts),
    })
  }
}
