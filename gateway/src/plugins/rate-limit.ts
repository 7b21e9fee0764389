import rateLimit from '@fastify/rate-limit'
import { type Redis, tooManyRequests } from '@sm/platform'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface RateLimitOptions {
  redis: Redis
  max: number
  timeWindowMs: number
}

/**
 * Per-IP budget on every route registered after this plugin (the proxied API, /docs and
 * /health/services; the platform's own /health, /ready and /metrics come before it and stay
 * free for probes). Counters live in Redis, so every gateway instance shares them; the client's
 * keys are prefixed with the namespace by `createRedis`. Routes may carry a stricter
 * `config.rateLimit` (the credential endpoints do, see routes/proxy.ts).
 */
export const rateLimitPlugin = fp<RateLimitOptions>(
  async (app: FastifyInstance, opts) => {
    await app.register(rateLimit, {
      global: true,
      max: opts.max,
      timeWindow: opts.timeWindowMs,
      redis: opts.redis,
      nameSpace: 'ratelimit:',
      keyGenerator: (request) => request.clientIp,
      // Redis down must not take the whole API down with it: requests pass uncounted.
      skipOnError: true,
      // An HttpError, so the platform error handler answers in the contract's shape with
      // `Retry-After` (the plugin has set the x-ratelimit-* headers already).
      errorResponseBuilder: (_request, context) =>
        tooManyRequests(context.ttl / 1000, `rate limit exceeded: at most ${context.max} requests per window, retry in ${context.after}`),
    })
  },
  { name: 'gateway-rate-limit' },
)
