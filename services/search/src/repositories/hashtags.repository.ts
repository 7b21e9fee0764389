import { type Kysely, sql, type Transaction } from 'kysely'
import type { SearchDatabase } from '../db/database.ts'

type Db = Kysely<SearchDatabase> | Transaction<SearchDatabase>

/** Adds `delta` live posts to each tag (negative when a post lost the tag or was deleted). */
export async function adjustCounts(db: Db, tags: string[], delta: 1 | -1): Promise<void> {
  if (tags.length === 0) return
  await db
    .insertInto('hashtags')
    .values(tags.map((tag) => ({ tag, posts: Math.max(0, delta) })))
    .onConflict((oc) => oc.column('tag').doUpdateSet({ posts: sql<number>`greatest(0, hashtags.posts + ${delta})` }))
    .execute()
}

export interface TagCount {
  tag: string
  posts: number
}

/** Tags starting with `likePrefix` (LIKE-escaped) that some live post carries, most used first. */
export async function searchTags(db: Db, args: { likePrefix: string; limit: number; after?: { posts: number; tag: string } }) {
  let query = db
    .selectFrom('hashtags')
    .select(['tag', 'posts'])
    .where('posts', '>', 0)
    .where(sql<boolean>`tag like ${`${args.likePrefix}%`}`)
  const after = args.after
  if (after) {
    query = query.where((eb) => eb.or([eb('posts', '<', after.posts), eb.and([eb('posts', '=', after.posts), eb('tag', '>', after.tag)])]))
  }
  return query.orderBy('posts', 'desc').orderBy('tag').limit(args.limit).execute()
}

/** The tags on the most live posts created within the last `hours`. */
export async function trendingTags(db: Db, args: { hours: number; limit: number }): Promise<TagCount[]> {
  const { rows } = await sql<TagCount>`
    select tag, count(*)::int as posts
    from posts p cross join lateral unnest(p.hashtags) as tag
    where not p.deleted and p.created_at >= now() - make_interval(hours => ${args.hours})
    group by tag
    order by posts desc, tag
    limit ${args.limit}
  `.execute(db)
  return rows
}
