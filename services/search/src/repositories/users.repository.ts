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

type UserQuery = { query: string; likePrefix: string; limit: number; after?: { score: number; id: string } }

/**
 * Users matching `query` (already folded by the caller's rules: lower-case, no `@`), best first:
 * exact username (4), username prefix (3), nickname or nickname-word prefix (2), then trigram
 * similarity (0..1) on either name added to every tier; users whose names only look alike
 * (`%`, similarity ≥ 0.3) follow with their similarity alone. Keyset on (score, user id).
 *
 * Tiers dominate the order (a similarity never reaches the next tier): a page is the name
 * matches after the cursor, then, if they do not fill it, the fuzzy-only users after it.
 */
export async function searchUsers(db: Db, args: UserQuery): Promise<UserHit[]> {
  const rows: UserHit[] = []
  // A cursor already past the name tiers (score < 2) is in fuzzy territory.
  if (!args.after || args.after.score >= 2) {
    rows.push(...(await namedUsers(db, args)))
    if (rows.length >= args.limit) return rows
  }
  const after = args.after && args.after.score < 2 ? args.after : undefined
  rows.push(...(await fuzzyUsers(db, { ...args, after, limit: args.limit - rows.length })))
  return rows
}

/** `fold()` of the input inline, not from a CTE: an index (btree range, KNN) needs a constant. */
const folded = (args: UserQuery) => ({ q: sql`fold(${args.query})`, prefix: sql`(fold(${args.likePrefix}) || '%')` })

/** Whether a user's name matches by tier (exact, username prefix, nickname-word prefix). */
const nameMatch = ({ prefix }: ReturnType<typeof folded>) =>
  sql`(u.username_folded like ${prefix} or u.nickname_folded like ${prefix} or u.nickname_folded like '% ' || ${prefix})`

/** The better of the two names' similarity to the query (0..1). */
const similarityOf = ({ q }: ReturnType<typeof folded>) =>
  sql`greatest(similarity(u.username_folded, ${q}), coalesce(similarity(u.nickname_folded, ${q}), 0))`

async function namedUsers(db: Db, args: UserQuery): Promise<UserHit[]> {
  const input = folded(args)
  const { q, prefix } = input
  const after = args.after
  const { rows } = await sql<UserHit>`
    select user_id, username, nickname, avatar_url, score from (
      select u.user_id, u.username, u.nickname, u.avatar_url, (
        case
          when u.username_folded = ${q} then 4
          when u.username_folded like ${prefix} then 3
          else 2
        end + ${similarityOf(input)}
      )::float8 as score
      from users u
      where ${nameMatch(input)}
    ) ranked
    ${after ? sql`where (score, user_id) < (${after.score}::float8, ${after.id}::uuid)` : sql``}
    order by score desc, user_id desc
    limit ${args.limit}
  `.execute(db)
  return rows
}

/**
 * Users who only look like the query, best first. Ranking every user whose name shares a few
 * trigrams with the query read the whole table when names share a prefix (10k `seed_N`
 * users: 20–30 ms a page). Instead each name's GiST index walks its users nearest first (KNN,
 * `<->` = 1 − similarity) and stops early. The page by the better of the two similarities is
 * within those two lists, as long as each list holds every user as near as its `limit`-th one:
 * a user ahead on the page is at least as near on the list of the name that gave it its score.
 * Postgres only walks the index for a bare `ORDER BY <->` (adding the id as tie-break made it
 * sort the whole table), so the lists come untied, reach past the limit, and are read again
 * further when the tie at the cutoff runs to their end; the page is then ranked here.
 */
async function fuzzyUsers(db: Db, args: UserQuery): Promise<UserHit[]> {
  for (let reach = 2 * args.limit; ; reach *= 2) {
    const candidates = await nearestUsers(db, args, reach)
    const lists = [candidates.filter((c) => c.list === 'username'), candidates.filter((c) => c.list === 'nickname')]
    const whole = lists.every((list) => {
      const distances = list.map((c) => c.distance).sort((a, b) => a - b)
      return distances.length < reach || (distances[reach - 1] as number) > (distances[args.limit - 1] as number)
    })
    if (!whole) continue
    const unique = new Map(candidates.map((c) => [c.userId, c]))
    return [...unique.values()]
      .sort((a, b) => b.score - a.score || (a.userId < b.userId ? 1 : a.userId > b.userId ? -1 : 0))
      .slice(0, args.limit)
      .map(({ userId, username, nickname, avatarUrl, score }) => ({ userId, username, nickname, avatarUrl, score }))
  }
}

interface NearUser extends UserHit {
  list: 'username' | 'nickname'
  distance: number
}

/** The `reach` nearest fuzzy-only users after the cursor by each name (GiST KNN), scored. */
async function nearestUsers(db: Db, args: UserQuery, reach: number): Promise<NearUser[]> {
  const input = folded(args)
  const { q } = input
  const after = args.after
  const score = sql`${similarityOf(input)}::float8`
  const nearest = (column: 'username_folded' | 'nickname_folded', list: NearUser['list']) => sql`(
    select ${list} as list, (u.${sql.raw(column)} <-> ${q})::float8 as distance,
           u.user_id, u.username, u.nickname, u.avatar_url, ${score} as score
    from users u
    where u.${sql.raw(column)} % ${q}
      and ${nameMatch(input)} is not true
      ${after ? sql`and (${score}, u.user_id) < (${after.score}::float8, ${after.id}::uuid)` : sql``}
    order by u.${sql.raw(column)} <-> ${q}
    limit ${reach}
  )`
  const { rows } =
    await sql<NearUser>`${nearest('username_folded', 'username')} union all ${nearest('nickname_folded', 'nickname')}`.execute(db)
  return rows
}
