import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { type Redis, tooManyRequests } from '@sm/platform'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { SharedCounterStore } from './rate-limit-store.ts'

export interface RateLimitOptions {
  redis: Redis
  max: number
  timeWindowMs: number
  /** See SharedCounterStore: budgets above `exactMax` sync with Redis every `syncMs`. */
  syncMs: number
  exactMax: number
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
    const store = new SharedCounterStore({ redis: opts.redis, prefix: 'ratelimit:', syncMs: opts.syncMs, exactMax: opts.exactMax })
    app.addHook('onClose', async () => {
      store.close()
      // What this instance counted since the last sync still counts for the others.
      await store.sync().catch(() => undefined)
    })
    await app.register(rateLimit, {
      global: true,
      max: opts.max,
      timeWindow: opts.timeWindowMs,
      // The library instantiates the store itself; hand it ours (the options argument is unused).
      store: function ProvidedStore() {
        return store
      } as unknown as FastifyRateLimitStoreCtor,
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
