import type { Redis } from '@sm/platform'

/**
 * Home timelines in Redis: one sorted set per user whose members are post ids, all with score
 * 0, so members sort lexicographically; post ids are UUID v7, so that is newest-last by time.
 * One sentinel member sorts below every id ('!' < '0') and records the set's state:
 *   !b  being built from Postgres (reads go to Postgres meanwhile)
 *   !c  complete: holds every post the user's feed has (fan-out authors only)
 *   !t  truncated: holds every such post newer than its oldest member; older ones are in Postgres
 * A missing key is built on the next read. Fan-out only touches sets that exist.
 */
export type TimelineState = 'missing' | 'building' | 'complete' | 'truncated'

const STATE_OF: Record<string, TimelineState> = { '!b': 'building', '!c': 'complete', '!t': 'truncated' }

// Shared Lua: trim to the cap (oldest first) and mark the set truncated when anything went.
const TRIM = `
local function truncate(key)
  redis.call('ZREM', key, '!c')
  redis.call('ZADD', key, 0, '!t')
end
local function trim(key, cap)
  local count = redis.call('ZLEXCOUNT', key, '[0', '+')
  if count > cap then
    local edge = redis.call('ZRANGEBYLEX', key, '[0', '+', 'LIMIT', count - cap - 1, 1)[1]
    redis.call('ZREMRANGEBYLEX', key, '[0', '[' .. edge)
    truncate(key)
  end
end
local function has(key, member) return redis.call('ZSCORE', key, member) ~= false end
`

// KEYS: timelines (one per follower when fanning out); ARGV: cap, maybeMore ('1': the ids are an
// author's newest `cap`, there may be older ones), ids... Timelines that do not exist are skipped.
const ADD = `${TRIM}
local cap = tonumber(ARGV[1])
local function add_to(key)
  if redis.call('EXISTS', key) == 0 then return 0 end
  local truncated = has(key, '!t')
  local oldest = redis.call('ZRANGEBYLEX', key, '[0', '+', 'LIMIT', 0, 1)[1]
  if truncated and not oldest then
    redis.call('DEL', key)
    return 0
  end
  local before = redis.call('ZLEXCOUNT', key, '[0', '+')
  local added = 0
  for i = 3, #ARGV do
    -- In a truncated set only ids newer than its oldest member keep the invariant.
    if (not truncated) or ARGV[i] > oldest then added = added + redis.call('ZADD', key, 0, ARGV[i]) end
  end
  -- New posts into a set extended past the cap (by a deep read) push out as many of its oldest
  -- ids, so the reader's place down there survives a busy feed. An author's page of older posts
  -- (maybeMore) can interleave anywhere, so that case trims to the cap to keep the invariant.
  local limit = cap
  if ARGV[2] == '1' then truncate(key) else limit = math.max(cap, before) end
  trim(key, limit)
  return added
end
local total = 0
for k = 1, #KEYS do total = total + add_to(KEYS[k]) end
return total`

// KEYS: timelines; ARGV: cap, ids... Removes ids; a truncated set that ran low is dropped (rebuilt on read).
const REMOVE = `
local removed = 0
for k = 1, #KEYS do
  local key = KEYS[k]
  if redis.call('EXISTS', key) == 1 then
    for i = 2, #ARGV do removed = removed + redis.call('ZREM', key, ARGV[i]) end
    if redis.call('ZSCORE', key, '!t') and redis.call('ZLEXCOUNT', key, '[0', '+') < tonumber(ARGV[1]) / 4 then redis.call('DEL', key) end
  end
end
return removed`

// KEYS[1] timeline; ARGV: ttl. Starts a build unless one exists; returns 1 when the caller should build.
const BEGIN = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], 0, '!b')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`

// KEYS[1] timeline; ARGV: cap, full ('1' when the build query hit the cap), ttl, ids...
const FINISH = `${TRIM}
local key = KEYS[1]
local cap = tonumber(ARGV[1])
for i = 4, #ARGV do redis.call('ZADD', key, 0, ARGV[i]) end
local building = has(key, '!b')
redis.call('ZREM', key, '!b')
if ARGV[2] == '1' then truncate(key)
elseif building and not has(key, '!t') then redis.call('ZADD', key, 0, '!c') end
trim(key, cap)
redis.call('EXPIRE', key, ARGV[3])
return 1`

// KEYS[1] timeline; ARGV: max ('+' or '(<id>'), count, ttl. Returns the state sentinel, then
// the set's oldest id and size when the read ran out (fewer than `count` ids; '' and -1 when
// not: the common case pays nothing for them), then up to `count` ids below max, newest first.
const READ = `
local key = KEYS[1]
local state = redis.call('ZRANGEBYLEX', key, '-', '(0')
if #state == 0 then return {} end
redis.call('EXPIRE', key, ARGV[3])
local count = tonumber(ARGV[2])
local ids = redis.call('ZREVRANGEBYLEX', key, ARGV[1], '[0', 'LIMIT', 0, count)
local sentinel = state[1]
for _, member in ipairs(state) do if member == '!b' then sentinel = '!b' end end
local oldest, size = '', -1
if #ids < count then
  oldest = redis.call('ZRANGEBYLEX', key, '[0', '+', 'LIMIT', 0, 1)[1] or ''
  size = redis.call('ZLEXCOUNT', key, '[0', '+')
