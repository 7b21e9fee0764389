import type { EventPayload, ShareAccepted, SharePostBody } from '@sm/contracts'
import { type AuthUser, badRequest, enqueueEvent, newId, notFound, type OutboxRelay } from '@sm/platform'
import { type Kysely, sql } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import { findPostForUpdate } from '../repositories/posts.repository.ts'
import { findProfileById } from '../repositories/profiles.repository.ts'
import type { ProfilesService } from './profiles.service.ts'
import { toSummary } from './summaries.ts'

const PRODUCER = 'social'

/** Shares into DMs: counted on the post, delivered by chat from `social.post.shared`. */
export class SharesService {
  readonly #deps: { db: Kysely<SocialDatabase>; relay: OutboxRelay; profiles: ProfilesService }

  constructor(deps: { db: Kysely<SocialDatabase>; relay: OutboxRelay; profiles: ProfilesService }) {
    this.#deps = deps
  }

  async share(user: AuthUser, id: string, body: SharePostBody, requestId: string): Promise<ShareAccepted> {
    const { db, relay, profiles } = this.#deps
    if (body.toUserId === user.id) throw badRequest('CANNOT_SHARE_TO_SELF', 'share a post with someone else')
    await profiles.ensure(user, requestId)
    if (!(await findProfileById(db, body.toUserId))) throw notFound('recipient not found', 'USER_NOT_FOUND')
    const shareId = newId()
    const sharedAt = new Date()
    const shares = await db.transaction().execute(async (trx) => {
      const post = await findPostForUpdate(trx, id)
      if (!post) throw notFound('post not found (or deleted)', 'POST_NOT_FOUND')
      const author = await findProfileById(trx, post.authorId)
      await trx
        .insertInto('shares')
        .values({
          id: shareId,
          postId: id,
          fromUserId: user.id,
          toUserId: body.toUserId,
          comment: body.comment ?? null,
          createdAt: sharedAt,
        })
        .execute()
      const counted = await trx
        .updateTable('posts')
        .set({ shares: sql`shares + 1` })
        .where('id', '=', id)
        .returning('shares')
        .executeTakeFirstOrThrow()
      const snapshot: EventPayload<'social.post.shared'>['post'] = {
        id,
        author: toSummary(author ?? { id: post.authorId, username: 'unknown', nickname: null, avatarUrl: null }),
        text: post.text,
        media: post.media[0] ?? null,
        createdAt: post.createdAt.toISOString(),
      }
      await enqueueEvent(
        trx,
        PRODUCER,
        'social.post.shared',
        {
          shareId,
          fromUserId: user.id,
          toUserId: body.toUserId,
          comment: body.comment ?? null,
          post: snapshot,
          sharedAt: sharedAt.toISOString(),
        },
        requestId,
      )
      return counted.shares
    })
    relay.kick()
    return { shareId, shares }
  }
}
