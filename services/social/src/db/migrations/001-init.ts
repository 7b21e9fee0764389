import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table profiles (
      id uuid primary key,
      username text not null,
      nickname text,
      bio text,
      avatar_media_id uuid,
      avatar_url text,
      followers_count integer not null default 0 check (followers_count >= 0),
      following_count integer not null default 0 check (following_count >= 0),
      posts_count integer not null default 0 check (posts_count >= 0),
      fanout_on_read boolean not null default false,
      version integer not null default 1,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db)
  // Not unique: auth guarantees uniqueness; a rename replayed out of order must not wedge the consumer.
  await sql`create index profiles_username_lower on profiles (lower(username))`.execute(db)
  // The few very-followed authors whose posts feeds merge at read time.
  await sql`create index profiles_fanout_on_read on profiles (id) where fanout_on_read`.execute(db)

  await sql`
    create table follows (
      follower_id uuid not null references profiles (id) on delete cascade,
      followee_id uuid not null references profiles (id) on delete cascade,
      created_at timestamptz not null,
      primary key (follower_id, followee_id),
      check (follower_id <> followee_id)
    )`.execute(db)
  await sql`create index follows_following_page on follows (follower_id, created_at desc, followee_id desc)`.execute(db)
  await sql`create index follows_followers_page on follows (followee_id, created_at desc, follower_id desc)`.execute(db)

  await sql`
    create table posts (
      id uuid primary key,
      author_id uuid not null references profiles (id) on delete cascade,
      text text not null,
      hashtags text[] not null default '{}',
      media jsonb not null default '[]',
      likes integer not null default 0 check (likes >= 0),
      dislikes integer not null default 0 check (dislikes >= 0),
      comments_count integer not null default 0 check (comments_count >= 0),
      views bigint not null default 0,
      shares integer not null default 0,
      version integer not null default 1,
      created_at timestamptz not null,
      edited_at timestamptz
    )`.execute(db)
  await sql`create index posts_author_page on posts (author_id, created_at desc, id desc)`.execute(db)

  await sql`
    create table post_hashtags (
      tag text not null,
      post_id uuid not null references posts (id) on delete cascade,
      created_at timestamptz not null,
      primary key (tag, post_id)
    )`.execute(db)
  await sql`create index post_hashtags_page on post_hashtags (tag, created_at desc, post_id desc)`.execute(db)
  await sql`create index post_hashtags_post on post_hashtags (post_id)`.execute(db)

  await sql`
    create table post_votes (
      post_id uuid not null references posts (id) on delete cascade,
      user_id uuid not null,
      value smallint not null check (value in (-1, 1)),
      primary key (post_id, user_id)
    )`.execute(db)
  await sql`create index post_votes_user on post_votes (user_id)`.execute(db)

  await sql`
    create table comments (
      id uuid primary key,
      post_id uuid not null references posts (id) on delete cascade,
      parent_id uuid references comments (id) on delete cascade,
      author_id uuid not null references profiles (id) on delete cascade,
      text text not null,
      likes integer not null default 0 check (likes >= 0),
      dislikes integer not null default 0 check (dislikes >= 0),
      created_at timestamptz not null,
      edited_at timestamptz
    )`.execute(db)
  await sql`create index comments_post_page on comments (post_id, created_at, id)`.execute(db)
  await sql`create index comments_parent on comments (parent_id)`.execute(db)
  await sql`create index comments_author on comments (author_id)`.execute(db)

  await sql`
    create table comment_votes (
      comment_id uuid not null references comments (id) on delete cascade,
      user_id uuid not null,
      value smallint not null check (value in (-1, 1)),
      primary key (comment_id, user_id)
    )`.execute(db)
  await sql`create index comment_votes_user on comment_votes (user_id)`.execute(db)

  await sql`
    create table shares (
      id uuid primary key,
      post_id uuid not null references posts (id) on delete cascade,
      from_user_id uuid not null,
      to_user_id uuid not null,
      comment text,
      created_at timestamptz not null
    )`.execute(db)
  await sql`create index shares_post on shares (post_id)`.execute(db)
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['shares', 'comment_votes', 'comments', 'post_votes', 'post_hashtags', 'posts', 'follows', 'profiles']) {
    await sql`drop table ${sql.id(table)}`.execute(db)
  }
}
