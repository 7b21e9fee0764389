import { type Kysely, sql } from 'kysely'
import type { AuthDatabase } from '../db/database.ts'

type Db = Kysely<AuthDatabase>

export async function insertFamily(db: Db, family: { id: string; userId: string; expiresAt: Date }): Promise<void> {
  await db.insertInto('refreshFamilies').values(family).execute()
}

export async function insertRefreshToken(db: Db, token: { tokenHash: string; familyId: string; userId: string }): Promise<void> {
  await db.insertInto('refreshTokens').values(token).execute()
}

/** The token and its family, the token row locked so two concurrent refreshes serialize. */
export async function findRefreshTokenForUpdate(db: Db, tokenHash: string) {
  return db
    .selectFrom('refreshTokens as t')
    .innerJoin('refreshFamilies as f', 'f.id', 't.familyId')
    .select(['t.tokenHash', 't.familyId', 't.userId', 't.usedAt', 'f.expiresAt', 'f.revokedAt'])
    .where('t.tokenHash', '=', tokenHash)
    .forUpdate('t')
    .executeTakeFirst()
}

export async function markRefreshTokenUsed(db: Db, tokenHash: string): Promise<void> {
  await db.updateTable('refreshTokens').set({ usedAt: sql`now()` }).where('tokenHash', '=', tokenHash).execute()
}

export async function revokeFamily(db: Db, familyId: string, reason: string): Promise<void> {
  await db
    .updateTable('refreshFamilies')
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where('id', '=', familyId)
    .where('revokedAt', 'is', null)
    .execute()
}

/** Revokes every live session of a user, except `keepFamilyId` when given. */
export async function revokeUserFamilies(db: Db, userId: string, reason: string, keepFamilyId?: string): Promise<number> {
  let query = db
    .updateTable('refreshFamilies')
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where('userId', '=', userId)
    .where('revokedAt', 'is', null)
  if (keepFamilyId) query = query.where('id', '!=', keepFamilyId)
  const result = await query.executeTakeFirst()
  return Number(result.numUpdatedRows)
}

export async function findFamily(db: Db, familyId: string) {
  return db.selectFrom('refreshFamilies').selectAll().where('id', '=', familyId).executeTakeFirst()
}
