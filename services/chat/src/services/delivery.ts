import type { ServerFrame } from '@sm/contracts'
import { type Bus, liveSubject, type Redis } from '@sm/platform'

/** What travels on a user's live subject: a frame, its place in the user's log, and a socket to skip. */
export interface LiveEnvelope {
  frame: ServerFrame
  /** The user's event seq when the frame comes from the event log; absent for typing/presence. */
  seq?: number
  /** The connection that sent the message (it gets `message.ack` instead). */
  except?: string
}

// One round trip: "no connection anywhere" and the push are atomic.
const QUEUE_IF_OFFLINE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1`

type QueueRedis = Redis & { queueIfOffline(...args: Array<string | number>): Promise<number> }

export const userSubject = (namespace: string, userId: string) => liveSubject(namespace, `user.${userId}`)

/**
 * Routes frames to users wherever their sockets are: core NATS per-user subjects reach every
 * instance holding one of their sockets; logged frames for users with no socket at all also go
 * to their Redis offline queue, drained in order on connect.
 */
export class Delivery {
  readonly #bus: Bus
  readonly #redis: QueueRedis
  readonly #queueMax: number
  readonly #queueTtlS: number
  /**
   * True when this instance holds a socket of the user whose live subscription is in place (set
   * by the hub): the user is online, so the queue is skipped without asking Redis. The sender's
   * own copy of every message takes this path.
   */
  isLiveHere: (userId: string) => boolean = () => false
  /** Offers a frame to this instance's sockets of the user (set by the hub). */
  deliverHere: (userId: string, envelope: LiveEnvelope) => void = () => {}

  constructor(opts: { bus: Bus; redis: Redis; queueMax: number; queueTtlS: number }) {
    this.#bus = opts.bus
    opts.redis.defineCommand('queueIfOffline', { numberOfKeys: 2, lua: QUEUE_IF_OFFLINE })
    this.#redis = opts.redis as QueueRedis
    this.#queueMax = opts.queueMax
    this.#queueTtlS = opts.queueTtlS
  }

  /**
   * Live first (delivery latency never waits for Redis), then the queue if the user has no
   * socket anywhere. A socket opening in between cannot miss the frame: on connect it reads
   * whatever the queue lacks from Postgres, up to a position taken after it subscribed.
   *
   * Live is two ways at once. The NATS publish reaches the user's sockets on other instances:
   * chat's connection is made with `noEcho`, so the server does not send it back here. This
   * instance's own sockets get the frame in-process, without the round trip through the NATS
   * server (a publish, the server's turn, a read and a parse, on a box where each hop is a
   * context switch). Either way a socket takes it through the same seq gate.
   */
  async send(userId: string, envelope: LiveEnvelope): Promise<void> {
    this.#bus.nc.publish(userSubject(this.#bus.namespace, userId), JSON.stringify(envelope))
    this.deliverHere(userId, envelope)
    if (envelope.seq === undefined || this.isLiveHere(userId)) return
    const entry = JSON.stringify({ seq: envelope.seq, frame: envelope.frame })
    await this.#redis.queueIfOffline(`conns:${userId}`, `queue:${userId}`, entry, this.#queueMax, this.#queueTtlS)
  }

  /** Takes the whole queue atomically (a second device connecting at once gets nothing twice). */
  async drain(userId: string): Promise<Array<{ seq: number; frame: ServerFrame }>> {
    const key = `queue:${userId}`
    const results = await this.#redis.multi().lrange(key, 0, -1).del(key).exec()
    const raw = (results?.[0]?.[1] as string[] | undefined) ?? []
    return raw.map((entry) => JSON.parse(entry) as { seq: number; frame: ServerFrame }).sort((a, b) => a.seq - b.seq)
  }
}
