import type { MyAnalytics, PostAnalytics } from '@sm/contracts'
import { type AuthUser, forbidden, notFound } from '@sm/platform'
import { type Kysely, sql } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import type { PostsService } from './posts.service.ts'
import type { ViewCounter } from './views.service.ts'

const TOP_POSTS = 5

const rate = (engagements: number, views: number) => (views > 0 ? Math.round((engagements / views) * 10_000) / 10_000 : 0)

/** Aggregates in a fixed number of queries, whatever the number of posts (no N+1). */
export class AnalyticsService {
  readonly #db: Kysely<SocialDatabase>
  readonly #views: ViewCounter
  readonly #posts: PostsService

  constructor(deps: { db: Kysely<SocialDatabase>; views: ViewCounter; posts: PostsService }) {
    this.#db = deps.db
    this.#views = deps.views
    this.#posts = deps.posts
  }

  async mine(user: AuthUser): Promise<MyAnalytics> {
    const db = this.#db
    const [received, ids, given, written, commentVotes, top] = await Promise.all([
      db
        .selectFrom('posts')
        .select([
          sql<number>`count(*)::int`.as('posts'),
          sql<number>`coalesce(sum(likes), 0)::int`.as('likes'),
          sql<number>`coalesce(sum(dislikes), 0)::int`.as('dislikes'),
          sql<number>`coalesce(sum(comments_count), 0)::int`.as('comments'),
          sql<number>`coalesce(sum(shares), 0)::int`.as('shares'),
        ])
        .where('authorId', '=', user.id)
        .executeTakeFirstOrThrow(),
      db.selectFrom('posts').select(['id', 'views']).where('authorId', '=', user.id).execute(),
      sql<{ likes: number; dislikes: number }>`
        select count(*) filter (where value = 1)::int as likes, count(*) filter (where value = -1)::int as dislikes
        from (select value from post_votes where user_id = ${user.id}
              union all select value from comment_votes where user_id = ${user.id}) v`.execute(db),
      db.selectFrom('comments').select(sql<number>`count(*)::int`.as('count')).where('authorId', '=', user.id).executeTakeFirstOrThrow(),
      db
        .selectFrom('comments')
        .select([sql<number>`coalesce(sum(likes), 0)::int`.as('likes'), sql<number>`coalesce(sum(dislikes), 0)::int`.as('dislikes')])
        .where('authorId', '=', user.id)
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('posts')
        .select('id')
        .where('authorId', '=', user.id)
        .orderBy(sql`likes + dislikes + comments_count + shares`, 'desc')
        .orderBy('id', 'desc')
        .limit(TOP_POSTS)
        .execute(),
    ])
    // One MGET for every post's Redis total: a fixed number of round trips, whatever the post count.
    const totals = await this.#views.totals(ids.map((r) => r.id))
    const views = ids.reduce((sum, row) => sum + Math.max(Number(row.views), totals.get(row.id) ?? 0), 0)
    const engagements = received.likes + received.dislikes + received.comments + received.shares
    return {
      posts: received.posts,
      views,
      likesReceived: received.likes,
      dislikesReceived: received.dislikes,
      commentsReceived: received.comments,
      sharesReceived: received.shares,
      votesGiven: given.rows[0] ?? { likes: 0, dislikes: 0 },
      commentsWritten: written.count,
      commentVotesReceived: commentVotes,
      engagementRate: rate(engagements, views),
      topPosts: await this.#posts.hydrate(
        top.map((r) => r.id),
        user.id,
      ),
    }
  }

  async post(user: AuthUser, postId: string): Promise<PostAnalytics> {
    const post = await this.#db
      .selectFrom('posts')
      .select(['authorId', 'views', 'likes', 'dislikes', 'commentsCount', 'shares'])
      .where('id', '=', postId)
      .executeTakeFirst()
    if (!post) throw notFound('post not found', 'POST_NOT_FOUND')
    if (post.authorId !== user.id) throw forbidden('only the author sees a post’s analytics', 'NOT_POST_AUTHOR')
    const [totals, uniqueViewers] = await Promise.all([this.#views.totals([postId]), this.#views.uniqueViewers(postId)])
    const views = Math.max(Number(post.views), totals.get(postId) ?? 0)
    return {
      views,
      uniqueViewers: Math.min(uniqueViewers, views),
      likes: post.likes,
      dislikes: post.dislikes,
      comments: post.commentsCount,
      shares: post.shares,
      engagementRate: rate(post.likes + post.dislikes + post.commentsCount + post.shares, views),
    }
  }
}
