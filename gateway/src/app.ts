import { type App, buildService, createRedis, type Redis } from '@sm/platform'
import { Agent } from 'undici'
import { corsOrigins, type GatewayConfig, upstreamUrls } from './config.ts'
import { bodyLimitPlugin } from './plugins/body-limit.ts'
import { clientIpPlugin } from './plugins/client-ip.ts'
import { rateLimitPlugin } from './plugins/rate-limit.ts'
import { securityPlugin } from './plugins/security.ts'
import { docsRoutes } from './routes/docs.ts'
import { healthRoutes } from './routes/health.ts'
import { proxyRoutes } from './routes/proxy.ts'
import type { UpstreamTimeouts } from './upstream.ts'
import { CHAT_SOCKET_PATH, chatSocketRoutes } from './ws/chat-socket.ts'
import { upgradeGuard } from './ws/upgrade-guard.ts'

/**
 * What the gateway talks to besides the services: Redis, for the rate limits shared by every
 * instance. Created from the config when not given; a given one belongs to the caller and is not
 * closed with the app. The gateway needs neither NATS nor token keys: it verifies no token
 * (every service does, chat at its socket upgrade; see README › The chat socket).
 */
export interface GatewayDeps {
  redis?: Redis
}

/**
 * The edge: security headers, CORS, per-IP rate limits, body limits, then the gateway's own
 * routes (aggregated health, docs) and the proxy table, in that order, so every proxied request
 * passes each guard before a service sees it.
 */
export async function buildApp(config: GatewayConfig, deps: GatewayDeps = {}): Promise<App> {
  const owned: Array<() => Promise<unknown>> = []
  try {
    const redis = deps.redis ?? createRedis(config.REDIS_URL, config.namespace)
    if (!deps.redis) owned.push(async () => redis.quit())
    return await assemble(config, { redis }, owned)
  } catch (error) {
    await closeAll(owned)
    throw error
  }
}

async function assemble(config: GatewayConfig, deps: Required<GatewayDeps>, owned: Array<() => Promise<unknown>>): Promise<App> {
  const app = await buildService({
    name: 'gateway',
    logLevel: config.LOG_LEVEL,
    bodyLimit: config.BODY_LIMIT,
    description: 'The single entry point: routes every public path to its service',
    readiness: {
      redis: () => deps.redis.ping(),
    },
  })
  // For /health/services and /docs/specs: one pool to the services, closed with the app.
  const serviceClient = new Agent({ connect: { timeout: config.HEALTH_TIMEOUT_MS } })
  owned.push(() => serviceClient.close())
  app.addHook('onClose', async () => closeAll(owned))

  const upstreams = upstreamUrls(config)
  const timeouts: UpstreamTimeouts = { connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS, responseTimeoutMs: config.UPSTREAM_TIMEOUT_MS }

  await app.register(clientIpPlugin, { trustedHops: config.TRUSTED_PROXY_HOPS })
  await app.register(securityPlugin, { corsOrigins: corsOrigins(config) })
  await app.register(upgradeGuard, { socketPaths: [CHAT_SOCKET_PATH] })
  await app.register(rateLimitPlugin, {
    redis: deps.redis,
    max: config.RATE_LIMIT_MAX,
    timeWindowMs: config.RATE_LIMIT_WINDOW_MS,
    syncMs: config.RATE_LIMIT_SYNC_MS,
    exactMax: config.RATE_LIMIT_EXACT_MAX,
  })
  await app.register(bodyLimitPlugin, { defaultLimit: config.BODY_LIMIT, uploadLimit: config.MEDIA_BODY_LIMIT })

  await app.register(healthRoutes, { upstreams, client: serviceClient, timeoutMs: config.HEALTH_TIMEOUT_MS })
  await app.register(docsRoutes, { upstreams, client: serviceClient, timeoutMs: config.HEALTH_TIMEOUT_MS })
  await app.register(proxyRoutes, {
    upstreams,
    timeouts,
    strictRateLimit: { max: config.AUTH_RATE_LIMIT_MAX, timeWindow: config.AUTH_RATE_LIMIT_WINDOW_MS },
  })
  await app.register(chatSocketRoutes, { upstream: upstreams.chat, timeouts })
  return app
}

async function closeAll(closers: Array<() => Promise<unknown>>): Promise<void> {
  await Promise.allSettled(closers.splice(0).map((close) => close()))
}
