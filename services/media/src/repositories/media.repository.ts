import type { Kysely, Transaction } from 'kysely'
import type { Media, MediaDatabase, NewMedia } from '../db/database.ts'

type Db = Kysely<MediaDatabase> | Transaction<MediaDatabase>

export async function insertMedia(db: Db, media: NewMedia): Promise<Media> {
  return db.insertInto('media').values(media).returningAll().executeTakeFirstOrThrow()
}

export async function findMedia(db: Db, id: string): Promise<Media | undefined> {
  return db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findMediaByIds(db: Db, ids: string[]): Promise<Media[]> {
  if (ids.length === 0) return []
  return db.selectFrom('media').selectAll().where('id', 'in', ids).execute()
}

/** Locks the rows for a claim, so two claims of one upload serialise. */
export async function lockMediaByIds(trx: Transaction<MediaDatabase>, ids: string[]): Promise<Media[]> {
  if (ids.length === 0) return []
  return trx.selectFrom('media').selectAll().where('id', 'in', ids).orderBy('id').forUpdate().execute()
}

export async function markClaimed(trx: Transaction<MediaDatabase>, ids: string[], ref: string): Promise<void> {
  if (ids.length === 0) return
  await trx
    .updateTable('media')
    .set({ claimedRef: ref, claimedAt: new Date() })
    .where('id', 'in', ids)
    .where('claimedRef', 'is', null)
    .execute()
}

export async function addReaders(trx: Transaction<MediaDatabase>, mediaIds: string[], userIds: string[]): Promise<void> {
  const rows = mediaIds.flatMap((mediaId) => userIds.map((userId) => ({ mediaId, userId })))
  if (rows.length === 0) return
  await trx
    .insertInto('mediaReaders')
    .values(rows)
    .onConflict((oc) => oc.columns(['mediaId', 'userId']).doNothing())
    .execute()
}

/** The ids among `mediaIds` that `userId` may read as a listed reader. */
export async function readableBy(db: Db, mediaIds: string[], userId: string): Promise<Set<string>> {
  if (mediaIds.length === 0) return new Set()
  const rows = await db.selectFrom('mediaReaders').select('mediaId').where('mediaId', 'in', mediaIds).where('userId', '=', userId).execute()
  return new Set(rows.map((row) => row.mediaId))
}

/** Deletes and returns the rows; the caller removes the bytes after its transaction commits. */
export async function deleteMediaByIds(trx: Transaction<MediaDatabase>, ids: string[]): Promise<Media[]> {
  if (ids.length === 0) return []
  return trx.deleteFrom('media').where('id', 'in', ids).returningAll().execute()
}

export async function deleteClaimedBy(trx: Transaction<MediaDatabase>, ids: string[], ref: string): Promise<Media[]> {
  if (ids.length === 0) return []
  return trx.deleteFrom('media').where('id', 'in', ids).where('claimedRef', '=', ref).returningAll().execute()
}

/** Unclaimed uploads older than `before`, locked and skipped by other sweeping instances. */
export async function lockStaleUnclaimed(trx: Transaction<MediaDatabase>, before: Date, limit: number): Promise<Media[]> {
  return trx
    .selectFrom('media')
    .selectAll()
    .where('claimedRef', 'is', null)
    .where('createdAt', '<', before)
    .orderBy('createdAt')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute()
}
