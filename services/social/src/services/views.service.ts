import type { Log, Redis } from '@sm/platform'
import { type Kysely, sql } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'

const DIRTY = 'views:dirty'
const LOCK = 'views:flush-lock'
const pendingKey = (postId: string) => `views:pending:${postId}`
const viewersKey = (postId: string) => `views:viewers:${postId}`
const BATCH = 500

// Subtracts what was written to Postgres; keys that reach zero stop being dirty. Views that
// arrived while the batch was being written stay behind for the next flush.
const SETTLE = `
local n = #KEYS - 1
for i = 1, n do
  local left = redis.call('DECRBY', KEYS[i + 1], ARGV[i])
  if left <= 0 then
    redis.call('DEL', KEYS[i + 1])
    redis.call('SREM', KEYS[1], ARGV[n + i])
  end
end
return n`

/**
 * View counting that never takes a row lock on the read path: each view is an INCR (and a
 * PFADD for unique viewers) in Redis; a timer folds the pending counts into `posts.views` in
 * batches. Reads add the pending delta, so counts are exact between flushes.
 */
export class ViewCounter {
  readonly #db: Kysely<SocialDatabase>
  readonly #redis: Redis
  readonly #log: Log
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<number> | undefined

  constructor(opts: { db: Kysely<SocialDatabase>; redis: Redis; log: Log; intervalMs: number }) {
    this.#db = opts.db
    this.#redis = opts.redis
    this.#log = opts.log
    this.#intervalMs = opts.intervalMs
  }

  start(): void {
    this.#timer = setInterval(() => {
      void this.flush().catch((err: unknown) => this.#log.warn({ err }, 'view flush failed; will retry'))
    }, this.#intervalMs)
    this.#timer.unref()
  }

  /** `viewer` is a user id or, anonymously, an address: it only feeds the unique-viewer estimate. */
  async record(postId: string, viewer: string): Promise<void> {
    await this.#redis.multi().incr(pendingKey(postId)).sadd(DIRTY, postId).pfadd(viewersKey(postId), viewer).exec()
  }

  /** Views recorded but not yet in Postgres, per post id. */
  async pending(postIds: string[]): Promise<Map<string, number>> {
    if (postIds.length === 0) return new Map()
    const values = await this.#redis.mget(...postIds.map(pendingKey))
    return new Map(postIds.map((id, i) => [id, Math.max(0, Number(values[i] ?? 0))]))
  }

  async uniqueViewers(postId: string): Promise<number> {
    return this.#redis.pfcount(viewersKey(postId))
  }

  async forget(postId: string): Promise<void> {
    await this.#redis.multi().del(pendingKey(postId), viewersKey(postId)).srem(DIRTY, postId).exec()
  }

  /** Folds pending counts into Postgres; one instance at a time (Redis lock). Returns posts written. */
  flush(): Promise<number> {
    this.#flushing ??= this.#flushOnce().finally(() => {
      this.#flushing = undefined
    })
    return this.#flushing
  }

  async #flushOnce(): Promise<number> {
    const locked = await this.#redis.set(LOCK, '1', 'PX', 30_000, 'NX')
    if (!locked) return 0
    let written = 0
    try {
      for (;;) {
        const batchWritten = await this.#flushBatch()
        written += batchWritten
        if (batchWritten < BATCH) break
      }
    } finally {
      await this.#redis.del(LOCK)
    }
    return written
  }

  async #flushBatch(): Promise<number> {
    const ids = await this.#redis.srandmember(DIRTY, BATCH)
    const counts = await this.pending(ids)
    const batch = [...counts].filter(([, n]) => n > 0)
    const empty = ids.filter((id) => !batch.some(([batchId]) => batchId === id))
    if (empty.length > 0) await this.#redis.srem(DIRTY, ...empty)
    if (batch.length > 0) {
      await sql`
          update posts set views = posts.views + d.n
          from unnest(${batch.map(([id]) => id)}::uuid[], ${batch.map(([, n]) => n)}::bigint[]) as d(id, n)
          where posts.id = d.id`.execute(this.#db)
      const keys = [DIRTY, ...batch.map(([id]) => pendingKey(id))]
      await this.#redis.eval(SETTLE, keys.length, ...keys, ...batch.map(([, n]) => n), ...batch.map(([id]) => id))
    }
    return batch.length
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.flush().catch((err: unknown) => this.#log.warn({ err }, 'final view flush failed'))
  }
}
