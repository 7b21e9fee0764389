/**
 * A minimal circuit breaker for an optional dependency (Redis, for the feed and view counts):
 * after a failure, callers skip it for `coolDownMs` and take their fallback at once, so an
 * outage costs one slow request per cool-down instead of a slow request each time.
 */
export class Breaker {
  readonly #coolDownMs: number
  readonly #isUp: () => boolean
  #openUntil = 0

  /** `isUp`: a cheap local signal (e.g. the client's connection state) that skips the dependency at once. */
  constructor(opts: { coolDownMs?: number; isUp?: () => boolean } = {}) {
    this.#coolDownMs = opts.coolDownMs ?? 5_000
    this.#isUp = opts.isUp ?? (() => true)
  }

  get open(): boolean {
    return Date.now() < this.#openUntil || !this.#isUp()
  }

  async run<T>(work: () => Promise<T>, fallback: (error: unknown) => T | Promise<T>): Promise<T> {
    if (this.open) return fallback(new Error('circuit open'))
    try {
      return await work()
    } catch (error) {
      this.#openUntil = Date.now() + this.#coolDownMs
      return fallback(error)
    }
  }
}
