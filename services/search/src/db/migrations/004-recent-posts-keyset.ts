import { type Kysely, sql } from 'kysely'

/**
 * Live posts by (created_at, post_id): a tag-only search is newest first with the post id as
 * tie-break, so it can walk this index backwards, row comparison and all, and stop after a page.
 * It replaces the index on created_at alone, which trending's time range uses just as well.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index posts_recent_keyset on posts (created_at, post_id) where not deleted`.execute(db)
  await sql`drop index posts_recent`.execute(db)
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index posts_recent on posts (created_at) where not deleted`.execute(db)
  await sql`drop index posts_recent_keyset`.execute(db)
}
