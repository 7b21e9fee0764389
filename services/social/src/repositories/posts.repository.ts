import type { MediaRef, UserSummary } from '@sm/contracts'
import type { OutboxRow } from '@sm/platform'
import { type Kysely, sql } from 'kysely'
import type { PostRow, SocialDatabase } from '../db/database.ts'
import type { Cursor } from '../lib/cursor.ts'

type Db = Kysely<SocialDatabase>

/** Never a real user: stands in for "no viewer" so the vote join stays one query shape. */
const NO_VIEWER = '00000000-0000-0000-0000-000000000000'

export interface PostView extends PostRow {
  authorUsername: string
  authorNickname: string | null
  authorAvatarUrl: string | null
  myVote: number
}

/** Posts with their author's current summary and the viewer's vote, in one query. */
export function selectPosts(db: Db, viewerId: string | undefined) {
  return db
    .selectFrom('posts as p')
    .innerJoin('profiles as a', 'a.id', 'p.authorId')
    .leftJoin('postVotes as v', (join) => join.onRef('v.postId', '=', 'p.id').on('v.userId', '=', viewerId ?? NO_VIEWER))
    .selectAll('p')
    .select(['a.username as authorUsername', 'a.nickname as authorNickname', 'a.avatarUrl as authorAvatarUrl'])
    .select(sql<number>`coalesce(v.value, 0)::int`.as('myVote'))
}

export async function findPostView(db: Db, id: string, viewerId: string | undefined): Promise<PostView | undefined> {
  return selectPosts(db, viewerId).where('p.id', '=', id).executeTakeFirst() as Promise<PostView | undefined>
}

/** Posts by id, in one query (any order; ids that no longer exist are left out). */
export async function findPostViews(db: Db, ids: string[], viewerId: string | undefined): Promise<PostView[]> {
  if (ids.length === 0) return []
  return selectPosts(db, viewerId).where('p.id', '=', sql<string>`any(${ids}::uuid[])`).execute() as Promise<PostView[]>
}

export async function findAuthorPage(db: Db, authorId: string, viewerId: string | undefined, cursor: Cursor | undefined, limit: number) {
  let query = selectPosts(db, viewerId).where('p.authorId', '=', authorId)
  if (cursor) query = query.where(sql<boolean>`(p.created_at, p.id) < (${cursor.createdAt}, ${cursor.id})`)
  return query
    .orderBy('p.createdAt', 'desc')
    .orderBy('p.id', 'desc')
    .limit(limit + 1)
    .execute() as Promise<PostView[]>
}

export async function findHashtagPage(db: Db, tag: string, viewerId: string | undefined, cursor: Cursor | undefined, limit: number) {
  let query = selectPosts(db, viewerId).innerJoin('postHashtags as h', 'h.postId', 'p.id').where('h.tag', '=', tag)
  if (cursor) query = query.where(sql<boolean>`(h.created_at, h.post_id) < (${cursor.createdAt}, ${cursor.id})`)
  return query
    .orderBy('h.createdAt', 'desc')
    .orderBy('h.postId', 'desc')
    .limit(limit + 1)
    .execute() as Promise<PostView[]>
}

export interface PostKey {
  id: string
  createdAt: Date
}

const before = (cursor: Cursor | undefined) => (cursor ? sql`and (created_at, id) < (${cursor.createdAt}, ${cursor.id}::uuid)` : sql``)

/**
 * The home feed straight from Postgres, for pages older than a Redis timeline holds (and to
 * build one): the user's own posts and those of everyone they follow, older than `cursor`.
 * Not a join over follows (its plan flips between users, often to a scan of all posts): one
 * short index range per followed author, merged, so the cost grows with the number of
 * follows and the page size, never with the size of the posts table or the cursor's depth.
 */
export async function findFeedKeysBefore(db: Db, userId: string, cursor: Cursor | undefined, limit: number): Promise<PostKey[]> {
  const result = await sql<PostKey>`
    select p.id, p.created_at as "createdAt"
    from (select ${userId}::uuid as author_id union all select followee_id from follows where follower_id = ${userId}) a
    cross join lateral (
      select id, created_at from posts
      where author_id = a.author_id ${before(cursor)}
      order by created_at desc, id desc
      limit ${limit}
    ) p
    order by p.created_at desc, p.id desc
    limit ${limit}`.execute(db)
  return result.rows
}

export interface FeedWindowRow extends Partial<PostView> {
  windowId: string
}

/**
 * One feed page in one round trip: the candidate ids from the Redis timeline, plus — with
 * `fallback` — the user's and their followees' posts older than `fallback.before` (pages beyond
 * the timeline, or no timeline at all), plus — with `merge` — the newest posts of followed
 * very-followed authors; sorted by id, cut to `limit`, and hydrated (author summary, the
 * viewer's vote). Every window id comes back in order; a row without `id` is a post that
 * vanished (deleted, or its author no longer followed), so the caller can still place its cursor.
 */
