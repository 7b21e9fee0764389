import { loadConfig } from '@sm/platform'
import { Type } from 'typebox'

export const socialConfigSchema = {
  PORT: Type.Integer({ default: 3002, minimum: 0, maximum: 65535 }),
  /**
   * Postgres connections per instance. 20 instead of 10 made every social figure worse on the
   * 2-core bench box (compose p99 at 300 req/s 47 → 76 ms): more connections than cores only add
   * contention there. Raise it where Postgres has the cores.
   */
  DATABASE_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 500 }),
  /** Post ids kept per home timeline in Redis; older pages are read from Postgres. */
  TIMELINE_CAP: Type.Integer({ default: 800, minimum: 10 }),
  /** Authors with at least this many followers are not fanned out; their posts are merged at read time. */
  FANOUT_FOLLOWER_LIMIT: Type.Integer({ default: 10_000, minimum: 1 }),
  /** Idle timelines expire from Redis after this long and are rebuilt on the next read. */
  TIMELINE_TTL_S: Type.Integer({ default: 7 * 24 * 3600, minimum: 60 }),
  /** How often view counts buffered in Redis are written to Postgres. */
  VIEW_FLUSH_MS: Type.Integer({ default: 5_000, minimum: 50 }),
  /** Timeout of the media.claim / media.release requests. */
  MEDIA_TIMEOUT_MS: Type.Integer({ default: 3_000, minimum: 100 }),
}

export const loadSocialConfig = (env: Record<string, string | undefined> = process.env) => loadConfig(socialConfigSchema, env)
export type SocialConfig = ReturnType<typeof loadSocialConfig>