end
table.insert(ids, 1, size)
table.insert(ids, 1, oldest)
table.insert(ids, 1, sentinel)
return ids`

// KEYS[1] timeline; ARGV: from, exhausted ('1': Postgres has nothing older), ttl, ids (all older
// than from). Appends the ids only while the set is still truncated and still ends at `from`:
// then it again holds every feed post newer than its oldest member. Returns 1 when appended.
const EXTEND = `
local key = KEYS[1]
if redis.call('ZSCORE', key, '!t') == false or redis.call('ZSCORE', key, '!b') then return 0 end
if redis.call('ZRANGEBYLEX', key, '[0', '+', 'LIMIT', 0, 1)[1] ~= ARGV[1] then return 0 end
for i = 4, #ARGV do redis.call('ZADD', key, 0, ARGV[i]) end
if ARGV[2] == '1' then
  redis.call('ZREM', key, '!t')
  redis.call('ZADD', key, 0, '!c')
end
redis.call('EXPIRE', key, ARGV[3])
return 1`

interface TimelineCommands {
  timelineAdd(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>
  timelineRemove(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>
  timelineBegin(key: string, ttl: number): Promise<number>
  timelineFinish(key: string, ...args: Array<string | number>): Promise<number>
  timelineRead(key: string, max: string, count: number, ttl: number): Promise<Array<string | number>>
  timelineExtend(key: string, ...args: Array<string | number>): Promise<number>
}

export interface TimelineRead {
  state: TimelineState
  /** Newest first, below the requested id. */
  ids: string[]
  /** When the read ran out (fewer ids than asked): the set's oldest id (if any) and its size. */
  end?: { oldest?: string; size: number }
}

export class TimelineStore {
  readonly #redis: Redis & TimelineCommands
  readonly cap: number
  readonly #ttlSeconds: number

  constructor(redis: Redis, opts: { cap: number; ttlSeconds: number }) {
    this.cap = opts.cap
    this.#ttlSeconds = opts.ttlSeconds
    for (const [name, lua] of Object.entries({
      timelineBegin: BEGIN,
      timelineFinish: FINISH,
      timelineRead: READ,
      timelineExtend: EXTEND,
    })) {
      redis.defineCommand(name, { numberOfKeys: 1, lua })
    }
    // Any number of timelines per call: a post reaches a page of followers in one round trip.
    redis.defineCommand('timelineAdd', { lua: ADD })
    redis.defineCommand('timelineRemove', { lua: REMOVE })
    this.#redis = redis as Redis & TimelineCommands
  }

  static key(userId: string): string {
    return `tl:${userId}`
  }

  /** Fan-out fails fast while Redis is down, so the event is retried later instead of hanging. */
  #assertConnected(): void {
    if (this.#redis.status !== 'ready') throw new Error(`redis is ${this.#redis.status}`)
  }

  /** Adds ids to the users' existing timelines (users with none in Redis are skipped). */
  async add(userIds: string[], ids: string[], maybeMore = false): Promise<void> {
    if (ids.length === 0 || userIds.length === 0) return
    this.#assertConnected()
    await this.#redis.timelineAdd(userIds.length, ...userIds.map(TimelineStore.key), this.cap, maybeMore ? '1' : '0', ...ids)
  }

  async remove(userIds: string[], ids: string[]): Promise<void> {
    if (ids.length === 0 || userIds.length === 0) return
    this.#assertConnected()
    await this.#redis.timelineRemove(userIds.length, ...userIds.map(TimelineStore.key), this.cap, ...ids)
  }

  /** Claims the build of a missing timeline: true when this caller should run it. */
  async begin(userId: string): Promise<boolean> {
    return (await this.#redis.timelineBegin(TimelineStore.key(userId), this.#ttlSeconds)) === 1
  }

  async finish(userId: string, ids: string[], full: boolean): Promise<void> {
    await this.#redis.timelineFinish(TimelineStore.key(userId), this.cap, full ? '1' : '0', this.#ttlSeconds, ...ids)
  }

  /** Up to `count` ids older than `beforeId` (newest first) and the timeline's state; its end when the read reached it. */
  async read(userId: string, beforeId: string | undefined, count: number): Promise<TimelineRead> {
    const [sentinel, oldest, size, ...ids] = await this.#redis.timelineRead(
      TimelineStore.key(userId),
      beforeId ? `(${beforeId}` : '+',
      count,
      this.#ttlSeconds,
    )
    if (sentinel === undefined) return { state: 'missing', ids: [] }
    const state = STATE_OF[String(sentinel)] ?? 'missing'
    const result: TimelineRead = { state, ids: ids.map(String) }
    if (Number(size) >= 0) result.end = { size: Number(size), ...(oldest ? { oldest: String(oldest) } : {}) }
    return result
  }

  /**
   * Continues a truncated timeline downwards with `ids` (the feed's next posts older than
   * `from`, which must still be its oldest id), so the pages after it come from Redis too.
   * `exhausted`: Postgres has nothing older, so the set now holds the whole feed.
   * New posts then push out as many of its oldest ids; a follow's page trims it back to the cap.
   */
  async extend(userId: string, from: string, ids: string[], exhausted: boolean): Promise<boolean> {
    const applied = await this.#redis.timelineExtend(TimelineStore.key(userId), from, exhausted ? '1' : '0', this.#ttlSeconds, ...ids)
    return applied === 1
  }
}
