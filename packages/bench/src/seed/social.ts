import pg from 'pg'

export interface SocialSeedOptions {
  users: number
  /** Average accounts each user follows; popularity of followees is power-law. */
  followsPerUser: number
  posts: number
  /** Fraction of posts carrying one to three hashtags from a Zipf-like vocabulary. */
  hashtagShare: number
  seed: number
  /** Authors with at least this many followers are merged at read time (social's FANOUT_FOLLOWER_LIMIT). */
  fanoutFollowerLimit: number
}

export const defaultSeed: SocialSeedOptions = {
  users: 10_000,
  followsPerUser: 30,
  posts: 1_000_000,
  hashtagShare: 0.6,
  seed: 42,
  fanoutFollowerLimit: 2_000,
}

export interface SeededUser {
  id: string
  username: string
  following: number
}

/**
 * Fills social's schema straight from SQL (`generate_series` + `setseed`: deterministic for a
 * seed, and a million posts in about a minute, far faster than the API). Follower popularity and
 * posting activity are power-law: most users follow tens, a few are followed by thousands, a
 * few post a lot. Ids are UUID v7 built from each row's own time, as social mints them, so the
 * service's id-ordered keysets hold. Home timelines are not written: social builds one on a
 * user's first read (the scenario warms them up).
 */
export async function seedSocial(
  databaseUrl: string,
  opts: SocialSeedOptions,
): Promise<{ users: SeededUser[]; samplePostIds: string[]; tookMs: number }> {
  const started = Date.now()
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query('set search_path to social')
    await client.query(`select setseed(${1 / (opts.seed + 1)})`)
    await client.query(`
      create function pg_temp.v7(ms bigint, salt text) returns uuid language sql immutable as $$
        select (lpad(to_hex(ms), 12, '0') || '7' || substr(md5(salt), 1, 3) || '8' || substr(md5(salt), 4, 15))::uuid
      $$`)
    const now = Date.now()
    const dayMs = 86_400_000
    await client.query(
      `insert into profiles (id, username, nickname, bio, created_at, updated_at)
       select pg_temp.v7($1::bigint - 400 * $2::bigint + i, 'user' || i), 'seed_' || i, 'Seed ' || i, 'bio of ' || i,
              to_timestamp(($1::bigint - 400 * $2::bigint + i) / 1000.0), now()
       from generate_series(1, $3::int) i`,
      [now, dayMs, opts.users],
    )
    // Followee rank ~ U · r^3: user 1 is followed by thousands, the long tail by a handful.
    await client.query(
      `insert into follows (follower_id, followee_id, created_at)
       select f.id, e.id, now() - random() * interval '300 days'
       from (select i as follower, 1 + floor($1::int * power(random(), 3))::int as followee
             from generate_series(1, $1::int) i, generate_series(1, $2::int) k) pairs
       join profiles f on f.username = 'seed_' || pairs.follower
       join profiles e on e.username = 'seed_' || pairs.followee
       where pairs.follower <> pairs.followee
       on conflict do nothing`,
      [opts.users, opts.followsPerUser],
    )
    // Posting activity ~ r^2 over users; times spread over 30 days, ids from those times.
    await client.query(
      `with raw as (
         select i, 1 + floor($1::int * power(random(), 2))::int as author,
                ($2::bigint - floor(random() * 30 * $3::bigint))::bigint as ms,
                random() < $5::float as tagged,
                1 + floor(1000 * power(random(), 3))::int as t1, 1 + floor(1000 * power(random(), 3))::int as t2
         from generate_series(1, $4::int) i)
       insert into posts (id, author_id, text, hashtags, likes, dislikes, views, created_at)
       select pg_temp.v7(raw.ms, 'post' || raw.i), p.id,
              'Post number ' || raw.i || ' with some words to search for' ||
                case when raw.tagged then ' #tag' || raw.t1 || ' #tag' || raw.t2 else '' end,
              case when raw.tagged then array_remove(array['tag' || raw.t1, case when raw.t2 <> raw.t1 then 'tag' || raw.t2 end], null) else '{}' end,
              floor(random() * 50)::int, floor(random() * 5)::int, floor(random() * 500)::int,
              to_timestamp(raw.ms / 1000.0)
       from raw join profiles p on p.username = 'seed_' || raw.author`,
      [opts.users, now, dayMs, opts.posts, opts.hashtagShare],
    )
    await client.query(
      `insert into post_hashtags (tag, post_id, created_at) select unnest(hashtags), id, created_at from posts where cardinality(hashtags) > 0 on conflict do nothing`,
    )
    await client.query(
      `update profiles p set followers_count = c.n from (select followee_id, count(*)::int n from follows group by 1) c where p.id = c.followee_id`,
    )
    await client.query(
      `update profiles p set following_count = c.n from (select follower_id, count(*)::int n from follows group by 1) c where p.id = c.follower_id`,
    )
    await client.query(
      `update profiles p set posts_count = c.n from (select author_id, count(*)::int n from posts group by 1) c where p.id = c.author_id`,
    )
    await client.query('update profiles set fanout_on_read = followers_count >= $1', [opts.fanoutFollowerLimit])
    // Vacuumed and checkpointed, as a live database would be: otherwise autovacuum (triggered by
    // the bulk insert) and the checkpointer would run during the measurements, and index-only
    // scans would still visit the heap (no visibility map yet).
    await client.query('vacuum (analyze)')
    await client.query('checkpoint')
    const users = await client.query<{ id: string; username: string; following: number }>(
      'select id, username, following_count as following from profiles order by username',
    )
    const posts = await client.query<{ id: string }>('select id from posts order by md5(id::text) limit 2000')
    return { users: users.rows, samplePostIds: posts.rows.map((r) => r.id), tookMs: Date.now() - started }
  } finally {
    await client.end()
  }
}
