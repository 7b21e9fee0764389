import { type Kysely, sql } from 'kysely'
import { extensionSchema, ident } from './001-init.ts'

/**
 * Folded names as stored columns. The expression indexes on `fold(username)` found the rows, but
 * every candidate then folded its names again, up to nine times, to filter and score them.
 * `unaccent` is slow enough that a prefix matching 1,250 nicknames spent 21 ms of a 22 ms query
 * doing it. Read from stored columns, the same query took 2.7 ms (EXPLAIN ANALYZE, 10k users).
 * The GiST indexes serve the fuzzy matches nearest first (users.repository.ts › fuzzyUsers).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  const trgm = ident(await extensionSchema(db, 'pg_trgm'))
  await sql`alter table users
    add column username_folded text generated always as (fold(username)) stored,
    add column nickname_folded text generated always as (fold(nickname)) stored`.execute(db)
  await sql`drop index users_username_trgm, users_nickname_trgm, users_username_fold`.execute(db)
  // Prefix (LIKE 'ab%') and fuzzy (%) matching use the trigram indexes; the btree serves exact
  // matches and short prefixes.
  await sql.raw(`create index users_username_trgm on users using gin (username_folded ${trgm}.gin_trgm_ops)`).execute(db)
  await sql.raw(`create index users_nickname_trgm on users using gin (nickname_folded ${trgm}.gin_trgm_ops)`).execute(db)
  await sql`create index users_username_fold on users (username_folded text_pattern_ops)`.execute(db)
  // Fuzzy-only matches are read nearest first (KNN on `<->`), which only GiST can order by.
  await sql.raw(`create index users_username_near on users using gist (username_folded ${trgm}.gist_trgm_ops)`).execute(db)
  await sql.raw(`create index users_nickname_near on users using gist (nickname_folded ${trgm}.gist_trgm_ops)`).execute(db)
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const trgm = ident(await extensionSchema(db, 'pg_trgm'))
  // Dropping the columns drops their indexes: put back 001's expression indexes.
  await sql`alter table users drop column username_folded, drop column nickname_folded`.execute(db)
  await sql.raw(`create index users_username_trgm on users using gin (fold(username) ${trgm}.gin_trgm_ops)`).execute(db)
  await sql.raw(`create index users_nickname_trgm on users using gin (fold(nickname) ${trgm}.gin_trgm_ops)`).execute(db)
  await sql`create index users_username_fold on users (fold(username) text_pattern_ops)`.execute(db)
}
