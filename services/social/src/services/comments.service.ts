import type { Comment, CreateCommentBody, VoteResult } from '@sm/contracts'
import { type AuthUser, badRequest, forbidden, notFound } from '@sm/platform'
import { type Kysely, sql } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import { decodeCursor, toPage } from '../lib/cursor.ts'
import { newTimedId } from '../lib/ids.ts'
import { type CommentView, findCommentForUpdate, findCommentPage, findCommentView } from '../repositories/comments.repository.ts'
import type { ProfilesService } from './profiles.service.ts'
import { applyVote } from './votes.ts'

export interface CommentsDeps {
  db: Kysely<SocialDatabase>
  profiles: ProfilesService
}

/** Comments with one level of replies; the post's comment counter moves in the same transaction. */
export class CommentsService {
  readonly #deps: CommentsDeps

  constructor(deps: CommentsDeps) {
    this.#deps = deps
  }

  async create(user: AuthUser, postId: string, body: CreateCommentBody, requestId: string): Promise<Comment> {
    const { db, profiles } = this.#deps
    if (body.text.trim() === '') throw badRequest('EMPTY_COMMENT', 'a comment needs text')
    await profiles.ensure(user, requestId)
    const { id, createdAt } = newTimedId()
    await db.transaction().execute(async (trx) => {
      // Counting first also locks the post, so a concurrent delete of it cannot interleave.
      const counted = await trx
        .updateTable('posts')
        .set({ commentsCount: sql`comments_count + 1` })
        .where('id', '=', postId)
        .returning('id')
        .executeTakeFirst()
      if (!counted) throw notFound('post not found', 'POST_NOT_FOUND')
      if (body.parentId) {
        const parent = await trx.selectFrom('comments').select(['postId', 'parentId']).where('id', '=', body.parentId).executeTakeFirst()
        if (!parent || parent.postId !== postId) throw badRequest('INVALID_PARENT', 'parentId must be a comment on the same post')
        if (parent.parentId !== null) throw badRequest('INVALID_PARENT', 'replies go one level deep: reply to the top-level comment')
      }
      await trx
        .insertInto('comments')
        .values({ id, postId, parentId: body.parentId ?? null, authorId: user.id, text: body.text, createdAt })
        .execute()
    })
    return this.get(id, user.id)
  }

  async get(id: string, viewerId: string | undefined): Promise<Comment> {
    const row = await findCommentView(this.#deps.db, id, viewerId)
    if (!row) throw notFound('comment not found', 'COMMENT_NOT_FOUND')
    return toComment(row)
  }

  async list(postId: string, viewerId: string | undefined, query: { limit?: number; cursor?: string }) {
    const { db } = this.#deps
    const cursor = decodeCursor(query.cursor)
    const limit = query.limit ?? 20
    const post = await db.selectFrom('posts').select('id').where('id', '=', postId).executeTakeFirst()
    if (!post) throw notFound('post not found', 'POST_NOT_FOUND')
    const rows = await findCommentPage(db, postId, viewerId, cursor, limit)
    return toPage(rows, limit, (row) => ({ createdAt: row.createdAt, id: row.id }), toComment)
  }

  async update(user: AuthUser, id: string, text: string): Promise<Comment> {
    if (text.trim() === '') throw badRequest('EMPTY_COMMENT', 'a comment needs text')
    await this.#deps.db.transaction().execute(async (trx) => {
      const comment = await findCommentForUpdate(trx, id)
      if (!comment) throw notFound('comment not found', 'COMMENT_NOT_FOUND')
      if (comment.authorId !== user.id) throw forbidden('only the author can edit this comment', 'NOT_COMMENT_AUTHOR')
      await trx.updateTable('comments').set({ text, editedAt: new Date() }).where('id', '=', id).execute()
    })
    return this.get(id, user.id)
  }

  /** The comment's author or the post's author; replies go with their parent. */
  async delete(user: AuthUser, id: string): Promise<void> {
    await this.#deps.db.transaction().execute(async (trx) => {
      const comment = await findCommentForUpdate(trx, id)
      if (!comment) throw notFound('comment not found', 'COMMENT_NOT_FOUND')
      if (comment.authorId !== user.id && comment.postAuthorId !== user.id) {
        throw forbidden('only the comment author or the post author can delete this comment', 'NOT_COMMENT_AUTHOR')
      }
      const deleted = await trx
        .deleteFrom('comments')
        .where((eb) => eb.or([eb('id', '=', id), eb('parentId', '=', id)]))
        .returning('id')
        .execute()
      await trx
        .updateTable('posts')
        .set({ commentsCount: sql`greatest(comments_count - ${deleted.length}, 0)` })
        .where('id', '=', comment.postId)
        .execute()
    })
  }

  async vote(user: AuthUser, id: string, value: number): Promise<VoteResult> {
    return this.#deps.db.transaction().execute(async (trx) => {
      const comment = await trx.selectFrom('comments').select('id').where('id', '=', id).forUpdate().executeTakeFirst()
      if (!comment) throw notFound('comment not found', 'COMMENT_NOT_FOUND')
      const counts = await applyVote(trx, { table: 'commentVotes', idColumn: 'commentId', counters: 'comments' }, id, user.id, value)
      return { ...counts, myVote: value as VoteResult['myVote'] }
    })
  }
}

export function toComment(row: CommentView): Comment {
  return {
    id: row.id,
    postId: row.postId,
    parentId: row.parentId,
    author: { id: row.authorId, username: row.authorUsername, nickname: row.authorNickname, avatarUrl: row.authorAvatarUrl },
    text: row.text,
    likes: row.likes,
    dislikes: row.dislikes,
    myVote: row.myVote as Comment['myVote'],
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt ? row.editedAt.toISOString() : null,
  }
}
