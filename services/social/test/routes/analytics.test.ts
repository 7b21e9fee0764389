import { randomUUID } from 'node:crypto'
import { TEST_REDIS_URL } from '@sm/testing'
import { Redis } from 'ioredis'
import pg from 'pg'
import t from 'tap'
import { api, buildTestApp, eventually, type TestUser } from '../helper.ts'

// Views are flushed from Redis to Postgres every 100 ms here, so both sides of the counter are exercised.
const ctx = await buildTestApp(t, { VIEW_FLUSH_MS: '100' })
const http = api(ctx.app)
const sqlClient = new pg.Client({ connectionString: ctx.databaseUrl })
await sqlClient.connect()
sqlClient.on('error', () => undefined)
t.teardown(() => sqlClient.end())

async function signedUp(): Promise<TestUser> {
  const user = ctx.newUser()
  await http.get('/users/me', user)
  return user
}

const storedViews = async (id: string) =>
  Number((await sqlClient.query('select views from social.posts where id = $1', [id])).rows[0]?.views)

t.test('views: every read counts once, concurrent reads are exact, Redis deltas reach Postgres', async (t) => {
  const alice = await signedUp()
  const viewers = await Promise.all(Array.from({ length: 5 }, () => signedUp()))
  const post = (await http.post('/posts', alice, { text: 'watch me' })).body
  await Promise.all(Array.from({ length: 40 }, (_, i) => http.get(`/posts/${post.id}`, i % 8 === 7 ? undefined : viewers[i % 5])))
  t.equal((await http.get(`/posts/${post.id}/analytics`, alice)).body.views, 40, 'exact before and after flushing')
  await eventually(async () => (await storedViews(post.id)) === 40)
  const redis = new Redis(TEST_REDIS_URL)
  t.teardown(() => redis.disconnect())
  await eventually(async () => (await redis.scard(`${ctx.namespace}:views:dirty`)) === 0)
  t.pass('a settled post is no longer dirty')
  const analytics = (await http.get(`/posts/${post.id}/analytics`, alice)).body
  t.match(analytics, { views: 40, likes: 0, comments: 0, shares: 0, engagementRate: 0 })
  // Six viewers (five users and one address) in a HyperLogLog: two of them share one of its
  // 16,384 registers about once in 1,100 runs (random user ids), which reads as 5.
  t.ok([5, 6].includes(analytics.uniqueViewers), `unique viewers ≈ 6 (${analytics.uniqueViewers})`)
  await http.get(`/posts/${post.id}`, viewers[0])
  t.equal((await http.get(`/users/${alice.username}/posts`)).body.items[0].views, 41, 'lists add the pending delta too')
  t.match(await http.get(`/posts/${randomUUID()}/analytics`, alice), { status: 404 })
  t.match(await http.get(`/posts/${post.id}/analytics`), { status: 401 })
})

t.test('my analytics: received, given and written, computed in a fixed number of queries', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const carol = await signedUp()
  const p1 = (await http.post('/posts', alice, { text: 'popular' })).body
  const p2 = (await http.post('/posts', alice, { text: 'quiet' })).body
  const bobs = (await http.post('/posts', bob, { text: 'bob’s' })).body
  await http.put(`/posts/${p1.id}/vote`, bob, { value: 1 })
  await http.put(`/posts/${p1.id}/vote`, carol, { value: -1 })
  await http.post(`/posts/${p1.id}/comments`, bob, { text: 'nice' })
  await http.post(`/posts/${p1.id}/comments`, carol, { text: 'meh' })
  await http.post(`/posts/${p1.id}/share`, carol, { toUserId: bob.id })
  await http.put(`/posts/${bobs.id}/vote`, alice, { value: 1 })
  const mine = (await http.post(`/posts/${bobs.id}/comments`, alice, { text: 'hello bob' })).body
  await http.put(`/comments/${mine.id}/vote`, bob, { value: 1 })
  await http.put(`/comments/${mine.id}/vote`, alice, { value: -1 })
  for (let i = 0; i < 4; i++) await http.get(`/posts/${p1.id}`)

  const response = await http.get('/me/analytics', alice)
  t.equal(response.status, 200)
  t.match(response.body, {
    posts: 2,
    views: 4,
    likesReceived: 1,
    dislikesReceived: 1,
    commentsReceived: 2,
    sharesReceived: 1,
    votesGiven: { likes: 1, dislikes: 1 },
    commentsWritten: 1,
    commentVotesReceived: { likes: 1, dislikes: 1 },
    engagementRate: 1.25,
  })
  t.same(
    response.body.topPosts.map((p: { id: string }) => p.id),
    [p1.id, p2.id],
  )
  t.match((await http.get('/me/analytics', carol)).body, { posts: 0, views: 0, engagementRate: 0, topPosts: [] })
  t.match(await http.get('/me/analytics'), { status: 401 })
})

t.test('pending views are written when the service closes', async (t) => {
  const other = await buildTestApp(t, { VIEW_FLUSH_MS: '3600000' })
  const otherHttp = api(other.app)
  const alice = other.newUser()
  const post = (await otherHttp.post('/posts', alice, { text: 'x' })).body
  for (let i = 0; i < 3; i++) await otherHttp.get(`/posts/${post.id}`)
  const client = new pg.Client({ connectionString: other.databaseUrl })
  await client.connect()
  client.on('error', () => undefined)
  t.teardown(() => client.end())
  const views = async () => Number((await client.query('select views from social.posts where id = $1', [post.id])).rows[0]?.views)
  t.equal(await views(), 0, 'still in Redis')
  await other.app.close()
  t.equal(await views(), 3, 'flushed on close')
})
