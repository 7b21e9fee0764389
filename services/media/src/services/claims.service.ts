import type { MediaPurpose, MediaRef } from '@sm/contracts'
import { conflict, forbidden, HttpError, notFound, type OutboxRelay } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { MediaDatabase } from '../db/database.ts'
import { addReaders, deleteClaimedBy, lockMediaByIds, markClaimed } from '../repositories/media.repository.ts'
import type { MediaService } from './media.service.ts'

export interface ClaimRequest {
  userId: string
  purpose: MediaPurpose
  ids: string[]
  ref: string
  audience?: string[]
}

const wrongPurpose = (id: string, purpose: string) =>
  new HttpError(422, 'MEDIA_WRONG_PURPOSE', `media ${id} was not uploaded for ${purpose}`)

/**
 * What other services do with uploads (over NATS): claim them for a post, an avatar or a
 * message, and release them when that goes away.
 */
export class ClaimsService {
  readonly #db: Kysely<MediaDatabase>
  readonly #media: MediaService
  readonly #relay: OutboxRelay

  constructor(deps: { db: Kysely<MediaDatabase>; media: MediaService; relay: OutboxRelay }) {
    this.#db = deps.db
    this.#media = deps.media
    this.#relay = deps.relay
  }

  /**
   * All or nothing, under row locks so two claims of one upload serialise. Claiming again for
   * the same ref is a no-op (a retried request succeeds); a different ref is refused.
   */
  async claim({ userId, purpose, ids, ref, audience = [] }: ClaimRequest): Promise<{ items: MediaRef[] }> {
    const unique = [...new Set(ids)]
    const rows = await this.#db.transaction().execute(async (trx) => {
      const found = new Map((await lockMediaByIds(trx, unique)).map((row) => [row.id, row]))
      for (const id of unique) {
        const media = found.get(id)
        if (!media) throw notFound(`media ${id} does not exist`, 'MEDIA_NOT_FOUND')
        if (media.ownerId !== userId) throw forbidden(`media ${id} belongs to someone else`, 'MEDIA_FORBIDDEN')
        if (media.purpose !== purpose) throw wrongPurpose(id, purpose)
        if (media.claimedRef !== null && media.claimedRef !== ref)
          throw conflict('MEDIA_ALREADY_CLAIMED', `media ${id} is attached elsewhere`)
      }
      await markClaimed(trx, unique, ref)
      if (purpose === 'chat') {
        await addReaders(
          trx,
          unique,
          [...new Set(audience)].filter((reader) => reader !== userId),
        )
      }
      return found
    })
    const items = ids.flatMap((id) => {
      const media = rows.get(id)
      return media ? [this.#media.toRef(media)] : []
    })
    return { items }
  }

  /** Deletes media claimed by `ref` (its post or message is gone): rows, events, then bytes. */
  async release(ids: string[], ref: string): Promise<{ released: number }> {
    const deleted = await this.#db.transaction().execute(async (trx) => {
      const rows = await deleteClaimedBy(trx, [...new Set(ids)], ref)
      await this.#media.enqueueDeleted(trx, rows, 'released')
      return rows
    })
    if (deleted.length > 0) this.#relay.kick()
    await this.#media.removeBytes(deleted)
    return { released: deleted.length }
  }
}
