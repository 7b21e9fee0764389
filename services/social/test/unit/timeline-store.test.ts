import { createRedis, newId } from '@sm/platform'
import { dropNamespace, TEST_REDIS_URL } from '@sm/testing'
import t from 'tap'
import { TimelineStore } from '../../src/services/timeline.store.ts'

// The Lua scripts behind the home timelines, against a real Redis, state by state.
const namespace = `social_tl_${process.pid}_${Date.now().toString(36)}`
const redis = createRedis(TEST_REDIS_URL, namespace)
t.teardown(async () => {
  redis.disconnect()
  await dropNamespace(namespace)
})
await redis.ping()
const store = new TimelineStore(redis, { cap: 5, ttlSeconds: 60 })
/** Ids in creation order, oldest first (UUID v7 sorts by time). */
const ids = (n: number) => Array.from({ length: n }, () => newId())
const newestFirst = (list: string[]) => [...list].reverse()
/** State and ids of a read (its size and oldest id are checked where they matter). */
const readState = async (user: string, before: string | undefined, count: number) => {
  const { state, ids } = await store.read(user, before, count)
  return { state, ids }
}

t.test('fan-out skips users without a timeline; a built one is capped and marked truncated', async (t) => {
  const user = newId()
  const [a, b] = ids(2) as [string, string]
  await store.add([user], [a])
  t.same(await readState(user, undefined, 10), { state: 'missing', ids: [] }, 'nothing is created by fan-out')

  t.ok(await store.begin(user))
  t.notOk(await store.begin(user), 'one builder at a time')
  t.equal((await store.read(user, undefined, 10)).state, 'building')
  await store.add([user], [b])
  await store.finish(user, [a], false)
  t.same(await readState(user, undefined, 10), { state: 'complete', ids: [b, a] }, 'posts fanned out during the build are kept')

  const more = ids(5)
  for (const id of more) await store.add([user], [id])
  const read = await store.read(user, undefined, 10)
  t.equal(read.state, 'truncated')
  t.same(read.ids, newestFirst(more), 'the cap keeps the newest')
  t.same((await store.read(user, more[3], 2)).ids, [more[2], more[1]], 'pages after a cursor')
})

t.test('a truncated timeline only takes ids newer than its oldest; shrinking low drops it', async (t) => {
  const user = newId()
  const [old1, old2, ...recent] = ids(8) as string[]
  t.ok(await store.begin(user))
  await store.finish(user, recent, true)
  t.same(await readState(user, undefined, 10), { state: 'truncated', ids: newestFirst(recent).slice(0, 5) })
  await store.add([user], [old1 as string, old2 as string])
  t.same((await store.read(user, undefined, 10)).ids, newestFirst(recent).slice(0, 5), 'older ids would leave a gap: refused')

  await store.remove([user], newestFirst(recent).slice(0, 4))
  t.same(await readState(user, undefined, 10), { state: 'missing', ids: [] }, 'rebuilt on the next read instead')
})

t.test('a complete timeline given an author’s full page becomes truncated; removals and many users at once', async (t) => {
  const [u1, u2, u3] = [newId(), newId(), newId()]
  for (const user of [u1, u2]) {
    t.ok(await store.begin(user))
    await store.finish(user, [], false)
  }
  const authorPosts = ids(5)
  await store.add([u1, u2, u3], authorPosts, true)
  t.same(await readState(u1, undefined, 10), { state: 'truncated', ids: newestFirst(authorPosts) })
  t.same((await store.read(u2, undefined, 10)).ids, newestFirst(authorPosts))
  t.equal((await store.read(u3, undefined, 10)).state, 'missing')
  await store.remove([u1, u2, u3], [authorPosts[4] as string])
  t.same((await store.read(u2, undefined, 10)).ids, newestFirst(authorPosts).slice(1))

  const small = newId()
  t.ok(await store.begin(small))
  await store.finish(small, ids(2), false)
  await store.add([small], [], false)
  await store.remove([small], [])
  t.equal((await store.read(small, undefined, 10)).state, 'complete', 'empty calls change nothing')
})

t.test('a truncated timeline extends downwards only from its own end; exhausted makes it complete; a fan-out trims it back', async (t) => {
  const user = newId()
  const [older1, older2, older3, ...recent] = ids(8) as string[]
  t.ok(await store.begin(user))
  await store.finish(user, recent, true)
  const before = await store.read(user, undefined, 10)
  t.match(before, { state: 'truncated', end: { size: 5, oldest: recent[0] } }, 'a read that ran out tells the size and the oldest id')

  t.notOk(await store.extend(user, recent[1] as string, [older3 as string], false), 'not from its end: refused')
  t.equal((await store.read(user, undefined, 10)).end?.size, 5)
  t.ok(await store.extend(user, recent[0] as string, [older3 as string, older2 as string], false))
  const extended = await store.read(user, undefined, 10)
  t.same(extended.ids, [...newestFirst(recent), older3, older2], 'appended below, past the cap')
  t.match(extended, { state: 'truncated', end: { size: 7, oldest: older2 } })
  t.same((await store.read(user, older3, 10)).ids, [older2], 'pages continue through the extension')

  t.ok(await store.extend(user, older2 as string, [older1 as string], true))
  t.match(await store.read(user, undefined, 10), { state: 'complete', end: { size: 8 } }, 'nothing older in Postgres: complete')
  t.notOk(await store.extend(user, older1 as string, [], true), 'a complete timeline takes no extension')

  const fresh = newId()
  await store.add([user], [fresh])
  const pushed = await store.read(user, undefined, 10)
  t.match(pushed, { state: 'truncated', end: { size: 8 } }, 'a new post into an extended set pushes out one oldest id: the size holds')
  t.same(pushed.ids, [fresh, ...newestFirst(recent), older3, older2], 'so a reader down there keeps their place')
  await store.add([user], ids(2), true)
  t.match(
    await store.read(user, undefined, 10),
    { state: 'truncated', end: { size: 5 } },
    'an author’s page of older posts trims to the cap',
  )

  const building = newId()
  t.ok(await store.begin(building))
  t.notOk(await store.extend(building, recent[0] as string, [older1 as string], false), 'a set being built is not extended')
  t.equal((await store.read(newId(), undefined, 10)).end, undefined, 'a missing timeline has no end to extend from')
  t.equal((await store.read(user, undefined, 2)).end, undefined, 'a read that did not run out does not look for the end')
})
