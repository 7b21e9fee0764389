/**
 * Seeds a throwaway database and prints EXPLAIN ANALYZE for the feed's Postgres queries
 * (hydration, fallback beyond the Redis cap, read-time merge) and the keyset pages.
 * Usage: node services/social/scripts/explain-feed.ts [users=5000] [followsPerUser=50] [posts=300000]
 */

import { ensureDatabase, migrateToLatest } from '@sm/platform'
import { CamelCasePlugin, type CompiledQuery, Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { SocialDatabase } from '../src/db/database.ts'
import { migrations } from '../src/db/migrations/index.ts'
import { findAuthorPage, findFeedKeysBefore, findFeedWindow, findHashtagPage } from '../src/repositories/posts.repository.ts'

const [users = 5_000, followsPerUser = 50, posts = 300_000] = process.argv.slice(2).map(Number)
const url = process.env.EXPLAIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/social_explain'

await ensureDatabase(url)
const admin = new pg.Client({ connectionString: url })
await admin.connect()
await admin.query('drop schema if exists social cascade')
await migrateToLatest(url, 'social', migrations)
await admin.query('set search_path = social')

console.log(`seeding ${users} users, ~${users * followsPerUser} follows, ${posts} posts …`)
// Ids are built like UUID v7 (48-bit ms prefix) so created_at and id order agree, as in the service.
await admin.query(`
  create or replace function pg_temp.v7(at timestamptz) returns uuid language sql as $$
    select (lpad(to_hex((extract(epoch from at) * 1000)::bigint), 12, '0')
            || '7' || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid
  $$`)
await admin.query(
  `
  insert into profiles (id, username, created_at, updated_at)
  select pg_temp.v7(now() - interval '400 days' + g * interval '1 second'), 'user_' || g, now(), now()
  from generate_series(1, $1) g`,
  [users],
)
await admin.query(`create temp table numbered as select id, row_number() over (order by id)::int as n from profiles`)
await admin.query('create unique index on numbered (n)')
// Skewed graph: user 1 follows ten times more accounts than the rest; low numbers are popular.
await admin.query(
  `
  insert into follows (follower_id, followee_id, created_at)
  select a.id, b.id, now()
  from numbered a
  cross join lateral (
    select 1 + floor(power(random(), 2) * $1)::int + 0 * a.n as target
    from generate_series(1, case when a.n = 1 then $2 * 10 else $2 end)
  ) r
  join numbered b on b.n = r.target
  where b.id <> a.id
  on conflict do nothing`,
  [users, followsPerUser],
)
await admin.query(
  `
  insert into posts (id, author_id, text, hashtags, created_at)
  select pg_temp.v7(at), (select id from numbered where n = 1 + (g % $1)), 'post ' || g || ' #tag' || (g % 100), array['tag' || (g % 100)], at
  from (select g, now() - interval '365 days' + g * (interval '365 days' / $2) as at from generate_series(1, $2) g) s`,
  [users, posts],
)
await admin.query(
  `update posts set created_at = to_timestamp(('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint / 1000.0)`,
)
await admin.query(`insert into post_hashtags (tag, post_id, created_at) select unnest(hashtags), id, created_at from posts`)
await admin.query(`update profiles p set followers_count = (select count(*) from follows where followee_id = p.id),
  following_count = (select count(*) from follows where follower_id = p.id), posts_count = (select count(*) from posts where author_id = p.id)`)
await admin.query('update profiles set fanout_on_read = followers_count >= 1000')
await admin.query('vacuum analyze')

const counts = await admin.query(`select (select count(*) from profiles) profiles, (select count(*) from follows) follows,
  (select count(*) from posts) posts, (select count(*) from profiles where fanout_on_read) merged_authors`)
console.log(counts.rows[0])

let captured: CompiledQuery | undefined
const db = new Kysely<SocialDatabase>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, options: '-c search_path=social' }) }),
  plugins: [new CamelCasePlugin()],
  log: (event) => {
    captured = event.query
  },
}).withSchema('social')

async function explain(title: string, run: () => Promise<unknown>): Promise<void> {
  await run()
  const query = captured as CompiledQuery
  const plan = await admin.query(`explain (analyze, costs off) ${query.sql}`, query.parameters as unknown[])
  const lines = plan.rows.map((r) => String(r['QUERY PLAN']).replace(/'\{[0-9a-f,-]{100,}\}'/, "'{…ids…}'"))
  console.log(`\n#### ${title}\n\n\`\`\`\n${lines.join('\n')}\n\`\`\``)
}

const heavy = (await admin.query('select id, following_count from profiles order by following_count desc limit 1')).rows[0]
const typical = (
  await admin.query('select id, following_count from profiles where following_count between $1 - 5 and $1 + 5 limit 1', [followsPerUser])
).rows[0]
const deep = (await admin.query(`select id, created_at from posts order by created_at desc offset ${Math.floor(posts / 2)} limit 1`))
  .rows[0]
const cursor = { id: deep.id as string, createdAt: deep.created_at as Date }
console.log({ heavyFollows: heavy.following_count, typicalFollows: typical.following_count })

for (const [who, user] of [
  ['typical user', typical],
  ['user following the most accounts', heavy],
] as const) {
  const page = await findFeedKeysBefore(db, user.id, undefined, 21)
  await explain(`feed page: window + read-time merge + hydration, one query (${who})`, () =>
    findFeedWindow(db, { userId: user.id, ids: page.map((p) => p.id), merge: true, fallback: undefined, cursor: undefined, limit: 21 }),
  )
  await explain(`fallback beyond the cap, first page (${who})`, () => findFeedKeysBefore(db, user.id, undefined, 21))
  await explain(`fallback beyond the cap, deep cursor half-way through the data (${who})`, () =>
    findFeedKeysBefore(db, user.id, cursor, 21),
  )
  await explain(`building a missing timeline: the newest 800 ids (${who})`, () => findFeedKeysBefore(db, user.id, undefined, 800))
}
await explain('user posts page, deep cursor', () => findAuthorPage(db, typical.id, typical.id, cursor, 20))
await explain('hashtag page, deep cursor', () => findHashtagPage(db, 'tag7', typical.id, cursor, 20))

await db.destroy()
await admin.query('drop schema social cascade')
await admin.end()
