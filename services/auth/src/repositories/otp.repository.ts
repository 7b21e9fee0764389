import { type Kysely, sql } from 'kysely'
import type { AuthDatabase, OtpCodesTable } from '../db/database.ts'

type Db = Kysely<AuthDatabase>
type Purpose = OtpCodesTable['purpose']

/** A new code replaces any earlier live one of the same purpose: only the latest mail works. */
export async function replaceOtp(
  db: Db,
  otp: { id: string; userId: string; purpose: Purpose; codeHash: string; expiresAt: Date },
): Promise<void> {
  await db
    .updateTable('otpCodes')
    .set({ usedAt: sql`now()` })
    .where('userId', '=', otp.userId)
    .where('purpose', '=', otp.purpose)
    .where('usedAt', 'is', null)
    .execute()
  await db.insertInto('otpCodes').values(otp).execute()
}

/** The live code for (user, purpose), locked so concurrent guesses count one by one. */
export async function findLiveOtpForUpdate(db: Db, userId: string, purpose: Purpose) {
  return db
    .selectFrom('otpCodes')
    .selectAll()
    .where('userId', '=', userId)
    .where('purpose', '=', purpose)
    .where('usedAt', 'is', null)
    .orderBy('createdAt', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst()
}

export async function recordFailedAttempt(db: Db, id: string, maxAttempts: number): Promise<void> {
  // The attempt that reaches the limit also kills the code.
  await db
    .updateTable('otpCodes')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      usedAt: eb
        .case()
        .when('attempts', '>=', maxAttempts - 1)
        .then(sql<Date>`now()`)
        .else(null)
        .end(),
    }))
    .where('id', '=', id)
    .execute()
}

export async function markOtpUsed(db: Db, id: string): Promise<void> {
  await db.updateTable('otpCodes').set({ usedAt: sql`now()` }).where('id', '=', id).execute()
}
