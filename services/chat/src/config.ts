import { loadConfig } from '@sm/platform'
import { Type } from 'typebox'

export const chatConfigSchema = {
  PORT: Type.Integer({ default: 3005, minimum: 0, maximum: 65535 }),
  /**
   * Postgres connections per instance. Every send is a transaction that waits for its commit to
   * reach disk; more of them in flight let Postgres flush them together (group commit). At 1,000
   * msg/s on the bench box, 30 instead of 10 halved the delivery latency of a saturated chat;
   * 20 keeps several instances within a default Postgres max_connections (100).
   */
  DATABASE_POOL_SIZE: Type.Integer({ default: 20, minimum: 1, maximum: 500 }),
  /** Edit and delete-for-everyone windows, counted from the message's creation. */
  EDIT_WINDOW_S: Type.Integer({ default: 15 * 60, minimum: 1 }),
  DELETE_WINDOW_S: Type.Integer({ default: 60 * 60, minimum: 1 }),
  /** Edits per user in any minute (a sliding window in Redis, shared by every instance). */
  EDIT_RATE_PER_MIN: Type.Integer({ default: 10, minimum: 1 }),
  /** A typing "start" not refreshed within this time ends with a server-sent "stop". */
  TYPING_TTL_MS: Type.Integer({ default: 5_000, minimum: 50 }),
  /** WebSocket pings and presence heartbeats; a socket silent for two intervals is closed. */
  HEARTBEAT_INTERVAL_MS: Type.Integer({ default: 15_000, minimum: 50 }),
  /** A connection whose heartbeat is older than this counts as gone (e.g. its instance died). */
  HEARTBEAT_TIMEOUT_MS: Type.Integer({ default: 45_000, minimum: 100 }),
  /** Per-connection token bucket for client frames: burst and refill per second. */
  FRAME_BURST: Type.Integer({ default: 60, minimum: 1 }),
  FRAME_RATE_PER_S: Type.Integer({ default: 20, minimum: 1 }),
  /** Frames refused by the bucket within 10 s before the socket is closed with 1008. */
  FLOOD_STRIKES: Type.Integer({ default: 20, minimum: 1 }),
  /** Typing frames per connection per second (beyond the general bucket). */
  TYPING_RATE_PER_S: Type.Integer({ default: 2, minimum: 1 }),
  /** Offline queue: entries kept per user and how long they live. */
  OFFLINE_QUEUE_MAX: Type.Integer({ default: 1000, minimum: 10 }),
  OFFLINE_QUEUE_TTL_S: Type.Integer({ default: 7 * 24 * 3600, minimum: 60 }),
  WS_TICKET_TTL_S: Type.Integer({ default: 30, minimum: 1 }),
  /** Timeout of media.* requests over NATS. */
  MEDIA_TIMEOUT_MS: Type.Integer({ default: 2_000, minimum: 50 }),
}

export const loadChatConfig = (env: Record<string, string | undefined> = process.env) => loadConfig(chatConfigSchema, env)
export type ChatConfig = ReturnType<typeof loadChatConfig>
