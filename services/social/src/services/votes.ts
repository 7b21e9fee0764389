import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'

type VoteTarget =
  | { table: 'postVotes'; idColumn: 'postId'; counters: 'posts' }
  | { table: 'commentVotes'; idColumn: 'commentId'; counters: 'comments' }

/**
 * Sets (or with 0 clears) one user's vote and moves the target's like/dislike counters by the
 * difference, in the caller's transaction (which holds the target row's lock).
 */
export async function applyVote(trx: Kysely<SocialDatabase>, target: VoteTarget, id: string, userId: string, value: number) {
  // biome-ignore lint/suspicious/noExplicitAny: one code path for two vote tables with the same shape
  const db = trx as Kysely<any>
  const previous = await db
    .selectFrom(target.table)
    .select('value')
    .where(target.idColumn, '=', id)
    .where('userId', '=', userId)
    .executeTakeFirst()
  const before = (previous?.value as number | undefined) ?? 0
  if (value === 0) await db.deleteFrom(target.table).where(target.idColumn, '=', id).where('userId', '=', userId).execute()
  else if (before === 0)
    await db
      .insertInto(target.table)
      .values({ [target.idColumn]: id, userId, value })
      .execute()
  else if (before !== value)
    await db.updateTable(target.table).set({ value }).where(target.idColumn, '=', id).where('userId', '=', userId).execute()
  const likeDelta = (value === 1 ? 1 : 0) - (before === 1 ? 1 : 0)
  const dislikeDelta = (value === -1 ? 1 : 0) - (before === -1 ? 1 : 0)
  const counts = await db
    .updateTable(target.counters)
    .set({ likes: sql`likes + ${likeDelta}`, dislikes: sql`dislikes + ${dislikeDelta}` })
    .where('id', '=', id)
    .returning(['likes', 'dislikes'])
    .executeTakeFirstOrThrow()
  return counts as { likes: number; dislikes: number }
}
