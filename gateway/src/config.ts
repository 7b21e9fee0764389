import { loadConfig } from '@sm/platform'
import { Type } from 'typebox'

/** The services behind the gateway, in the order the docs and the health report list them. */
export const SERVICE_NAMES = ['auth', 'social', 'media', 'search', 'chat'] as const
export type ServiceName = (typeof SERVICE_NAMES)[number]

const port = (fallback: number) => Type.Integer({ default: fallback, minimum: 0, maximum: 65535 })
const positive = (fallback: number) => Type.Integer({ default: fallback, minimum: 1 })

export const gatewayConfigSchema = {
  PORT: port(8080),
  /**
   * Where each service listens. Empty means `http://127.0.0.1:<SERVICE>_PORT`, so `pnpm start`
   * with only the *_PORT variables set (API.md › Operations) still finds every service.
   */
  AUTH_URL: Type.String({ default: '' }),
  SOCIAL_URL: Type.String({ default: '' }),
  MEDIA_URL: Type.String({ default: '' }),
  SEARCH_URL: Type.String({ default: '' }),
  CHAT_URL: Type.String({ default: '' }),
  AUTH_PORT: port(3001),
  SOCIAL_PORT: port(3002),
  MEDIA_PORT: port(3003),
  SEARCH_PORT: port(3004),
  CHAT_PORT: port(3005),

  /** Comma-separated allowed origins; empty or `*` allows every origin (tokens travel in headers, not cookies). */
  CORS_ORIGINS: Type.String({ default: '' }),

  /**
   * Load balancers in front of the gateway that append to `x-forwarded-for`. 0: the socket's
   * peer is the client and client-sent `x-forwarded-for` is ignored.
   */
  TRUSTED_PROXY_HOPS: Type.Integer({ default: 0, minimum: 0, maximum: 10 }),

  /** Requests per IP per window on every proxied route. */
  RATE_LIMIT_MAX: positive(600),
  RATE_LIMIT_WINDOW_MS: positive(60_000),
  /**
   * Budgets of at most this many requests are checked in Redis on every request; larger ones are
   * counted in memory and exchanged with Redis every RATE_LIMIT_SYNC_MS (plugins/rate-limit-store.ts).
   */
  RATE_LIMIT_EXACT_MAX: positive(100),
  RATE_LIMIT_SYNC_MS: positive(100),
  /** Stricter budget per IP for credential guessing targets: /auth/login and /auth/password/*. */
  AUTH_RATE_LIMIT_MAX: positive(10),
  AUTH_RATE_LIMIT_WINDOW_MS: positive(60_000),

  /** Largest request body in bytes for JSON (and any other non-upload) request. */
  BODY_LIMIT: positive(1024 * 1024),
  /** Largest multipart upload to /media; media itself enforces the per-kind limits below this. */
  MEDIA_BODY_LIMIT: positive(110 * 1024 * 1024),

  /** A service that does not accept a connection within this is reported down (503). */
  UPSTREAM_CONNECT_TIMEOUT_MS: positive(2_000),
  /** A service that does not answer (headers, or the next body chunk) within this → 504. */
  UPSTREAM_TIMEOUT_MS: positive(30_000),
  /** Per-service budget of /health/services and of fetching OpenAPI documents for /docs. */
  HEALTH_TIMEOUT_MS: positive(1_500),
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>

export const loadGatewayConfig = (env: Record<string, string | undefined> = process.env) => loadConfig(gatewayConfigSchema, env)

/** Base URL of every service, without a trailing slash. */
export function upstreamUrls(config: GatewayConfig): Record<ServiceName, string> {
  const pick = (url: string, fallbackPort: number) => (url || `http://127.0.0.1:${fallbackPort}`).replace(/\/+$/, '')
  return {
    auth: pick(config.AUTH_URL, config.AUTH_PORT),
    social: pick(config.SOCIAL_URL, config.SOCIAL_PORT),
    media: pick(config.MEDIA_URL, config.MEDIA_PORT),
    search: pick(config.SEARCH_URL, config.SEARCH_PORT),
    chat: pick(config.CHAT_URL, config.CHAT_PORT),
  }
}

/** `CORS_ORIGINS` as @fastify/cors wants it: `*` for everyone, else the exact list. */
export function corsOrigins(config: GatewayConfig): '*' | string[] {
  const origins = config.CORS_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '')
  return origins.length === 0 || origins.includes('*') ? '*' : origins
}
