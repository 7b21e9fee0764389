import type { UserSearchPage } from '@sm/contracts'
import { newId } from '@sm/platform'
import { sql } from 'kysely'
import t from 'tap'
import { SCHEMA, searchPath } from '../../src/app.ts'
import { createReader } from '../../src/db/reader.ts'
import { buildTestApp, registered } from '../helper.ts'

const ctx = await buildTestApp(t)
const { publish, settle, get } = ctx
const usernames = async (q: string, query: Record<string, string | number> = {}) => {
  const { status, body } = await get<UserSearchPage>('/search/users', { q, ...query })
  if (status !== 200) throw new Error(`search failed: ${status} ${JSON.stringify(body)}`)
  return body.items.map((item) => item.username)
}

/** Every page of `q`, `limit` at a time, followed through its cursors: the names in order and how many pages. */
async function allPages(q: string, limit: number): Promise<{ names: string[]; pages: number }> {
  const names: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const query: Record<string, string | number> = cursor ? { q, limit, cursor } : { q, limit }
    const { status, body } = await get<UserSearchPage>('/search/users', query)
    if (status !== 200) throw new Error(`page ${pages + 1} failed: ${status} ${JSON.stringify(body)}`)
    names.push(...body.items.map((item) => item.username))
    cursor = body.nextCursor
    pages += 1
  } while (cursor && pages < 50)
  return { names, pages }
}

t.test('a registered user is found by username prefix, exact match first, ignoring case, accents and @', async (t) => {
  await publish('auth.user.registered', registered({ username: 'marco_polo_x', nickname: 'Marco' }))
  await publish('auth.user.registered', registered({ username: 'marco' }))
  await publish('auth.user.registered', registered({ username: 'marcopolo_fan' }))
  await settle()
  t.same((await usernames('marco'))[0], 'marco', 'the exact username ranks first')
  t.same((await usernames('MARCO')).sort(), ['marco', 'marco_polo_x', 'marcopolo_fan'])
  t.same((await usernames('@Márcó_p'))[0], 'marco_polo_x', '`@`, accents and case do not matter')
  const { body } = await get<UserSearchPage>('/search/users', { q: 'marco_polo_x' })
  t.match(body.items[0], { username: 'marco_polo_x', nickname: 'Marco', avatarUrl: null })
  t.equal(body.nextCursor, null)
})

t.test('nicknames match by prefix of any word, and typos still find the user', async (t) => {
  await publish('auth.user.registered', registered({ username: 'qz_writer', nickname: 'Zoë Quillfeather' }))
  await publish('auth.user.registered', registered({ username: 'alexanderson' }))
  await settle()
  t.same(await usernames('quill'), ['qz_writer'], 'second word of the nickname')
  t.same(await usernames('zoe'), ['qz_writer'], 'first word, accent-insensitive')
  t.same(await usernames('alexandersno'), ['alexanderson'], 'a transposition typo is a fuzzy match')
  t.same(await usernames('nobody_like_this_here'), [])
})

t.test('a username change is found by the new name and no longer by the old one', async (t) => {
  const user = registered({ username: 'before_rename' })
  await publish('auth.user.registered', user)
  await publish('auth.user.updated', {
    userId: user.userId,
    username: 'after_rename',
    previousUsername: 'before_rename',
    updatedAt: new Date(Date.parse(user.createdAt) + 1000).toISOString(),
  })
  await settle()
  t.same(await usernames('after_ren'), ['after_rename'])
  t.same(await usernames('before_ren'), [])
})

t.test('out-of-order and repeated user events never bring back stale names', async (t) => {
  const base = Date.now()
  const at = (s: number) => new Date(base + s * 1000).toISOString()
  const user = registered({ username: 'ooo_first', createdAt: at(0) })
  // The newer rename arrives first, then the older one, then the registration itself.
  await publish('auth.user.updated', { userId: user.userId, username: 'ooo_third', previousUsername: 'ooo_second', updatedAt: at(2) })
  const older = await publish('auth.user.updated', {
    userId: user.userId,
    username: 'ooo_second',
    previousUsername: 'ooo_first',
    updatedAt: at(1),
  })
  await publish('auth.user.registered', user)
  // The older rename once more, as a relay republishing after JetStream's duplicate window would.
  await publish('auth.user.updated', older.data, { id: older.id, msgId: newId() })
  await settle()
  t.same(await usernames('ooo_'), ['ooo_third'])

  const profile = { userId: user.userId, username: 'ooo_third', bio: null, avatarUrl: null, updatedAt: at(3) }
  await publish('social.profile.updated', { ...profile, nickname: 'Newest Nick', avatarUrl: '/media/new', version: 3 })
  await publish('social.profile.updated', { ...profile, nickname: 'Older Nick', version: 2 })
  await settle()
  const { body } = await get<UserSearchPage>('/search/users', { q: 'ooo_third' })
  t.match(body.items, [{ id: user.userId, username: 'ooo_third', nickname: 'Newest Nick', avatarUrl: '/media/new' }])
  t.same(await usernames('older'), [], 'the older nickname is not searchable')
})

t.test('social can introduce a user; auth names win over social names', async (t) => {
  const userId = newId()
  const profile = { userId, bio: null, avatarUrl: null, updatedAt: new Date().toISOString() }
  await publish('social.profile.updated', { ...profile, username: 'social_named', nickname: 'Social Nick', version: 1 })
  await settle()
  t.same(await usernames('social_na'), ['social_named'])
  await publish('auth.user.registered', registered({ userId, username: 'auth_named', nickname: 'Signup Nick' }))
  await publish('social.profile.updated', { ...profile, username: 'social_stale_name', nickname: 'Social Nick 2', version: 2 })
  await settle()
  const { body } = await get<UserSearchPage>('/search/users', { q: 'auth_named' })
  t.match(body.items, [{ id: userId, username: 'auth_named', nickname: 'Social Nick 2' }], 'profile fields from social, name from auth')
})

