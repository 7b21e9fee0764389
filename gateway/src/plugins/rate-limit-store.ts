import type { Redis } from '@sm/platform'

/** Adds `count` to a window counter, starting the window on first use: `{ total, ttlMs }`. */
const ADD_LUA = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return { total, ttl }`

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void

interface Counter {
  /** The shared total as Redis last reported it (every instance's requests). */
  known: number
  /** Requests counted here and not yet added to Redis. */
  pending: number
  /** Requests on their way to Redis in the current sync. */
  sending: number
  windowMs: number
  windowEndsAt: number
}

type RedisWithAdd = Redis & {
  rateLimitAdd(
    key: string,
    count: number,
    windowMs: number,
    callback?: (error: Error | null, result: [number, number]) => void,
  ): Promise<[number, number]>
}

export interface SharedCounterOptions {
  redis: Redis
  prefix: string
  /** How often counts are exchanged with Redis for budgets above `exactMax`. */
  syncMs: number
  /** Budgets up to this many requests are checked against Redis on every request. */
  exactMax: number
}

/**
 * A store for @fastify/rate-limit whose counters live in Redis, shared by every gateway
 * instance, without a Redis round trip on every request of the hot path.
 *
 * - Small budgets (the credential endpoints' 10 a minute) are exact: each request adds one in
 *   Redis and waits for the total, as the library's own Redis store does.
 * - Large budgets (the global 600 a minute) are counted in memory and added to Redis in one
 *   pipelined batch every `syncMs`; each sync brings back the total of all instances. A client
 *   can exceed its budget by at most what it sends to the *other* instances within one sync
 *   interval. In exchange the gateway does a sixth of the socket writes per proxied request.
 *
 * If Redis is unreachable the counters keep working per instance and catch up when it returns.
 */
export class SharedCounterStore {
  readonly #redis: RedisWithAdd
  readonly #opts: SharedCounterOptions
  readonly #counters: Map<string, Counter>
  #timer: NodeJS.Timeout | undefined
  #syncing: Promise<void> | undefined

  constructor(opts: SharedCounterOptions, counters = new Map<string, Counter>()) {
    this.#opts = opts
    this.#counters = counters
    const redis = opts.redis as RedisWithAdd
    if (!redis.rateLimitAdd) redis.defineCommand('rateLimitAdd', { numberOfKeys: 1, lua: ADD_LUA })
    this.#redis = redis
  }

  incr(key: string, callback: Callback, windowMs: number, max: number): void {
    const fullKey = this.#opts.prefix + key
    if (max <= this.#opts.exactMax) {
      this.#redis.rateLimitAdd(fullKey, 1, windowMs, (error, result) => {
        if (error) callback(error)
        else callback(null, { current: result[0], ttl: result[1] })
      })
      return
    }
    const now = Date.now()
    let counter = this.#counters.get(fullKey)
    if (!counter || now >= counter.windowEndsAt) {
      counter = { known: 0, pending: 0, sending: 0, windowMs, windowEndsAt: now + windowMs }
      this.#counters.set(fullKey, counter)
    }
    counter.pending++
    this.#startTimer()
    callback(null, { current: counter.known + counter.sending + counter.pending, ttl: counter.windowEndsAt - now })
  }

  /** Route-specific budgets get their own counters, like the library's stores. */
  child(routeOptions: { routeInfo: { method?: string | string[]; url?: string } }): SharedCounterStore {
    const { method, url } = routeOptions.routeInfo
    return new SharedCounterStore({ ...this.#opts, prefix: `${this.#opts.prefix}${method ?? ''}${url ?? ''}-` }, this.#counters)
  }

  #startTimer(): void {
    if (this.#timer) return
    this.#timer = setInterval(() => {
      this.sync().catch(() => undefined)
    }, this.#opts.syncMs)
    this.#timer.unref()
  }

  /** Sends every pending count to Redis in one pipeline and takes back the shared totals. */
  sync(): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => {
      this.#syncing = undefined
    })
    return this.#syncing
  }

  async #sync(): Promise<void> {
    const now = Date.now()
    const batch: Array<[string, Counter]> = []
    for (const [key, counter] of this.#counters) {
      if (now >= counter.windowEndsAt && counter.pending === 0) this.#counters.delete(key)
      else if (counter.pending > 0) batch.push([key, counter])
    }
    if (batch.length === 0) return
    const pipeline = this.#redis.pipeline()
    for (const [key, counter] of batch) {
      counter.sending = counter.pending
      counter.pending = 0
      ;(pipeline as unknown as RedisWithAdd).rateLimitAdd(key, counter.sending, counter.windowMs)
    }
    let results: Array<[Error | null, unknown]> | null = null
    try {
      results = await pipeline.exec()
    } finally {
      for (const [index, [, counter]] of batch.entries()) {
        const [error, reply] = results?.[index] ?? [new Error('not sent'), null]
        if (error) {
          // Not counted in Redis: try again with the next sync.
          counter.pending += counter.sending
        } else {
          const [total, ttl] = reply as [number, number]
          counter.known = total
          counter.windowEndsAt = Date.now() + ttl
        }
        counter.sending = 0
      }
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
