import type { EventPayload } from '@sm/contracts'
import { startConsumer } from '@sm/platform'
import t from 'tap'
import { api, buildTestApp, eventually, type TestUser } from '../helper.ts'

const ctx = await buildTestApp(t)
const http = api(ctx.app)
const silent = { error() {}, warn() {}, info() {}, debug() {} }

async function signedUp(): Promise<TestUser> {
  const user = ctx.newUser()
  await http.get('/users/me', user)
  return user
}

t.test('follow and unfollow are idempotent and keep counts and flags right', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  t.equal((await http.put(`/users/${bob.username}/follow`, alice)).status, 204)
  t.equal((await http.put(`/users/${bob.username}/follow`, alice)).status, 204, 'again: still 204')
  t.match((await http.get(`/users/${bob.username}`, alice)).body, { followers: 1, following: 0, isFollowing: true, followsYou: false })
  t.match((await http.get(`/users/${alice.username}`, bob)).body, { followers: 0, following: 1, isFollowing: false, followsYou: true })
  t.match((await http.get('/users/me', alice)).body, { following: 1 })

  t.equal((await http.delete(`/users/${bob.username}/follow`, alice)).status, 204)
  t.equal((await http.delete(`/users/${bob.username}/follow`, alice)).status, 204, 'again: still 204')
  t.match((await http.get(`/users/${bob.username}`, alice)).body, { followers: 0, isFollowing: false })
  t.match((await http.get('/users/me', alice)).body, { following: 0 })
})

t.test('bad follows: yourself, missing users, no token', async (t) => {
  const alice = await signedUp()
  t.match(await http.put(`/users/${alice.username}/follow`, alice), { status: 400, body: { code: 'CANNOT_FOLLOW_SELF' } })
  t.match(await http.put('/users/nobody_by_that_name/follow', alice), { status: 404, body: { code: 'USER_NOT_FOUND' } })
  t.match(await http.delete('/users/nobody_by_that_name/follow', alice), { status: 404 })
  t.match(await http.put(`/users/${alice.username}/follow`, undefined), { status: 401 })
  t.match(await http.get('/users/nobody_by_that_name/followers'), { status: 404 })
  t.match(await http.get(`/users/${alice.username}/followers?limit=101`), { status: 400, body: { code: 'VALIDATION' } })
  t.match(await http.get(`/users/${alice.username}/followers?cursor=garbage`), { status: 400, body: { code: 'INVALID_CURSOR' } })
})

t.test('counts stay exact under concurrent follows, including crossing ones', async (t) => {
  const star = await signedUp()
  const fans = await Promise.all(Array.from({ length: 30 }, () => signedUp()))
  await Promise.all(
    fans.flatMap((fan) => [http.put(`/users/${star.username}/follow`, fan), http.put(`/users/${fan.username}/follow`, star)]),
  )
  t.match((await http.get(`/users/${star.username}`)).body, { followers: 30, following: 30 })
  await Promise.all(
    fans
      .slice(0, 10)
      .flatMap((fan) => [http.delete(`/users/${star.username}/follow`, fan), http.put(`/users/${star.username}/follow`, fan)]),
  )
  const after = (await http.get(`/users/${star.username}`)).body
  const listed = await http.get(`/users/${star.username}/followers?limit=100`)
  t.equal(after.followers, listed.body.items.length, 'the counter equals the rows')
})

t.test('follower lists page by keyset: concurrent inserts cause no duplicates and no gaps', async (t) => {
  const star = await signedUp()
  const early = await Promise.all(Array.from({ length: 7 }, () => signedUp()))
  for (const fan of early) await http.put(`/users/${star.username}/follow`, fan)
  const seen: string[] = []
  let cursor: string | null = null
  let round = 0
  do {
    const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3'
    const page = await http.get(`/users/${star.username}/followers${query}`)
    t.equal(page.status, 200)
    seen.push(...page.body.items.map((u: { id: string }) => u.id))
    cursor = page.body.nextCursor
    // New followers arrive while we page: they are newer than the cursor, so they never show up mid-walk.
    if (round++ < 2) await http.put(`/users/${star.username}/follow`, await signedUp())
  } while (cursor)
  t.equal(new Set(seen).size, seen.length, 'no duplicates')
  t.same(new Set(seen), new Set(early.map((u) => u.id)), 'every early follower, none skipped')
  const following = await http.get(`/users/${early[0]?.username}/following`)
  t.match(following.body, { items: [{ id: star.id, username: star.username }], nextCursor: null })
})

t.test('follow events carry both ids', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  await http.put(`/users/${bob.username}/follow`, alice)
  await http.delete(`/users/${bob.username}/follow`, alice)
  const seen: Array<[string, EventPayload<'social.follow.created'>]> = []
  const consumer = await startConsumer({
    bus: ctx.bus,
    durable: 'test-follow-reader',
    types: ['social.follow.created', 'social.follow.deleted'],
    log: silent,
    handler: async (event) => {
      if (event.data.followerId === alice.id) seen.push([event.type, event.data])
    },
  })
  t.teardown(() => consumer.stop())
  await eventually(async () => seen.length >= 2)
  t.same(
    seen.map(([type, data]) => [type, data.followerId, data.followeeId]),
    [
      ['social.follow.created', alice.id, bob.id],
      ['social.follow.deleted', alice.id, bob.id],
    ],
  )
})
