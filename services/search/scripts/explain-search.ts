/**
 * Seeds a throwaway database the way `pnpm bench search` does and prints EXPLAIN ANALYZE for
 * every statement the search repositories send for the bench's queries, then a summary of
 * planning and execution times (each query is run once first, so the caches are warm).
 * Usage: node services/search/scripts/explain-search.ts [users=10000] [posts=300000]
 */

import { ensureDatabase, migrateToLatest, startupOptions } from '@sm/platform'
import { CamelCasePlugin, type CompiledQuery, Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { seedSearch } from '../../../packages/bench/src/seed/search.ts'
import { SCHEMA, searchPath } from '../src/app.ts'
import type { SearchDatabase } from '../src/db/database.ts'
import { migrations } from '../src/db/migrations/index.ts'
import { searchTags } from '../src/repositories/hashtags.repository.ts'
import { searchPosts } from '../src/repositories/posts.repository.ts'
import { searchUsers } from '../src/repositories/users.repository.ts'
import { escapeLike } from '../src/services/query.ts'

const [users = 10_000, posts = 300_000] = process.argv.slice(2).map(Number)
const url = process.env.EXPLAIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/search_explain'

await ensureDatabase(url)
const admin = new pg.Client({ connectionString: url })
await admin.connect()
await admin.query(`drop schema if exists ${SCHEMA} cascade`)
await migrateToLatest(url, SCHEMA, migrations)
console.log(`seeding ${users} users and ${posts} posts (the bench's seeder) …`)
await seedSearch(url, { users, posts, seed: 42 })

let captured: CompiledQuery[] = []
const path = await searchPath(
  new Kysely<SearchDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) }),
)
const db = new Kysely<SearchDatabase>({
  dialect: new PostgresDialect({
    pool: new pg.Pool({ connectionString: url, max: 1, options: startupOptions({ search_path: path }) }),
  }),
  plugins: [new CamelCasePlugin()],
  log: (event) => {
    captured.push(event.query)
  },
}).withSchema(SCHEMA)
await admin.query(`set search_path = ${path}`)

const summary: Array<{ query: string; statements: number; planningMs: number; executionMs: number }> = []

async function explain(title: string, run: () => Promise<unknown>): Promise<void> {
  await run()
  captured = []
  await run()
  let planningMs = 0
  let executionMs = 0
  for (const [index, query] of captured.entries()) {
    const plan = await admin.query(`explain (analyze, summary, costs off) ${query.sql}`, query.parameters as unknown[])
    const lines = plan.rows.map((r) => String(r['QUERY PLAN']))
    const time = (label: string) => Number(lines.find((line) => line.startsWith(label))?.match(/([\d.]+) ms/)?.[1] ?? 0)
    planningMs += time('Planning Time')
    executionMs += time('Execution Time')
    console.log(
      `\n#### ${title}${captured.length > 1 ? ` (statement ${index + 1} of ${captured.length})` : ''}\n\n\`\`\`\n${lines.join('\n')}\n\`\`\``,
    )
  }
  summary.push({ query: title, statements: captured.length, planningMs, executionMs })
}

const asOf = new Date()
await explain('posts: rare word (word170, a prefix: 660 matches)', () => searchPosts(db, { words: ['word170'], tags: [], asOf, limit: 21 }))
await explain('posts: two common words (coffee friends: 6,250 matches)', () =>
  searchPosts(db, { words: ['coffee', 'friends'], tags: [], asOf, limit: 21 }),
)
await explain('posts: the most common tag (#tag1)', () => searchPosts(db, { words: [], tags: ['tag1'], asOf, limit: 21 }))
await explain('posts: a rare tag (#tag900)', () => searchPosts(db, { words: [], tags: ['tag900'], asOf, limit: 21 }))
for (const q of ['chloe', 'seed_6169', 'se']) {
  await explain(`users: ${q}`, () => searchUsers(db, { query: q, likePrefix: escapeLike(q), limit: 21 }))
}
await explain('hashtags: prefix tag1', () => searchTags(db, { likePrefix: 'tag1', limit: 21 }))

console.log('\n| query | statements | planning (ms) | execution (ms) |\n|---|---:|---:|---:|')
for (const row of summary)
  console.log(`| ${row.query} | ${row.statements} | ${row.planningMs.toFixed(3)} | ${row.executionMs.toFixed(3)} |`)

await db.destroy()
await admin.query(`drop schema ${SCHEMA} cascade`)
await admin.end()
