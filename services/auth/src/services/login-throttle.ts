import { tooManyRequests } from '@sm/platform'
import type { Redis } from 'ioredis'

/**
 * Counts failed logins per account name in Redis, so a password-guessing run against one
 * account is stopped even when it comes from many IPs (the gateway's limit is per IP).
 */
export class LoginThrottle {
  readonly #redis: Redis
  readonly #maxFailures: number
  readonly #windowSeconds: number

  constructor(redis: Redis, settings: { maxFailures: number; windowSeconds: number }) {
    this.#redis = redis
    this.#maxFailures = settings.maxFailures
    this.#windowSeconds = settings.windowSeconds
  }

  #key(login: string) {
    return `auth:login-failures:${login.toLowerCase()}`
  }

  async assertAllowed(login: string): Promise<void> {
    const key = this.#key(login)
    const failures = Number(await this.#redis.get(key)) || 0
    if (failures >= this.#maxFailures) {
      const ttl = await this.#redis.ttl(key)
      throw tooManyRequests(ttl > 0 ? ttl : this.#windowSeconds, 'too many failed logins for this account; try again later')
    }
  }

  async recordFailure(login: string): Promise<void> {
    const key = this.#key(login)
    // The window starts at the first failure and is not extended by later ones.
    await this.#redis.multi().incr(key).expire(key, this.#windowSeconds, 'NX').exec()
  }

  async reset(login: string): Promise<void> {
    await this.#redis.del(this.#key(login))
  }
}
