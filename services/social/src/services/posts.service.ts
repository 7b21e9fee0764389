import type { CreatePostBody, EventPayload, MediaRef, Post, UpdatePostBody, VoteResult } from '@sm/contracts'
import { type AuthUser, badRequest, enqueueEvent, forbidden, notFound, type OutboxRelay, outboxRow } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { PostRow, SocialDatabase } from '../db/database.ts'
import { type Cursor, decodeCursor, toPage } from '../lib/cursor.ts'
import { parseHashtags } from '../lib/hashtags.ts'
import { newTimedId } from '../lib/ids.ts'
import {
  deletePost,
  findAuthorPage,
  findHashtagPage,
  findPostForUpdate,
  findPostView,
  findPostViews,
  insertPostWithEvent,
  type PostView,
  replaceHashtags,
  updatePostContent,
} from '../repositories/posts.repository.ts'
import { bumpProfileCounters, findProfileById, findProfileByUsername } from '../repositories/profiles.repository.ts'
import type { MediaClient } from './media.client.ts'
import type { ProfilesService } from './profiles.service.ts'
import { toSummary } from './summaries.ts'
import type { ViewCounter } from './views.service.ts'
import { applyVote } from './votes.ts'

const PRODUCER = 'social'
export const postRef = (postId: string) => `post:${postId}`

export interface PostsDeps {
  db: Kysely<SocialDatabase>
  relay: OutboxRelay
  media: MediaClient
  profiles: ProfilesService
  views: ViewCounter
}

type PageQuery = { limit?: number; cursor?: string }

/** Posts, their votes and shares. Only the author edits or deletes. */
export class PostsService {
  readonly #deps: PostsDeps

  constructor(deps: PostsDeps) {
    this.#deps = deps
  }

  /** Post rows → API posts, with view totals newer in Redis than in Postgres. */
  async present(rows: PostView[]): Promise<Post[]> {
    const totals = await this.#deps.views.totals(rows.map((r) => r.id))
    return rows.map((row) => toPost(row, totals.get(row.id)))
  }

  async create(user: AuthUser, body: CreatePostBody, requestId: string): Promise<Post> {
    const { db, relay, media, profiles } = this.#deps
    const text = body.text ?? ''
    const mediaIds = body.mediaIds ?? []
    if (text.trim() === '' && mediaIds.length === 0) throw badRequest('EMPTY_POST', 'a post needs text or media')
    await profiles.ensure(user, requestId)
    const { id, createdAt } = newTimedId()
    const claimed = await media.claim(user.id, 'post', mediaIds, postRef(id))
    const hashtags = parseHashtags(text)
    // The event's author summary is the row the statement bumps (a rename racing this post
    // cannot leave it stale); the placeholder only lets the rest of the payload be validated now.
    const placeholder = { id: user.id, username: user.username, nickname: null, avatarUrl: null }
    const written = writtenEvent({ id, text, hashtags, media: claimed, createdAt, editedAt: null, version: 1 }, placeholder)
    let author: Awaited<ReturnType<typeof insertPostWithEvent>>
    try {
      author = await insertPostWithEvent(
        db,
        { id, authorId: user.id, text, hashtags, media: claimed, createdAt },
        outboxRow(PRODUCER, 'social.post.created', written, requestId),
      )
      // ensure() above created the profile; only a concurrent account deletion gets here.
      if (!author) throw new Error('post author has no profile')
    } catch (error) {
      await media.release(mediaIds, postRef(id))
      throw error
    }
    relay.kick()
    // Everything a new post shows is known here: no read back.
    return {
      id,
      author: toSummary(author),
      text,
      hashtags,
      media: claimed,
      likes: 0,
      dislikes: 0,
      comments: 0,
      views: 0,
      shares: 0,
      myVote: 0,
      createdAt: written.createdAt,
      editedAt: null,
    }
  }

