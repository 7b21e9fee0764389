import type { UserSummary } from '@sm/contracts'
import { type Kysely, sql, type Transaction } from 'kysely'
import type { ChatDatabase } from '../db/database.ts'

type Db = Kysely<ChatDatabase> | Transaction<ChatDatabase>

/** auth.user.registered: the account exists (a placeholder made up earlier becomes real). */
export async function upsertRegistered(db: Db, user: { id: string; username: string; nickname: string | null }): Promise<void> {
  await db
    .insertInto('users')
    .values({ id: user.id, username: user.username, nickname: user.nickname, avatarUrl: null })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        username: eb.ref('excluded.username'),
        // A profile already applied from social knows the nickname better than registration.
        nickname: sql`case when users.profile_version > 0 then users.nickname else excluded.nickname end`,
        known: true,
        updatedAt: sql`now()`,
      })),
    )
    .execute()
}

export async function updateUsername(db: Db, id: string, username: string): Promise<void> {
  await db
    .insertInto('users')
    .values({ id, username, nickname: null, avatarUrl: null })
    .onConflict((oc) => oc.column('id').doUpdateSet({ username, known: true, updatedAt: sql`now()` }))
    .execute()
}

/** social.profile.updated: applied only when its version is newer than what we hold. */
export async function applyProfile(
  db: Db,
  profile: { userId: string; username: string; nickname: string | null; avatarUrl: string | null; version: number },
): Promise<void> {
  await db
    .insertInto('users')
    .values({
      id: profile.userId,
      username: profile.username,
      nickname: profile.nickname,
      avatarUrl: profile.avatarUrl,
      profileVersion: profile.version,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({
          username: profile.username,
          nickname: profile.nickname,
          avatarUrl: profile.avatarUrl,
          profileVersion: profile.version,
          known: true,
          updatedAt: sql`now()`,
        })
        .where('users.profileVersion', '<', profile.version),
    )
    .execute()
}

/** Makes sure a row exists (a token's user, or a share's users seen before auth's event). */
export async function ensureUser(db: Db, id: string, username: string, known: boolean): Promise<void> {
  await db
    .insertInto('users')
    .values({ id, username, nickname: null, avatarUrl: null, known })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute()
}

export async function userExists(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()
  return row !== undefined
}

export async function findSummaries(db: Db, ids: string[]): Promise<Map<string, UserSummary>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom('users').select(['id', 'username', 'nickname', 'avatarUrl']).where('id', 'in', ids).execute()
  return new Map(rows.map((row) => [row.id, row]))
}
