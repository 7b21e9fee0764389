import { type Kysely, sql } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import type { Cursor } from '../lib/cursor.ts'

type Db = Kysely<SocialDatabase>

/** True when the row was new (a repeated follow changes nothing). */
export async function insertFollow(db: Db, followerId: string, followeeId: string, createdAt: Date): Promise<boolean> {
  const row = await db
    .insertInto('follows')
    .values({ followerId, followeeId, createdAt })
    .onConflict((oc) => oc.columns(['followerId', 'followeeId']).doNothing())
    .returning('followerId')
    .executeTakeFirst()
  return row !== undefined
}

export async function deleteFollow(db: Db, followerId: string, followeeId: string): Promise<boolean> {
  const row = await db
    .deleteFrom('follows')
    .where('followerId', '=', followerId)
    .where('followeeId', '=', followeeId)
    .returning('followerId')
    .executeTakeFirst()
  return row !== undefined
}

export async function followFlags(db: Db, viewerId: string, otherId: string): Promise<{ isFollowing: boolean; followsYou: boolean }> {
  const rows = await db
    .selectFrom('follows')
    .select(['followerId'])
    .where((eb) =>
      eb.or([
        eb.and([eb('followerId', '=', viewerId), eb('followeeId', '=', otherId)]),
        eb.and([eb('followerId', '=', otherId), eb('followeeId', '=', viewerId)]),
      ]),
    )
    .execute()
  return { isFollowing: rows.some((r) => r.followerId === viewerId), followsYou: rows.some((r) => r.followerId === otherId) }
}

export interface FollowListRow {
  id: string
  username: string
  nickname: string | null
  avatarUrl: string | null
  followedAt: Date
}

/** One keyset page of `userId`'s followers (side 'followers') or followees ('following'), newest first. */
export async function findFollowPage(db: Db, side: 'followers' | 'following', userId: string, cursor: Cursor | undefined, limit: number) {
  const [own, other] = side === 'followers' ? (['f.followeeId', 'f.followerId'] as const) : (['f.followerId', 'f.followeeId'] as const)
  let query = db
    .selectFrom('follows as f')
    .innerJoin('profiles as p', 'p.id', other)
    .select(['p.id', 'p.username', 'p.nickname', 'p.avatarUrl', 'f.createdAt as followedAt'])
    .where(own, '=', userId)
  if (cursor) query = query.where(sql<boolean>`(f.created_at, ${sql.ref(other)}) < (${cursor.createdAt}, ${cursor.id})`)
  return query
    .orderBy('f.createdAt', 'desc')
    .orderBy(other, 'desc')
    .limit(limit + 1)
    .execute() as Promise<FollowListRow[]>
}

/** Followers to fan a post out to, in pages (an author below the fan-out limit has a bounded number). */
/**
 * A page of an author's followers to fan a post out to: none when the author is merged at
 * read time (`fanout_on_read`), checked in the same statement.
 */
export async function findFanoutFollowerIds(db: Db, authorId: string, afterId: string | undefined, limit: number): Promise<string[]> {
  let query = db
    .selectFrom('follows')
    .select('followerId')
    .where('followeeId', '=', authorId)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('profiles').select('id').where('id', '=', authorId).where('fanoutOnRead', '=', true))))
  if (afterId) query = query.where('followerId', '>', afterId)
  const rows = await query.orderBy('followerId').limit(limit).execute()
  return rows.map((r) => r.followerId)
}

export async function findFollowerIds(db: Db, followeeId: string, afterId: string | undefined, limit: number): Promise<string[]> {
  let query = db.selectFrom('follows').select('followerId').where('followeeId', '=', followeeId)
  if (afterId) query = query.where('followerId', '>', afterId)
  const rows = await query.orderBy('followerId').limit(limit).execute()
  return rows.map((r) => r.followerId)
}
