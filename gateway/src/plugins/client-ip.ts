import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's address: what rate limits count and what services see in x-forwarded-for. */
    clientIp: string
  }
}

/**
 * Who the client is. With no proxy in front (TRUSTED_PROXY_HOPS=0) it is the socket's peer and
 * any `x-forwarded-for` the client sent is ignored, since anyone can write one. Behind N load
 * balancers, each appends the address it saw, so the client is the N-th entry from the right;
 * entries further left were written by the client and are not trusted. (buildService owns the
 * Fastify constructor, so Fastify's own `trustProxy` is not available to the gateway.)
 */
export function clientIpOf(request: Pick<FastifyRequest, 'ip' | 'headers'>, trustedHops: number): string {
  if (trustedHops === 0) return request.ip
  const forwarded = request.headers['x-forwarded-for']
  const listed = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '')
  const chain = [...listed, request.ip]
  return chain[Math.max(0, chain.length - 1 - trustedHops)] ?? request.ip
}

export const clientIpPlugin = fp<{ trustedHops: number }>(
  async (app: FastifyInstance, opts) => {
    app.decorateRequest('clientIp', '')
    app.addHook('onRequest', async (request) => {
      request.clientIp = clientIpOf(request, opts.trustedHops)
    })
  },
  { name: 'gateway-client-ip' },
)
