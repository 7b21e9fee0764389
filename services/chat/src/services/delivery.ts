import type { ServerFrame } from '@sm/contracts'
import { type Bus, liveSubject, type Redis } from '@sm/platform'
import type { PresenceStore } from './presence.service.ts'

/** What travels on a user's live subject: a frame, its place in the user's log, and a socket to skip. */
export interface LiveEnvelope {
  frame: ServerFrame
  /** The user's event seq when the frame comes from the event log; absent for typing/presence. */
  seq?: number
  /** The connection that sent the message (it gets `message.ack` instead). */
  except?: string
}

export const userSubject = (namespace: string, userId: string) => liveSubject(namespace, `user.${userId}`)

/**
 * Routes frames to users wherever their sockets are: core NATS per-user subjects reach every
 * instance holding one of their sockets; logged frames for users with no socket at all also go
 * to their Redis offline queue, drained in order on connect.
 */
export class Delivery {
  readonly #bus: Bus
  readonly #redis: Redis
  readonly #presence: PresenceStore
  readonly #queueMax: number
  readonly #queueTtlS: number

  constructor(opts: { bus: Bus; redis: Redis; presence: PresenceStore; queueMax: number; queueTtlS: number }) {
    this.#bus = opts.bus
    this.#redis = opts.redis
    this.#presence = opts.presence
    this.#queueMax = opts.queueMax
    this.#queueTtlS = opts.queueTtlS
  }

  async send(userId: string, envelope: LiveEnvelope): Promise<void> {
    if (envelope.seq !== undefined && !(await this.#presence.isOnline(userId))) {
      const key = `queue:${userId}`
      await this.#redis
        .multi()
        .rpush(key, JSON.stringify({ seq: envelope.seq, frame: envelope.frame }))
        .ltrim(key, -this.#queueMax, -1)
        .expire(key, this.#queueTtlS)
        .exec()
    }
    this.#bus.nc.publish(userSubject(this.#bus.namespace, userId), JSON.stringify(envelope))
  }

  /** Takes the whole queue atomically (a second device connecting at once gets nothing twice). */
  async drain(userId: string): Promise<Array<{ seq: number; frame: ServerFrame }>> {
    const key = `queue:${userId}`
    const results = await this.#redis.multi().lrange(key, 0, -1).del(key).exec()
    const raw = (results?.[0]?.[1] as string[] | undefined) ?? []
    return raw.map((entry) => JSON.parse(entry) as { seq: number; frame: ServerFrame }).sort((a, b) => a.seq - b.seq)
  }
}