  async get(id: string, viewerId: string | undefined): Promise<Post> {
    const row = await findPostView(this.#deps.db, id, viewerId)
    if (!row) throw notFound('post not found', 'POST_NOT_FOUND')
    const [post] = await this.present([row])
    return post as Post
  }

  /** GET /posts/:id: the read counts one view (Redis, no row lock). */
  async view(id: string, viewerId: string | undefined, viewerAddress: string): Promise<Post> {
    const row = await findPostView(this.#deps.db, id, viewerId)
    if (!row) throw notFound('post not found', 'POST_NOT_FOUND')
    const total = await this.#deps.views.record(id, Number(row.views), viewerId ?? `ip:${viewerAddress}`)
    return toPost(row, total)
  }

  async #ownPostForUpdate(trx: Kysely<SocialDatabase>, user: AuthUser, id: string): Promise<PostRow> {
    const post = await findPostForUpdate(trx, id)
    if (!post) throw notFound('post not found', 'POST_NOT_FOUND')
    if (post.authorId !== user.id) throw forbidden('only the author can change this post', 'NOT_POST_AUTHOR')
    return post
  }

  async update(user: AuthUser, id: string, body: UpdatePostBody, requestId: string): Promise<Post> {
    const { db, relay, media } = this.#deps
    const current = await findPostView(db, id, user.id)
    if (!current) throw notFound('post not found', 'POST_NOT_FOUND')
    if (current.authorId !== user.id) throw forbidden('only the author can change this post', 'NOT_POST_AUTHOR')
    const ref = postRef(id)
    const keptIds = new Set(current.media.map((m) => m.id))
    const added = (body.mediaIds ?? []).filter((mediaId) => !keptIds.has(mediaId))
    const claimed = new Map((await media.claim(user.id, 'post', added, ref)).map((m) => [m.id, m]))
    let removed: string[] = []
    await db
      .transaction()
      .execute(async (trx) => {
        const post = await this.#ownPostForUpdate(trx, user, id)
        const byId = new Map<string, MediaRef>([...post.media.map((m) => [m.id, m] as const), ...claimed])
        const nextMedia = body.mediaIds === undefined ? post.media : body.mediaIds.map((mediaId) => byId.get(mediaId) as MediaRef)
        const text = body.text ?? post.text
        if (text.trim() === '' && nextMedia.length === 0) throw badRequest('EMPTY_POST', 'a post needs text or media')
        removed = post.media.filter((m) => !nextMedia.some((n) => n.id === m.id)).map((m) => m.id)
        const hashtags = parseHashtags(text)
        const updated = await updatePostContent(trx, id, { text, hashtags, media: nextMedia })
        await replaceHashtags(trx, id, hashtags, updated.createdAt)
        const author = await findProfileById(trx, user.id)
        await enqueueEvent(trx, PRODUCER, 'social.post.updated', writtenEvent(updated, author), requestId)
      })
      .catch(async (error: unknown) => {
        await media.release([...claimed.keys()], ref)
        throw error
      })
    relay.kick()
    await media.release(removed, ref)
    return this.get(id, user.id)
  }

  async delete(user: AuthUser, id: string, requestId: string): Promise<void> {
    const { db, relay, media, views } = this.#deps
    const post = await db.transaction().execute(async (trx) => {
      const row = await this.#ownPostForUpdate(trx, user, id)
      await deletePost(trx, id)
      await bumpProfileCounters(trx, user.id, { posts: -1 })
      await enqueueEvent(
        trx,
        PRODUCER,
        'social.post.deleted',
        { postId: id, authorId: user.id, deletedAt: new Date().toISOString(), version: row.version + 1 },
        requestId,
      )
      return row
    })
    relay.kick()
    await views.forget(id)
    await media.release(
      post.media.map((m) => m.id),
      postRef(id),
    )
  }

  /** Sets the caller's vote; the post row lock orders concurrent voters, so counts stay exact. */
  async vote(user: AuthUser, id: string, value: number): Promise<VoteResult> {
    return this.#deps.db.transaction().execute(async (trx) => {
      const post = await findPostForUpdate(trx, id)
      if (!post) throw notFound('post not found', 'POST_NOT_FOUND')
      const { likes, dislikes } = await applyVote(trx, { table: 'postVotes', idColumn: 'postId', counters: 'posts' }, id, user.id, value)
      return { likes, dislikes, myVote: value as VoteResult['myVote'] }
    })
  }

  async listByUser(username: string, viewerId: string | undefined, query: PageQuery) {
    const cursor = decodeCursor(query.cursor)
    const limit = query.limit ?? 20
    const profile = await findProfileByUsername(this.#deps.db, username)
    if (!profile) throw notFound(`no user named ${username}`, 'USER_NOT_FOUND')
    return this.#page(await findAuthorPage(this.#deps.db, profile.id, viewerId, cursor, limit), limit)
  }

  async listByTag(tag: string, viewerId: string | undefined, query: PageQuery) {
    const cursor = decodeCursor(query.cursor)
    const limit = query.limit ?? 20
    return this.#page(await findHashtagPage(this.#deps.db, tag.toLowerCase(), viewerId, cursor, limit), limit)
  }

  async #page(rows: PostView[], limit: number) {
    const page = toPage(
      rows,
      limit,
      (row): Cursor => ({ createdAt: row.createdAt, id: row.id }),
      (row) => row,
    )
    return { items: await this.present(page.items), nextCursor: page.nextCursor }
  }

  /** Hydrates ids in the order given (ids that no longer resolve are skipped). */
  async hydrate(ids: string[], viewerId: string): Promise<Post[]> {
    const rows = await findPostViews(this.#deps.db, ids, viewerId)
    const byId = new Map(rows.map((row) => [row.id, row]))
    return this.present(ids.map((id) => byId.get(id)).filter((row): row is PostView => row !== undefined))
  }
}

export function toPost(row: PostView, viewsInRedis = 0): Post {
  return {
    id: row.id,
    author: { id: row.authorId, username: row.authorUsername, nickname: row.authorNickname, avatarUrl: row.authorAvatarUrl },
    text: row.text,
    hashtags: row.hashtags,
    media: row.media,
    likes: row.likes,
    dislikes: row.dislikes,
    comments: row.commentsCount,
    views: Math.max(Number(row.views), viewsInRedis),
    shares: row.shares,
    myVote: row.myVote as Post['myVote'],
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt ? row.editedAt.toISOString() : null,
  }
}

function writtenEvent(
  post: Pick<PostRow, 'id' | 'text' | 'hashtags' | 'media' | 'createdAt' | 'editedAt' | 'version'>,
  author: { id: string; username: string; nickname: string | null; avatarUrl: string | null } | undefined,
): EventPayload<'social.post.created'> {
  if (!author) throw new Error('post author has no profile')
  return {
    postId: post.id,
    author: toSummary(author),
    text: post.text,
    hashtags: post.hashtags,
    media: post.media,
    createdAt: post.createdAt.toISOString(),
    editedAt: post.editedAt ? post.editedAt.toISOString() : null,
    version: post.version,
  }
}
