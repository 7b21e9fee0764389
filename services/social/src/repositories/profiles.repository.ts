import { type Kysely, sql, type Updateable } from 'kysely'
import type { ProfileRow, ProfilesTable, SocialDatabase } from '../db/database.ts'

type Db = Kysely<SocialDatabase>

export async function findProfileById(db: Db, id: string): Promise<ProfileRow | undefined> {
  return db.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Case-insensitive; the most recently updated row wins if a replayed rename left two alike. */
export async function findProfileByUsername(db: Db, username: string): Promise<ProfileRow | undefined> {
  return db
    .selectFrom('profiles')
    .selectAll()
    .where(sql`lower(username)`, '=', username.toLowerCase())
    .orderBy('updatedAt', 'desc')
    .limit(1)
    .executeTakeFirst()
}

export async function findProfileForUpdate(db: Db, id: string): Promise<ProfileRow | undefined> {
  return db.selectFrom('profiles').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

/** Inserts the profile unless it exists; returns the new row, or undefined when it was already there. */
export async function insertProfileIfMissing(
  db: Db,
  profile: { id: string; username: string; nickname: string | null; createdAt: Date },
): Promise<ProfileRow | undefined> {
  return db
    .insertInto('profiles')
    .values({ ...profile, updatedAt: new Date() })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst()
}

/** Applies a change and bumps `version`, the order readers of `social.profile.updated` go by. */
export async function updateProfile(db: Db, id: string, patch: Updateable<ProfilesTable>): Promise<ProfileRow> {
  return db
    .updateTable('profiles')
    .set({ ...patch, version: sql`version + 1`, updatedAt: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** Counter deltas on one profile, in the caller's transaction (`x = x + d` keeps them exact); returns the row. */
export async function bumpProfileCounters(
  db: Db,
  id: string,
  delta: { followers?: number; following?: number; posts?: number },
  fanoutLimit?: number,
): Promise<ProfileRow | undefined> {
  return db
    .updateTable('profiles')
    .set((eb) => ({
      followersCount: eb('followersCount', '+', delta.followers ?? 0),
      followingCount: eb('followingCount', '+', delta.following ?? 0),
      postsCount: eb('postsCount', '+', delta.posts ?? 0),
      ...(fanoutLimit === undefined
        ? {}
        : { fanoutOnRead: sql<boolean>`fanout_on_read or followers_count + ${delta.followers ?? 0} >= ${fanoutLimit}` }),
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}
