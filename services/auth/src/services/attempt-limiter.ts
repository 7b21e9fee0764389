import { tooManyRequests } from '@sm/platform'
import type { Redis } from 'ioredis'

/**
 * Counts attempts per subject (an account name, an email address) in Redis within a fixed
 * window, so guessing against one account is stopped even when it comes from many IPs (the
 * gateway's limits are per IP). Keys are per subject string, never per "known account", so a
 * 429 reveals nothing about which accounts exist.
 */
export class AttemptLimiter {
  readonly #redis: Redis
  readonly #name: string
  readonly #max: number
  readonly #windowSeconds: number

  constructor(redis: Redis, name: string, settings: { max: number; windowSeconds: number }) {
    this.#redis = redis
    this.#name = name
    this.#max = settings.max
    this.#windowSeconds = settings.windowSeconds
  }

  #key(subject: string) {
    return `auth:${this.#name}:${subject.toLowerCase()}`
  }

  /** 429 once `max` attempts were counted in the current window. */
  async assertAllowed(subject: string): Promise<void> {
    const key = this.#key(subject)
    const attempts = Number(await this.#redis.get(key)) || 0
    if (attempts >= this.#max) {
      const ttl = await this.#redis.ttl(key)
      throw tooManyRequests(ttl > 0 ? ttl : this.#windowSeconds, `too many attempts for ${this.#name}; try again later`)
    }
  }

  async record(subject: string): Promise<void> {
    const key = this.#key(subject)
    // The window starts at the first attempt and is not extended by later ones.
    await this.#redis.multi().incr(key).expire(key, this.#windowSeconds, 'NX').exec()
  }

  /** Counts and checks in one step: for actions where every attempt counts. */
  async consume(subject: string): Promise<void> {
    await this.assertAllowed(subject)
    await this.record(subject)
  }

  async reset(subject: string): Promise<void> {
    await this.#redis.del(this.#key(subject))
  }
}
