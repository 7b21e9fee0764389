import { TEST_REDIS_URL } from '@sm/testing'
import { Redis } from 'ioredis'
import pg from 'pg'
import t from 'tap'
import { api, buildTestApp, eventually, type TestUser } from '../helper.ts'

// A tiny cap and fan-out limit so the Postgres fallback and the read-time merge are exercised.
const ctx = await buildTestApp(t, { TIMELINE_CAP: '10', FANOUT_FOLLOWER_LIMIT: '4' })
const http = api(ctx.app)
const redis = new Redis(TEST_REDIS_URL)
t.teardown(() => redis.disconnect())
const timelineKey = (user: TestUser) => `${ctx.namespace}:tl:${user.id}`

async function signedUp(): Promise<TestUser> {
  const user = ctx.newUser()
  await http.get('/users/me', user)
  return user
}

const post = async (user: TestUser, text: string): Promise<string> => (await http.post('/posts', user, { text })).body.id

/** Walks the whole feed with small pages. */
async function walk(user: TestUser, limit = 4, between?: () => Promise<void>): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page = await http.get(`/feed?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, user)
    if (page.status !== 200) throw new Error(`feed: ${page.status} ${JSON.stringify(page.body)}`)
    ids.push(...page.body.items.map((p: { id: string }) => p.id))
    cursor = page.body.nextCursor
    if (between) await between()
  } while (cursor)
  return ids
}

const newestFirst = (ids: string[]) => [...ids].sort().reverse()
const sameIds = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b)

t.test('the feed holds exactly my posts and those of people I follow, newest first', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const carol = await signedUp()
  const dave = await signedUp()
  await http.put(`/users/${bob.username}/follow`, alice)
  await http.put(`/users/${carol.username}/follow`, alice)
  const before = [await post(bob, 'bob before'), await post(dave, 'dave before'), await post(alice, 'alice before')]
  // The first read builds the timeline from Postgres.
  const expectedBefore = newestFirst([before[0] as string, before[2] as string])
  t.same(
    await eventually(async () => {
      const ids = await walk(alice)
      return sameIds(ids, expectedBefore) && ids
    }),
    expectedBefore,
  )
  t.ok(await redis.exists(timelineKey(alice)), 'the timeline now lives in Redis')

  // Later posts arrive by fan-out from the event path.
  const after = [await post(carol, 'carol after'), await post(dave, 'dave after'), await post(bob, 'bob after'), await post(alice, 'mine')]
  const expected = newestFirst([...expectedBefore, after[0] as string, after[2] as string, after[3] as string])
  t.same(
    await eventually(async () => {
      const ids = await walk(alice)
      return sameIds(ids, expected) && ids
    }),
    expected,
  )
  const feed = (await http.get('/feed', alice)).body.items
  t.match(feed[0], { text: 'mine', author: { id: alice.id }, myVote: 0 })
  t.notOk(
    feed.some((p: { author: { id: string } }) => p.author.id === dave.id),
    'no posts from people I do not follow',
  )
  t.match(await http.get('/feed'), { status: 401 })
  t.match(await http.get('/feed?cursor=nonsense', alice), { status: 400, body: { code: 'INVALID_CURSOR' } })
})

t.test('unfollow removes, delete removes, edit shows the new text, follow brings older posts in', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const carol = await signedUp()
  await http.put(`/users/${bob.username}/follow`, alice)
  const b1 = await post(bob, 'b1')
  const c1 = await post(carol, 'c1 (older than the follow)')
  await walk(alice) // build
  const b2 = await post(bob, 'b2')
  await eventually(async () => sameIds(await walk(alice), [b2, b1]))

  await http.patch(`/posts/${b1}`, bob, { text: 'b1, edited' })
  t.equal((await http.get('/feed', alice)).body.items[1].text, 'b1, edited', 'posts are hydrated fresh: the edit shows at once')

  await http.delete(`/posts/${b2}`, bob)
  t.same(await walk(alice), [b1], 'a deleted post is gone at once')
  await eventually(async () => (await redis.zscore(timelineKey(alice), b2)) === null)

  await http.put(`/users/${carol.username}/follow`, alice)
  t.same(
    await eventually(async () => {
      const ids = await walk(alice)
      return sameIds(ids, [c1, b1]) && ids
    }),
    [c1, b1],
    'following adds the followee’s earlier posts',
  )

  await http.delete(`/users/${bob.username}/follow`, alice)
  t.same(await walk(alice), [c1], 'an unfollow applies at once, before its event is consumed')
  await eventually(async () => (await redis.zscore(timelineKey(alice), b1)) === null)
  t.pass('…and the event takes the posts out of the stored timeline')
})

t.test('beyond the Redis cap the feed continues from Postgres, with no gaps or duplicates under concurrent posts', async (t) => {
  const reader = await signedUp()
  const authors = await Promise.all(Array.from({ length: 3 }, () => signedUp()))
  for (const author of authors) await http.put(`/users/${author.username}/follow`, reader)
  // The timeline exists before the posts, so they arrive by fan-out; once the last one is in, the
  // consumer (in order) is done with all of them and no late fan-out trims what the walk extends.
  await http.get('/feed', reader)
  const ids: string[] = []
  for (let i = 0; i < 27; i++) ids.push(await post(authors[i % 3] as TestUser, `post ${i}`))
  const own = await post(reader, 'own')
  ids.push(own)
  await eventually(async () => (await redis.zscore(timelineKey(reader), own)) !== null)
  const expected = newestFirst(ids)
  t.same(await walk(reader, 4), expected, 'built timeline (cap 10) + its extension: all 28, in order')
  t.equal(await redis.zcard(timelineKey(reader)), 29, 'the walk past the cap extended the stored timeline: 28 ids + the state marker')
  t.ok(await redis.zscore(timelineKey(reader), '!c'), '…and marked it complete, Postgres having nothing older')

  // New posts land while we walk: they are newer than the cursor, so the walk neither repeats nor skips.
  let round = 0
  const walked = await walk(reader, 5, async () => {
    if (round++ < 3) await post(authors[round % 3] as TestUser, `during ${round}`)
  })
  t.same(walked, expected, 'a walk started before the new posts sees exactly the old ones')
  const latest = await eventually(async () => {
    const first = (await http.get('/feed?limit=3', reader)).body.items
    return first.every((p: { text: string }) => p.text.startsWith('during')) && first
  })
  t.equal(latest.length, 3, 'the new posts arrive at the top')
  t.ok(
    (await redis.zcard(timelineKey(reader))) > 11,
    'new posts pushed out only as many of the oldest: the extension was not trimmed back to the cap',
  )
  const now = [...latest.map((p: { id: string }) => p.id), ...expected]
  t.same(await walk(reader, 4), now, 'past the cap again: extended again, same order')
  t.same(await walk(reader, 7), now, 'and with other page sizes')
})

t.test('very-followed authors are not fanned out but merged at read time', async (t) => {
  const star = await signedUp()
  const fans = await Promise.all(Array.from({ length: 5 }, () => signedUp()))
  const early = await post(star, 'before fame')
  for (const fan of fans) await http.put(`/users/${star.username}/follow`, fan)
  const fan = fans[0] as TestUser
  t.same(await walk(fan), [early])
  const famous = await post(star, 'after fame')
  t.same(await walk(fan), [famous, early], 'merged at read: visible without waiting for any fan-out')
  // Give the fan-out consumer time to (not) act, then check the stored timeline.
  const marker = await post(fan, 'a marker posted after the star’s post')
  await eventually(async () => (await redis.zscore(timelineKey(fan), marker)) !== null)
  t.equal(await redis.zscore(timelineKey(fan), famous), null, 'the star’s post was not written into the fan’s timeline')
  t.same(await walk(fan), [marker, famous, early])
  await http.delete(`/posts/${famous}`, star)
  t.same(await walk(fan), [marker, early], 'a deleted post of a very-followed author is gone too')
  const other = fans[1] as TestUser
  const otherMarker = await post(other, 'the star’s delete event has been handled before this one')
  await eventually(async () => (await redis.zscore(timelineKey(other), otherMarker)) !== null || (await walk(other)).includes(otherMarker))
  await http.delete(`/users/${star.username}/follow`, fan)
  t.same(await walk(fan), [marker])
})

t.test('a timeline that expired from Redis is rebuilt on the next read', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  await http.put(`/users/${bob.username}/follow`, alice)
  const ids = [await post(bob, 'one'), await post(bob, 'two'), await post(alice, 'three')]
  await walk(alice)
  await redis.del(timelineKey(alice))
  t.same(await walk(alice), newestFirst(ids))
  t.ok(await redis.exists(timelineKey(alice)))
})

t.test('fan-out walks every page of followers (more than one script call)', async (t) => {
  const author = await signedUp()
  const client = new pg.Client({ connectionString: ctx.databaseUrl })
  await client.connect()
  client.on('error', () => undefined)
  t.teardown(() => client.end())
  // 1,200 followers straight into the tables (three pages of followers). Written by SQL, they leave
  // the author's counters and fan-out flag alone, so the post is fanned out page by page.
  const { rows } = await client.query<{ id: string; username: string }>(
    `insert into social.profiles (id, username, created_at, updated_at)
     select gen_random_uuid(), 'bulk_' || g || '_' || $1, now(), now() from generate_series(1, 1200) g
     returning id, username`,
    [process.pid],
  )
  await client.query('insert into social.follows (follower_id, followee_id, created_at) select unnest($1::uuid[]), $2, now()', [
    rows.map((r) => r.id),
    author.id,
  ])
  const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : 1))
  const last = sorted.at(-1) as { id: string; username: string }
  const asLast = ctx.newUser(last.username, last.id)
  await walk(asLast) // builds the last follower's timeline
  const id = await post(author, 'to all 1,200')
  await eventually(async () => (await redis.zscore(timelineKey(asLast), id)) !== null)
  t.pass('the follower on the last page got the post')
})
