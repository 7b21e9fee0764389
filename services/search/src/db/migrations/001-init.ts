import { type Kysely, sql } from 'kysely'

/** The schema an extension lives in: whoever created it first decided, so look it up. */
export async function extensionSchema(db: Kysely<unknown>, name: string): Promise<string> {
  const { rows } = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = ${name}
  `.execute(db)
  const schema = rows[0]?.schema
  if (!schema) throw new Error(`extension ${name} is not installed`)
  return schema
}

/** A quoted SQL identifier. */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  // Shared by the whole database: put them in public (unless another service already created them).
  await sql`create extension if not exists pg_trgm with schema public`.execute(db)
  await sql`create extension if not exists unaccent with schema public`.execute(db)
  const trgm = ident(await extensionSchema(db, 'pg_trgm'))
  const unaccent = ident(await extensionSchema(db, 'unaccent'))

  // unaccent() is only STABLE (its dictionary could change), so it cannot appear in an index or
  // a generated column. This wrapper pins the dictionary and is declared IMMUTABLE; being a
  // single-statement SQL function it is inlined, so query expressions still match the indexes.
  await sql
    .raw(
      `create or replace function fold(value text) returns text language sql immutable parallel safe strict
       as $$ select lower(${unaccent}.unaccent('${unaccent}.unaccent'::regdictionary, value)) $$`,
    )
    .execute(db)

  await db.schema
    .createTable('users')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text')
    .addColumn('avatar_url', 'text')
    .addColumn('username_at', 'timestamptz')
    .addColumn('profile_version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  // Prefix (LIKE 'ab%') and fuzzy (%) matching on folded names both use the trigram indexes;
  // the btree serves exact matches and short prefixes.
  await sql.raw(`create index users_username_trgm on users using gin (fold(username) ${trgm}.gin_trgm_ops)`).execute(db)
  await sql.raw(`create index users_nickname_trgm on users using gin (fold(nickname) ${trgm}.gin_trgm_ops)`).execute(db)
  await sql`create index users_username_fold on users (fold(username) text_pattern_ops)`.execute(db)

  await db.schema
    .createTable('posts')
    .addColumn('post_id', 'uuid', (c) => c.primaryKey())
    .addColumn('author_id', 'uuid', (c) => c.notNull())
    .addColumn('author', 'jsonb')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('hashtags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('media', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('edited_at', 'timestamptz')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    // Language-neutral (`simple`: no stemming, no stop words) over accent-folded text.
    .addColumn('document', sql`tsvector`, (c) => c.generatedAlwaysAs(sql`to_tsvector('simple'::regconfig, fold(text))`).stored())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await sql`create index posts_document on posts using gin (document)`.execute(db)
  await sql`create index posts_hashtags on posts using gin (hashtags)`.execute(db)
  await sql`create index posts_recent on posts (created_at) where not deleted`.execute(db)
  await sql`create index posts_author on posts (author_id)`.execute(db)

  await db.schema
    .createTable('hashtags')
    .addColumn('tag', 'text', (c) => c.primaryKey())
    .addColumn('posts', 'integer', (c) => c.notNull().defaultTo(0).check(sql`posts >= 0`))
    .execute()
  await sql`create index hashtags_prefix on hashtags (tag text_pattern_ops) where posts > 0`.execute(db)
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['hashtags', 'posts', 'users']) await db.schema.dropTable(table).execute()
  await sql`drop function if exists fold(text)`.execute(db)
}
