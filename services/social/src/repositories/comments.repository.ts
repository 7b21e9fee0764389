import { type Kysely, sql } from 'kysely'
import type { CommentRow, SocialDatabase } from '../db/database.ts'
import type { Cursor } from '../lib/cursor.ts'

type Db = Kysely<SocialDatabase>
const NO_VIEWER = '00000000-0000-0000-0000-000000000000'

export interface CommentView extends CommentRow {
  authorUsername: string
  authorNickname: string | null
  authorAvatarUrl: string | null
  myVote: number
}

function selectComments(db: Db, viewerId: string | undefined) {
  return db
    .selectFrom('comments as c')
    .innerJoin('profiles as a', 'a.id', 'c.authorId')
    .leftJoin('commentVotes as v', (join) => join.onRef('v.commentId', '=', 'c.id').on('v.userId', '=', viewerId ?? NO_VIEWER))
    .selectAll('c')
    .select(['a.username as authorUsername', 'a.nickname as authorNickname', 'a.avatarUrl as authorAvatarUrl'])
    .select(sql<number>`coalesce(v.value, 0)::int`.as('myVote'))
}

export async function findCommentView(db: Db, id: string, viewerId: string | undefined): Promise<CommentView | undefined> {
  return selectComments(db, viewerId).where('c.id', '=', id).executeTakeFirst() as Promise<CommentView | undefined>
}

/** Oldest first, replies inline (each names its parent). */
export async function findCommentPage(db: Db, postId: string, viewerId: string | undefined, cursor: Cursor | undefined, limit: number) {
  let query = selectComments(db, viewerId).where('c.postId', '=', postId)
  if (cursor) query = query.where(sql<boolean>`(c.created_at, c.id) > (${cursor.createdAt}, ${cursor.id})`)
  return query
    .orderBy('c.createdAt', 'asc')
    .orderBy('c.id', 'asc')
    .limit(limit + 1)
    .execute() as Promise<CommentView[]>
}

/**
 * Locks the comment's post, then the comment (the order post deletion takes them in, so the
 * two cannot deadlock), and returns the comment with its post's author.
 */
export async function findCommentForUpdate(db: Db, id: string) {
  const target = await db.selectFrom('comments').select('postId').where('id', '=', id).executeTakeFirst()
  if (!target) return undefined
  await db.selectFrom('posts').select('id').where('id', '=', target.postId).forUpdate().execute()
  return db
    .selectFrom('comments as c')
    .innerJoin('posts as p', 'p.id', 'c.postId')
    .selectAll('c')
    .select('p.authorId as postAuthorId')
    .where('c.id', '=', id)
    .forUpdate('c')
    .executeTakeFirst()
}
