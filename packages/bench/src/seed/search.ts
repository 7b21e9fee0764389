import pg from 'pg'

export interface SearchSeedOptions {
  users: number
  posts: number
  seed: number
}

/**
 * Fills search's index straight from SQL, shaped as its event handlers would leave it: users
 * with names and nicknames, posts whose text mixes a small common vocabulary, rare words and
 * Zipf-distributed hashtags, and the hashtag counters. Deterministic for a seed.
 */
export async function seedSearch(databaseUrl: string, opts: SearchSeedOptions): Promise<{ tookMs: number }> {
  const started = Date.now()
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query('set search_path to search, public')
    await client.query(`select setseed(${1 / (opts.seed + 1)})`)
    await client.query(
      `insert into users (user_id, username, nickname, username_at, profile_version)
       select md5('user' || i)::uuid, 'seed_' || i, (array['Ana','Bruno','Chloé','Dmitri','Émile','Fatima','Giulia','Hiro'])[1 + i % 8] || ' ' || i, now(), 1
       from generate_series(1, $1::int) i`,
      [opts.users],
    )
    await client.query(
      `insert into posts (post_id, author_id, author, text, hashtags, created_at, version)
       select md5('post' || i)::uuid, md5('user' || a)::uuid,
              jsonb_build_object('id', md5('user' || a)::uuid, 'username', 'seed_' || a, 'nickname', null, 'avatarUrl', null),
              (array['morning','coffee','music','travel','garden','football','recipe','sunset'])[1 + i % 8] || ' ' ||
              (array['with','and','after','before'])[1 + i % 4] || ' ' ||
              (array['friends','family','rain','city','beach','mountains'])[1 + (i / 8) % 6] || ' word' || (i % 5000) ||
              ' #tag' || t,
              array['tag' || t], now() - (i % 100000) * interval '1 minute', 1
       from (select i, 1 + floor($1::int * power(random(), 2))::int a, 1 + floor(1000 * power(random(), 3))::int t
             from generate_series(1, $2::int) i) raw`,
      [opts.users, opts.posts],
    )
    await client.query(
      `insert into hashtags (tag, posts) select unnest(hashtags), count(*) from posts group by 1 on conflict (tag) do update set posts = excluded.posts`,
    )
    // Vacuumed and checkpointed, as a live database would be: otherwise autovacuum (triggered by
    // the bulk insert) and the checkpointer would run during the measurements, and index-only
    // scans would still visit the heap (no visibility map yet).
    await client.query('vacuum (analyze)')
    await client.query('checkpoint')
    return { tookMs: Date.now() - started }
  } finally {
    await client.end()
  }
}
