import { rename } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { MediaKind, MediaPurpose, MediaRef } from '@sm/contracts'
import { enqueueEvent, forbidden, type Log, newId, notFound, type OutboxRelay } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { Media, MediaDatabase } from '../db/database.ts'
import { deleteMediaByIds, findMedia, findMediaByIds, insertMedia, readableBy } from '../repositories/media.repository.ts'
import { checkRefined, inspectStored } from './inspect.ts'
import { receiveFile } from './receive.ts'
import type { MediaStorage } from './storage.ts'
import type { UrlSigner } from './url-signer.ts'

export const PUBLIC_PURPOSES: ReadonlySet<MediaPurpose> = new Set(['avatar', 'post'])
const ALL_KINDS: readonly MediaKind[] = ['image', 'video', 'audio', 'document']
const KINDS_FOR: Record<MediaPurpose, readonly MediaKind[]> = { avatar: ['image'], post: ALL_KINDS, chat: ALL_KINDS }

export interface MediaServiceDeps {
  db: Kysely<MediaDatabase>
  storage: MediaStorage
  signer: UrlSigner
  relay: OutboxRelay
  log: Log
  limits: Record<MediaKind, number>
}

/** Uploads, metadata, who may read what, and deletion by the owner. */
export class MediaService {
  readonly #deps: MediaServiceDeps

  constructor(deps: MediaServiceDeps) {
    this.#deps = deps
  }

  /** The largest upload any purpose accepts: the multipart parser's own backstop. */
  get maxUploadBytes(): number {
    return Math.max(...Object.values(this.#deps.limits))
  }

  /** Streams the file to disk, sniffs it, stores the row and its `media.uploaded` event together. */
  async upload(ownerId: string, purpose: MediaPurpose, file: Readable, requestId?: string): Promise<MediaRef> {
    const { db, storage, relay } = this.#deps
    const temp = storage.tempPath(purpose)
    try {
      const kinds = KINDS_FOR[purpose]
      const received = await receiveFile(file, temp, { limits: this.#deps.limits, kinds })
      const sniffed = await inspectStored(temp, received.sniffed)
      checkRefined(sniffed, received.size, kinds, this.#deps.limits)
      const storageKey = storage.newKey(purpose)
      await rename(temp, storage.path(storageKey))
      try {
        const media = await db.transaction().execute(async (trx) => {
          const row = await insertMedia(trx, {
            id: newId(),
            ownerId,
            purpose,
            kind: sniffed.kind,
            mime: sniffed.mime,
            size: received.size,
            width: sniffed.width ?? null,
            height: sniffed.height ?? null,
            storageKey,
            claimedRef: null,
            claimedAt: null,
          })
          await enqueueEvent(
            trx,
            'media',
            'media.uploaded',
            {
              mediaId: row.id,
              ownerId,
              purpose,
              kind: row.kind,
              mime: row.mime,
              size: row.size,
              uploadedAt: row.createdAt.toISOString(),
            },
            requestId,
          )
          return row
        })
        relay.kick()
        return this.toRef(media)
      } catch (error) {
        await storage.remove(storage.path(storageKey))
        throw error
      }
    } finally {
      // Gone already when the upload succeeded (renamed); otherwise the partial file goes here.
      await storage.remove(temp)
    }
  }

  /** The MediaRef for someone allowed to read it: chat media URLs carry a signature. */
  toRef(media: Media): MediaRef {
    let url = `/media/${media.id}/content`
    if (media.purpose === 'chat') {
      const { exp, sig } = this.#deps.signer.sign(media.id)
      url += `?exp=${exp}&sig=${sig}`
    }
    return {
      id: media.id,
      kind: media.kind,
      mime: media.mime,
      size: media.size,
      ...(media.width !== null ? { width: media.width } : {}),
      ...(media.height !== null ? { height: media.height } : {}),
      url,
    }
  }

  find(id: string): Promise<Media | undefined> {
    return findMedia(this.#deps.db, id)
  }

  /**
   * Whether `viewerId` may see this medium's metadata (GET /media/:id, media.get): the owner
   * always; others only once it is claimed, and for chat media only the listed readers.
   */
  async visibleTo(media: Media, viewerId: string): Promise<boolean> {
    if (media.ownerId === viewerId) return true
    if (media.claimedRef === null) return false
    if (PUBLIC_PURPOSES.has(media.purpose)) return true
    return (await readableBy(this.#deps.db, [media.id], viewerId)).has(media.id)
  }

  /** GET /media/:id: the owner, or a reader of chat media; anyone else gets 404. */
  async describe(id: string, viewerId: string): Promise<MediaRef> {
    const media = await findMedia(this.#deps.db, id)
    const allowed = media && (media.ownerId === viewerId || (media.purpose === 'chat' && (await this.visibleTo(media, viewerId))))
    if (!media || !allowed) throw notFound('no such media', 'MEDIA_NOT_FOUND')
    return this.toRef(media)
  }

  /** media.get: refs in the ids' order, unknown or not visible ones left out. */
  async refsFor(ids: string[], viewerId: string | undefined): Promise<MediaRef[]> {
    const { db } = this.#deps
    const rows = new Map((await findMediaByIds(db, [...new Set(ids)])).map((row) => [row.id, row]))
    const readable = viewerId ? await readableBy(db, [...rows.keys()], viewerId) : new Set<string>()
    const refs: MediaRef[] = []
    for (const id of ids) {
      const media = rows.get(id)
      if (!media) continue
      const isOwner = media.ownerId === viewerId
      const claimed = media.claimedRef !== null
      const visible = isOwner || (claimed && (PUBLIC_PURPOSES.has(media.purpose) || readable.has(id)))
      if (visible) refs.push(this.toRef(media))
    }
    return refs
  }

  /** Owner-only delete: row and event in one transaction, then the bytes. */
  async deleteByOwner(id: string, userId: string, requestId?: string): Promise<void> {
    const { db, relay } = this.#deps
    const deleted = await db.transaction().execute(async (trx) => {
      const media = await trx.selectFrom('media').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
      // Chat media must not reveal that it exists; public media may say "not yours".
      if (!media || (media.ownerId !== userId && media.purpose === 'chat')) throw notFound('no such media', 'MEDIA_NOT_FOUND')
      if (media.ownerId !== userId) throw forbidden('only the owner can delete this media', 'MEDIA_FORBIDDEN')
      const rows = await deleteMediaByIds(trx, [id])
      await this.enqueueDeleted(trx, rows, 'owner', requestId)
      return rows
    })
    relay.kick()
    await this.removeBytes(deleted)
  }

  async enqueueDeleted(
    trx: Kysely<MediaDatabase>,
    rows: Media[],
    reason: 'owner' | 'released' | 'unclaimed',
    requestId?: string,
  ): Promise<void> {
    const deletedAt = new Date().toISOString()
    for (const row of rows) {
      await enqueueEvent(
        trx,
        'media',
        'media.deleted',
        { mediaId: row.id, ownerId: row.ownerId, purpose: row.purpose, reason, deletedAt },
        requestId,
      )
    }
  }

  /** After the rows are gone: a file that cannot be removed is logged, not resurrected. */
  async removeBytes(rows: Media[]): Promise<void> {
    const { storage, log } = this.#deps
    for (const row of rows) {
      await storage
        .remove(storage.path(row.storageKey))
        .catch((err: unknown) => log.error({ err, mediaId: row.id }, 'could not remove media file'))
    }
  }
}
