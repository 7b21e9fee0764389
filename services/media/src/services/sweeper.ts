import type { Log, OutboxRelay } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { MediaDatabase } from '../db/database.ts'
import { deleteMediaByIds, lockStaleUnclaimed } from '../repositories/media.repository.ts'
import type { MediaService } from './media.service.ts'
import type { MediaStorage } from './storage.ts'

const BATCH = 100

/**
 * Deletes uploads nobody claimed within `ttlSeconds` (bytes, rows, `media.deleted` with reason
 * `unclaimed`) and temp files a crash left behind. Every instance sweeps; SKIP LOCKED splits
 * the rows between them.
 */
export class UnclaimedSweeper {
  readonly #deps: { db: Kysely<MediaDatabase>; media: MediaService; storage: MediaStorage; relay: OutboxRelay; log: Log }
  readonly #ttlMs: number
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<unknown> | undefined

  constructor(
    deps: { db: Kysely<MediaDatabase>; media: MediaService; storage: MediaStorage; relay: OutboxRelay; log: Log },
    opts: { ttlSeconds: number; intervalSeconds: number },
  ) {
    this.#deps = deps
    this.#ttlMs = opts.ttlSeconds * 1000
    this.#intervalMs = opts.intervalSeconds * 1000
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return
      this.#running = this.sweep()
        .catch((err: unknown) => this.#deps.log.error({ err }, 'unclaimed media sweep failed; will retry'))
        .finally(() => {
          this.#running = undefined
        })
    }, this.#intervalMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.#running
  }

  /** One pass; returns how many uploads were deleted. */
  async sweep(nowMs = Date.now()): Promise<number> {
    const { db, media, storage, relay } = this.#deps
    const before = new Date(nowMs - this.#ttlMs)
    let total = 0
    for (;;) {
      const deleted = await db.transaction().execute(async (trx) => {
        const stale = await lockStaleUnclaimed(trx, before, BATCH)
        const rows = await deleteMediaByIds(
          trx,
          stale.map((row) => row.id),
        )
        await media.enqueueDeleted(trx, rows, 'unclaimed')
        return rows
      })
      if (deleted.length > 0) relay.kick()
      await media.removeBytes(deleted)
      total += deleted.length
      if (deleted.length < BATCH) break
    }
    await storage.removeStaleTemps(this.#ttlMs, nowMs)
    return total
  }
}
