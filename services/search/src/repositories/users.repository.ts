import { type Kysely, sql, type Transaction } from 'kysely'
import type { SearchDatabase } from '../db/database.ts'

type Db = Kysely<SearchDatabase> | Transaction<SearchDatabase>

/**
 * Auth is the source of truth for usernames: an auth event wins over what social said, and a
 * later auth event over an earlier one (by auth's own timestamp), whatever order they arrive in.
 */
const usernameFromAuth = {
  username: sql<string>`case when users.username_at is null or users.username_at < excluded.username_at
    then excluded.username else users.username end`,
  usernameAt: sql<Date>`greatest(users.username_at, excluded.username_at)`,
  updatedAt: sql<Date>`now()`,
}

/** `auth.user.registered`: the nickname given at sign-up counts until social has sent a profile. */
export async function upsertRegistered(db: Db, user: { userId: string; username: string; nickname: string | null; createdAt: string }) {
  await db
    .insertInto('users')
    .values({ userId: user.userId, username: user.username, nickname: user.nickname, usernameAt: new Date(user.createdAt) })
    .onConflict((oc) =>
      oc.column('userId').doUpdateSet({
        ...usernameFromAuth,
        nickname: sql<string | null>`case when users.profile_version = 0 then excluded.nickname else users.nickname end`,
      }),
    )
    .execute()
}

/** `auth.user.updated`: a username change. */
export async function upsertUsername(db: Db, user: { userId: string; username: string; updatedAt: string }) {
  await db
    .insertInto('users')
    .values({ userId: user.userId, username: user.username, usernameAt: new Date(user.updatedAt) })
    .onConflict((oc) => oc.column('userId').doUpdateSet(usernameFromAuth))
    .execute()
}

/**
 * `social.profile.updated`: nickname and avatar by profile `version` (an older or repeated
 * version changes nothing). Its username is only used while no auth event has named the user.
 */
export async function upsertProfile(
  db: Db,
  profile: { userId: string; username: string; nickname: string | null; avatarUrl: string | null; version: number },
) {
  await db
    .insertInto('users')
    .values({
      userId: profile.userId,
      username: profile.username,
      nickname: profile.nickname,
      avatarUrl: profile.avatarUrl,
      profileVersion: profile.version,
    })
    .onConflict((oc) =>
      oc
        .column('userId')
        .doUpdateSet({
          username: sql<string>`case when users.username_at is null then excluded.username else users.username end`,
          nickname: sql<string | null>`excluded.nickname`,
          avatarUrl: sql<string | null>`excluded.avatar_url`,
          profileVersion: sql<number>`excluded.profile_version`,
          updatedAt: sql<Date>`now()`,
        })
        .where('users.profileVersion', '<', sql<number>`excluded.profile_version`),
    )
    .execute()
}

export interface UserHit {
  userId: string
  username: string
  nickname: string | null
  avatarUrl: string | null
  score: number
}

/**
 * Users matching `query` (already folded by the caller's rules: lower-case, no `@`), best first:
 * exact username (4), username prefix (3), nickname or nickname-word prefix (2), then trigram
 * similarity (0..1) on either name added to every tier. Keyset on (score, user id).
 *
 * Tiers dominate the order (a similarity never reaches the next tier), so when the name matches
 * alone fill the page, no fuzzy-only user could be on it: those pages skip the trigram-similarity
 * scan, which on a common prefix ranks every user whose name merely looks alike.
 */
export async function searchUsers(
  db: Db,
  args: { query: string; likePrefix: string; limit: number; after?: { score: number; id: string } },
) {
  // A cursor already past the name tiers (score < 2) is in fuzzy territory.
  if (!args.after || args.after.score >= 2) {
    const named = await rankedUsers(db, args, false)
    if (named.length >= args.limit) return named
  }
  return rankedUsers(db, args, true)
}

async function rankedUsers(
  db: Db,
  args: { query: string; likePrefix: string; limit: number; after?: { score: number; id: string } },
  fuzzy: boolean,
) {
  const after = args.after
  const { rows } = await sql<UserHit>`
    with input as (select fold(${args.query}) as q, fold(${args.likePrefix}) || '%' as prefix)
    select user_id, username, nickname, avatar_url, score from (
      select u.user_id, u.username, u.nickname, u.avatar_url, (
        case
          when fold(u.username) = i.q then 4
          when fold(u.username) like i.prefix then 3
          when fold(u.nickname) like i.prefix or fold(u.nickname) like '% ' || i.prefix then 2
          else 0
        end
        + greatest(similarity(fold(u.username), i.q), coalesce(similarity(fold(u.nickname), i.q), 0))
      )::float8 as score
      from users u, input i
      where fold(u.username) like i.prefix
         or fold(u.nickname) like i.prefix
         or fold(u.nickname) like '% ' || i.prefix
         ${fuzzy ? sql`or fold(u.username) % i.q or fold(u.nickname) % i.q` : sql``}
    ) ranked
    ${after ? sql`where (score, user_id) < (${after.score}::float8, ${after.id}::uuid)` : sql``}
    order by score desc, user_id desc
    limit ${args.limit}
  `.execute(db)
  return rows
}
