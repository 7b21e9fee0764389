import t from 'tap'
import { api, buildTestApp } from '../helper.ts'

// Redis unreachable: the feed falls back to Postgres and reads still answer (views go uncounted).
const ctx = await buildTestApp(t, { REDIS_URL: 'redis://127.0.0.1:1' })
const http = api(ctx.app)

t.test('without Redis the feed and post reads still work from Postgres', async (t) => {
  const alice = ctx.newUser()
  const bob = ctx.newUser()
  await http.get('/users/me', bob)
  await http.put(`/users/${bob.username}/follow`, alice)
  const post = (await http.post('/posts', bob, { text: 'still here' })).body
  const read = await http.get(`/posts/${post.id}`, alice)
  t.match(read, { status: 200, body: { id: post.id, views: 0 } })
  const feed = await http.get('/feed', alice)
  t.equal(feed.status, 200)
  t.same(
    feed.body.items.map((p: { id: string }) => p.id),
    [post.id],
  )
  const ready = await ctx.app.inject('/ready')
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { code: 'NOT_READY', dependencies: { redis: 'down', postgres: 'up' } })
})
