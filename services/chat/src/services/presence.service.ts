import type { PresenceItem } from '@sm/contracts'
import type { Redis } from '@sm/platform'

// Keys (all under the namespace prefix): conns:<user> ZSET connId→last beat (ms);
// beats ZSET "<user>|<conn>"→last beat, what the sweeper scans; lastseen:<user> ms.
const CONNECT = `
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3] .. '|' .. ARGV[1])
if before == 0 then return 1 end
return 0`

const DISCONNECT = `
redis.call('ZREM', KEYS[2], ARGV[3] .. '|' .. ARGV[1])
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 and redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('SET', KEYS[3], ARGV[2])
  return 1
end
return 0`

const HEARTBEAT = `
local changed = redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[3] .. '|' .. ARGV[1])
return changed`

// Removes connections whose beat lapsed (their instance died or stalled); returns
// user, lastBeat pairs for users who thereby have no connection left.
const SWEEP = `
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 500)
local offline = {}
for _, member in ipairs(stale) do
  redis.call('ZREM', KEYS[1], member)
  local sep = string.find(member, '|', 1, true)
  local user = string.sub(member, 1, sep - 1)
  local conn = string.sub(member, sep + 1)
  local key = ARGV[2] .. 'conns:' .. user
  local score = redis.call('ZSCORE', key, conn)
  if score then
    redis.call('ZREM', key, conn)
    if redis.call('ZCARD', key) == 0 then
      redis.call('SET', ARGV[2] .. 'lastseen:' .. user, score)
      table.insert(offline, user)
      table.insert(offline, score)
    end
  end
end
return offline`

export interface PresenceChange {
  userId: string
  online: boolean
  lastSeenAt: string | null
}

/**
 * Who is online, shared by every instance through Redis. First connection → online, last one
 * closed or lapsed → offline; the Lua scripts make each transition happen exactly once.
 */
type Script = (...args: Array<string | number>) => Promise<unknown>
type PresenceRedis = Redis & { presenceConnect: Script; presenceDisconnect: Script; presenceHeartbeat: Script; presenceSweep: Script }

export class PresenceStore {
  readonly #redis: PresenceRedis
  readonly #prefix: string

  constructor(redis: Redis, namespace: string) {
    // By EVALSHA (ioredis loads a script on first use): every beat of every socket runs one, and
    // sending the script's text each time was most of the bytes.
    redis.defineCommand('presenceConnect', { numberOfKeys: 2, lua: CONNECT })
    redis.defineCommand('presenceDisconnect', { numberOfKeys: 3, lua: DISCONNECT })
    redis.defineCommand('presenceHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT })
    redis.defineCommand('presenceSweep', { numberOfKeys: 1, lua: SWEEP })
    this.#redis = redis as PresenceRedis
    this.#prefix = `${namespace}:`
  }

  /** True when this is the user's first connection (they just came online). */
  async connect(userId: string, connId: string): Promise<boolean> {
    const first = await this.#redis.presenceConnect(`conns:${userId}`, 'beats', connId, Date.now(), userId)
    return first === 1
  }

  /** When this was the user's last connection (they just went offline): the lastSeenAt recorded. */
  async disconnect(userId: string, connId: string): Promise<string | null> {
    const now = Date.now()
    const last = await this.#redis.presenceDisconnect(`conns:${userId}`, 'beats', `lastseen:${userId}`, connId, now, userId)
    return last === 1 ? new Date(now).toISOString() : null
  }

  /**
   * Beats for many connections in one round trip (a pipeline: one write, where a command each
   * was a system call per socket). False for a connection swept meanwhile (connect() it again).
   */
  async heartbeats(connections: Array<{ userId: string; connId: string }>): Promise<boolean[]> {
    if (connections.length === 0) return []
    const now = Date.now()
    const pipeline = this.#redis.pipeline() as unknown as {
      presenceHeartbeat: Script
      exec(): Promise<Array<[Error | null, unknown]> | null>
    }
    for (const { userId, connId } of connections) pipeline.presenceHeartbeat(`conns:${userId}`, 'beats', connId, now, userId)
    const results = (await pipeline.exec()) ?? []
    const failed = results.find(([error]) => error)
    if (failed) throw failed[0]
    return results.map(([, changed]) => changed === 1)
  }

  async sweep(timeoutMs: number): Promise<PresenceChange[]> {
    const flat = (await this.#redis.presenceSweep('beats', Date.now() - timeoutMs, this.#prefix)) as string[]
    const changes: PresenceChange[] = []
    for (let i = 0; i < flat.length; i += 2) {
      changes.push({ userId: flat[i] as string, online: false, lastSeenAt: new Date(Number(flat[i + 1])).toISOString() })
    }
    return changes
  }

  async isOnline(userId: string): Promise<boolean> {
    return (await this.#redis.exists(`conns:${userId}`)) === 1
  }

  async lookup(userIds: string[]): Promise<PresenceItem[]> {
    if (userIds.length === 0) return []
    const pipeline = this.#redis.pipeline()
    for (const id of userIds) {
      pipeline.exists(`conns:${id}`)
      pipeline.get(`lastseen:${id}`)
    }
    const results = (await pipeline.exec()) ?? []
    return userIds.map((userId, i) => {
      const online = results[i * 2]?.[1] === 1
      const lastSeen = results[i * 2 + 1]?.[1] as string | null | undefined
      return { userId, online, lastSeenAt: online ? new Date().toISOString() : lastSeen ? new Date(Number(lastSeen)).toISOString() : null }
    })
  }
}
