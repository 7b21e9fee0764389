import { type Kysely, sql, type Transaction } from 'kysely'
import type { SearchDatabase } from '../db/database.ts'

type Db = Kysely<SearchDatabase> | Transaction<SearchDatabase>

/**
 * Applies per-tag changes in live post counts in one statement, in tag order: concurrent
 * writers (other posts sharing tags) then lock counter rows in the same order and cannot deadlock.
 */
export async function adjustCounts(db: Db, deltas: Map<string, number>): Promise<void> {
  const changes = [...deltas].filter(([, delta]) => delta !== 0)
  if (changes.length === 0) return
  await sql`
    with change(tag, delta) as (select * from unnest(${changes.map(([tag]) => tag)}::text[], ${changes.map(([, delta]) => delta)}::int[]))
    insert into hashtags (tag, posts)
    select tag, greatest(0, delta) from change order by tag
    on conflict (tag) do update set posts = greatest(0, hashtags.posts + (select delta from change where change.tag = excluded.tag))
  `.execute(db)
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
