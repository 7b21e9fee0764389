import { randomUUID } from 'node:crypto'
import type { Redis } from '@sm/platform'

// A sliding window: the user's edits of the last `window` ms, as a sorted set of timestamps.
// Returns 0 when this edit fits (and records it), else the ms until the oldest one leaves.
const TAKE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0`

type EditRateRedis = Redis & { takeEditSlot(key: string, now: number, windowMs: number, limit: number, member: string): Promise<number> }

/**
 * At most `limit` edits per user in any minute (`windowMs`), shared by every instance through Redis. A
 * fixed per-minute counter let twice that through across a minute's boundary (and made the
 * limit's test fail whenever its eleven edits straddled one).
 */
export class EditRate {
  readonly #redis: EditRateRedis
  readonly #limit: number
  readonly #windowMs: number

  constructor(redis: Redis, limit: number, windowMs = 60_000) {
    redis.defineCommand('takeEditSlot', { numberOfKeys: 1, lua: TAKE })
    this.#redis = redis as EditRateRedis
    this.#limit = limit
    this.#windowMs = windowMs
  }

  /** 0 when the edit may go ahead (it is counted), else the seconds until one may. */
  async take(userId: string): Promise<number> {
    const waitMs = await this.#redis.takeEditSlot(`edit-rate:${userId}`, Date.now(), this.#windowMs, this.#limit, randomUUID())
    return waitMs === 0 ? 0 : Math.ceil(waitMs / 1000)
  }
}