t.test('results page by keyset: every match once, in order, then a null cursor', async (t) => {
  for (let i = 0; i < 5; i++) await publish('auth.user.registered', registered({ username: `pager_${i}_user` }))
  await settle()
  const all = await usernames('pager_', { limit: 100 })
  t.equal(all.length, 5)
  const { names, pages } = await allPages('pager_', 2)
  t.same(names, all, 'the pages concatenate to the full ranking')
  t.equal(pages, 3)
})

t.test('pages that cross from name matches into fuzzy-only matches keep the full ranking', async (t) => {
  // Three name matches for "tiermix" and two users who only look alike (trigram similarity).
  for (const name of ['tiermix_a', 'tiermix_b', 'tiermix_c', 'tiermlx', 'tiernix']) {
    await publish('auth.user.registered', registered({ username: name }))
  }
  await settle()
  const all = await usernames('tiermix', { limit: 100 })
  t.same(all.slice(0, 3).sort(), ['tiermix_a', 'tiermix_b', 'tiermix_c'], 'name matches first')
  t.ok(all.length > 3, `fuzzy-only matches follow (${all.join(', ')})`)
  const firstPage = await usernames('tiermix', { limit: 2 })
  t.same(firstPage, all.slice(0, 2), 'a page the name matches fill is the head of the same ranking')
  t.same((await allPages('tiermix', 2)).names, all, 'the pages concatenate to the full ranking across the tiers')
})

t.test('fuzzy pages read nearest first and still concatenate to the exhaustive ranking, ties included', async (t) => {
  // Thirty look-alikes (many tied on similarity), a few with look-alike nicknames, two name matches.
  const names = ['kinshipper', 'kinshippo']
  for (let i = 0; i < 30; i++) names.push(`kinship${'abc'[i % 3]}${i % 10}`)
  for (const [i, username] of names.entries()) {
    await publish('auth.user.registered', registered({ username, nickname: i % 4 === 0 ? `Kinshipp ${i}` : null }))
  }
  await settle()
  const reader = createReader({ url: ctx.databaseUrl, schema: SCHEMA, searchPath: await searchPath(ctx.db), timeoutMs: 5_000, poolSize: 1 })
  t.teardown(() => reader.destroy())
  // Every user scored by the documented rules, no index involved.
  const { rows } = await sql<{ username: string }>`
    select username from (
      select u.username, u.user_id, (
        case when u.username_folded = 'kinshipp' then 4
             when u.username_folded like 'kinshipp%' then 3
             when u.nickname_folded like 'kinshipp%' or u.nickname_folded like '% kinshipp%' then 2
             else 0 end
        + greatest(similarity(u.username_folded, 'kinshipp'), coalesce(similarity(u.nickname_folded, 'kinshipp'), 0))
      ) as score,
      u.username_folded like 'kinshipp%' or coalesce(u.nickname_folded like 'kinshipp%' or u.nickname_folded like '% kinshipp%', false) as named,
      u.username_folded % 'kinshipp' or coalesce(u.nickname_folded % 'kinshipp', false) as fuzzy
      from users u
    ) scored
    where named or fuzzy
    order by score desc, user_id desc
  `.execute(reader)
  const exhaustive = rows.map((row) => row.username)
  t.ok(exhaustive.length >= 25, `${exhaustive.length} users match`)
  t.same((await allPages('kinshipp', 4)).names, exhaustive, 'pages of four concatenate to the exhaustive ranking')
  t.same(await usernames('kinshipp', { limit: 100 }), exhaustive, 'one page of everything is the same ranking')
})

t.test('a cursor from another query or a forged one is a 400', async (t) => {
  for (let i = 0; i < 3; i++) await publish('auth.user.registered', registered({ username: `cursor_${i}_user` }))
  await settle()
  const { body } = await get<UserSearchPage>('/search/users', { q: 'cursor_', limit: 1 })
  t.ok(body.nextCursor)
  const other = await get('/search/users', { q: 'pager_', cursor: body.nextCursor as string })
  t.match(other, { status: 400, body: { code: 'INVALID_CURSOR', statusCode: 400, error: 'Bad Request' } })
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(body.nextCursor as string, 'base64url').toString()), id: "x' or 1=1" }),
  )
  t.match(await get('/search/users', { q: 'cursor_', cursor: forged.toString('base64url') }), {
    status: 400,
    body: { code: 'INVALID_CURSOR' },
  })
  t.match(await get('/search/users', { q: 'cursor_', cursor: 'not-a-cursor' }), { status: 400, body: { code: 'INVALID_CURSOR' } })
  t.match(await get('/search/users', { q: 'cursor_', cursor: Buffer.from('[1]').toString('base64url') }), { status: 400 })
})

t.test('health, readiness and the OpenAPI document', async (t) => {
  t.match(await get('/health'), { status: 200, body: { status: 'ok', service: 'search' } })
  t.match(await get('/ready'), { status: 200, body: { status: 'ready', dependencies: { postgres: 'up', nats: 'up' } } })
  const { body } = await get<{ paths: Record<string, unknown> }>('/openapi.json')
  t.ok(
    body.paths['/search/users'] && body.paths['/search/posts'] && body.paths['/search/hashtags'] && body.paths['/search/hashtags/trending'],
  )
})