export async function findFeedWindow(
  db: Db,
  opts: {
    userId: string
    ids: string[]
    merge: boolean
    fallback: { before: Cursor | undefined } | undefined
    cursor: Cursor | undefined
    limit: number
  },
): Promise<FeedWindowRow[]> {
  const { userId, ids, cursor, limit } = opts
  const fallback = opts.fallback
    ? sql`
      union
      select p.id from (select ${userId}::uuid as author_id union all select followee_id from follows where follower_id = ${userId}) fa
      cross join lateral (
        select id from posts where author_id = fa.author_id ${before(opts.fallback.before)}
        order by created_at desc, id desc
        limit ${limit}
      ) p`
    : sql``
  const merged = opts.merge
    ? sql`
      union
      select p.id from follows f
      join profiles ma on ma.id = f.followee_id and ma.fanout_on_read
      cross join lateral (
        select id from posts where author_id = f.followee_id ${before(cursor)}
        order by created_at desc, id desc
        limit ${limit}
      ) p
      where f.follower_id = ${userId}`
    : sql``
  const result = await sql<FeedWindowRow>`
    with win as (
      select id from (select unnest(${ids}::uuid[]) as id ${fallback} ${merged}) candidates
      order by id desc
      limit ${limit}
    )
    select win.id as "windowId", p.id, p.author_id as "authorId", p.text, p.hashtags, p.media, p.likes, p.dislikes,
      p.comments_count as "commentsCount", p.views, p.shares, p.version, p.created_at as "createdAt", p.edited_at as "editedAt",
      a.username as "authorUsername", a.nickname as "authorNickname", a.avatar_url as "authorAvatarUrl",
      coalesce(v.value, 0)::int as "myVote"
    from win
    left join posts p on p.id = win.id
      and (p.author_id = ${userId} or exists (select 1 from follows f2 where f2.follower_id = ${userId} and f2.followee_id = p.author_id))
    left join profiles a on a.id = p.author_id
    left join post_votes v on v.post_id = p.id and v.user_id = ${userId}
    order by win.id desc`.execute(db)
  return result.rows
}

/** Ids of an author's newest posts: what a follow adds to, or an unfollow removes from, a timeline. */
export async function findAuthorPostIds(db: Db, authorId: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('posts')
    .select('id')
    .where('authorId', '=', authorId)
    .orderBy('createdAt', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
  return rows.map((r) => r.id)
}

export async function findPostForUpdate(db: Db, id: string): Promise<PostRow | undefined> {
  return db.selectFrom('posts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

/**
 * Compose in one statement, so one round trip and no explicit transaction: bump the author's
 * post count (taking their current summary), insert the post and its hashtag rows, and record
 * `event` in the outbox with the author's summary written into `data.author`. Nothing is written
 * when the author has no profile (`undefined` comes back). A statement is atomic on its own.
 */
export async function insertPostWithEvent(
  db: Db,
  post: { id: string; authorId: string; text: string; hashtags: string[]; media: MediaRef[]; createdAt: Date },
  event: OutboxRow,
): Promise<UserSummary | undefined> {
  const result = await sql<UserSummary>`
    with author as (
      update profiles set posts_count = posts_count + 1 where id = ${post.authorId}
      returning id, username, nickname, avatar_url
    ), post as (
      insert into posts (id, author_id, text, hashtags, media, created_at)
      select ${post.id}, author.id, ${post.text}, ${post.hashtags}::text[], ${JSON.stringify(post.media)}::jsonb, ${post.createdAt}
      from author
      returning id, created_at
    ), tags as (
      insert into post_hashtags (tag, post_id, created_at)
      select tag, post.id, post.created_at from post cross join unnest(${post.hashtags}::text[]) tag
    ), event as (
      insert into outbox (id, type, payload, request_id)
      select ${event.id}, ${event.type},
        jsonb_set(${event.payload}::jsonb, '{data,author}',
          jsonb_build_object('id', author.id, 'username', author.username, 'nickname', author.nickname, 'avatarUrl', author.avatar_url)),
        ${event.requestId}
      from author, post
    )
    select id, username, nickname, avatar_url as "avatarUrl" from author`.execute(db)
  return result.rows[0]
}

export async function replaceHashtags(db: Db, postId: string, tags: string[], createdAt: Date): Promise<void> {
  await db.deleteFrom('postHashtags').where('postId', '=', postId).execute()
  if (tags.length > 0)
    await db
      .insertInto('postHashtags')
      .values(tags.map((tag) => ({ tag, postId, createdAt })))
      .execute()
}

export async function updatePostContent(
  db: Db,
  id: string,
  change: { text: string; hashtags: string[]; media: MediaRef[] },
): Promise<PostRow> {
  return db
    .updateTable('posts')
    .set({ ...change, media: JSON.stringify(change.media) as unknown as MediaRef[], editedAt: new Date(), version: sql`version + 1` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** Comments, votes, hashtag links and shares go with the post (foreign keys cascade). */
export async function deletePost(db: Db, id: string): Promise<void> {
  await db.deleteFrom('posts').where('id', '=', id).execute()
}
