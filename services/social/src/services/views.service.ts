import type { Log, Redis } from '@sm/platform'
import { type Kysely, sql } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import type { Breaker } from '../lib/breaker.ts'

const DIRTY = 'views:dirty'
const LOCK = 'views:flush-lock'
const totalKey = (postId: string) => `views:total:${postId}`
const viewersKey = (postId: string) => `views:viewers:${postId}`
const BATCH = 500
const TTL_SECONDS = 7 * 24 * 3600

// KEYS: total, dirty set, viewers HLL. ARGV: views stored in Postgres, post id, viewer, ttl.
// A missing total starts from what Postgres holds, so the Redis number is always the whole count.
const RECORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local total = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PFADD', KEYS[3], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return total`

// KEYS: dirty set, totals... ARGV: the totals just written, then the post ids. A post stays
// dirty when views arrived while its batch was being written.
const SETTLE = `
local n = #KEYS - 1
for i = 1, n do
  if redis.call('GET', KEYS[i + 1]) == ARGV[i] then redis.call('SREM', KEYS[1], ARGV[n + i]) end
end
return n`

interface ViewCommands {
  recordView(...args: Array<string | number>): Promise<number>
  settleViews(...args: Array<string | number>): Promise<number>
}

/**
 * View counting that never takes a row lock on the read path. Each view INCRs a per-post
 * total in Redis (seeded from Postgres when missing) and PFADDs the viewer to a HyperLogLog;
 * a timer copies dirty totals into `posts.views` in batches (`greatest`, so replays and
 * concurrent flushes are harmless). Reads take max(Postgres, Redis): exact, and monotonic
 * even while a flush is in flight.
 */
export class ViewCounter {
  readonly #db: Kysely<SocialDatabase>
  readonly #redis: Redis & ViewCommands
  readonly #log: Log
  readonly #intervalMs: number
  readonly #breaker: Breaker
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<number> | undefined

  constructor(opts: { db: Kysely<SocialDatabase>; redis: Redis; log: Log; intervalMs: number; breaker: Breaker }) {
    this.#db = opts.db
    this.#breaker = opts.breaker
    opts.redis.defineCommand('recordView', { numberOfKeys: 3, lua: RECORD })
    opts.redis.defineCommand('settleViews', { lua: SETTLE })
    this.#redis = opts.redis as Redis & ViewCommands
    this.#log = opts.log
    this.#intervalMs = opts.intervalMs
  }

  start(): void {
    this.#timer = setInterval(() => {
      void this.flush().catch((err: unknown) => this.#log.warn({ err }, 'view flush failed; will retry'))
    }, this.#intervalMs)
    this.#timer.unref()
  }

  /** Counts one view; `viewer` (a user id or, anonymously, an address) only feeds the unique estimate. Returns the new total. */
  async record(postId: string, storedViews: number, viewer: string): Promise<number> {
    return this.#breaker.run(
      () => this.#redis.recordView(totalKey(postId), DIRTY, viewersKey(postId), storedViews, postId, viewer, TTL_SECONDS),
      (err) => {
        // A view is not worth failing the read for: it goes uncounted, and the log says so.
        this.#log.warn({ err, postId }, 'view not counted: Redis unavailable')
        return storedViews
      },
    )
  }

  /** The Redis totals for these posts (absent when none was recorded lately). */
  async totals(postIds: string[]): Promise<Map<string, number>> {
    if (postIds.length === 0) return new Map()
    const values = await this.#breaker.run(
      () => this.#redis.mget(...postIds.map(totalKey)),
      (err) => {
        this.#log.warn({ err }, 'view totals unavailable: showing the counts stored in Postgres')
        return postIds.map(() => null)
      },
    )
    const totals = new Map<string, number>()
    postIds.forEach((id, i) => {
      if (values[i] != null) totals.set(id, Number(values[i]))
    })
    return totals
  }

  async uniqueViewers(postId: string): Promise<number> {
    return this.#redis.pfcount(viewersKey(postId))
  }

  async forget(postId: string): Promise<void> {
    await this.#redis.multi().del(totalKey(postId), viewersKey(postId)).srem(DIRTY, postId).exec()
  }

  /** Copies dirty totals into Postgres; one instance at a time (Redis lock). Returns posts written. */
  flush(): Promise<number> {
    if (this.#breaker.open) return Promise.resolve(0)
    this.#flushing ??= this.#flushLocked().finally(() => {
      this.#flushing = undefined
    })
    return this.#flushing
  }

  async #flushLocked(): Promise<number> {
    const locked = await this.#redis.set(LOCK, '1', 'PX', 30_000, 'NX')
    if (!locked) return 0
    let written = 0
    try {
      for (;;) {
        const [seen, batch] = await this.#flushBatch()
        written += batch
        if (seen < BATCH) break
      }
    } finally {
      await this.#redis.del(LOCK)
    }
    return written
  }

  async #flushBatch(): Promise<[number, number]> {
    const ids = await this.#redis.srandmember(DIRTY, BATCH)
    const values = ids.length > 0 ? await this.#redis.mget(...ids.map(totalKey)) : []
    const totals = new Map<string, number>()
    ids.forEach((id, i) => {
      if (values[i] != null) totals.set(id, Number(values[i]))
    })
    const gone = ids.filter((id) => !totals.has(id))
    if (gone.length > 0) await this.#redis.srem(DIRTY, ...gone)
    const batch = [...totals]
    if (batch.length > 0) {
      await sql`
        update posts set views = greatest(posts.views, d.n)
        from unnest(${batch.map(([id]) => id)}::uuid[], ${batch.map(([, n]) => n)}::bigint[]) as d(id, n)
        where posts.id = d.id`.execute(this.#db)
      const keys = [DIRTY, ...batch.map(([id]) => totalKey(id))]
      await this.#redis.settleViews(keys.length, ...keys, ...batch.map(([, n]) => n), ...batch.map(([id]) => id))
    }
    return [ids.length, batch.length]
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.flush().catch((err: unknown) => this.#log.warn({ err }, 'final view flush failed'))
  }
}
