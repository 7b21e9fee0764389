import { randomUUID } from 'node:crypto'
import type { EventPayload } from '@sm/contracts'
import { startConsumer } from '@sm/platform'
import t from 'tap'
import { api, buildTestApp, eventually, type TestUser, uniqueName } from '../helper.ts'

const ctx = await buildTestApp(t)
const http = api(ctx.app)
const silent = { error() {}, warn() {}, info() {}, debug() {} }

async function signedUp(username?: string): Promise<TestUser> {
  const user = ctx.newUser(username)
  await http.get('/users/me', user)
  return user
}

t.test('a post is created, read, edited and deleted by its author', async (t) => {
  const alice = await signedUp()
  const created = await http.post('/posts', alice, { text: 'Hello #World and #TypeScript, again #world!' })
  t.equal(created.status, 201)
  const post = created.body
  t.match(post, {
    author: { id: alice.id, username: alice.username, nickname: null, avatarUrl: null },
    text: 'Hello #World and #TypeScript, again #world!',
    hashtags: ['world', 'typescript'],
    media: [],
    likes: 0,
    dislikes: 0,
    comments: 0,
    views: 0,
    shares: 0,
    myVote: 0,
    editedAt: null,
  })
  t.match((await http.get('/users/me', alice)).body, { posts: 1 })

  const read = await http.get(`/posts/${post.id}`)
  t.equal(read.status, 200)
  t.equal(read.body.views, 1, 'the read counted itself')

  const edited = await http.patch(`/posts/${post.id}`, alice, { text: 'Now about #nodejs' })
  t.equal(edited.status, 200)
  t.match(edited.body, { text: 'Now about #nodejs', hashtags: ['nodejs'] })
  t.ok(edited.body.editedAt)
  t.same((await http.get('/hashtags/world/posts')).body.items, [], 'old tags are unlinked')
  t.equal((await http.get('/hashtags/NodeJS/posts')).body.items[0]?.id, post.id, 'tags match case-insensitively')

  t.equal((await http.delete(`/posts/${post.id}`, alice)).status, 204)
  t.match(await http.get(`/posts/${post.id}`), { status: 404, body: { code: 'POST_NOT_FOUND' } })
  t.match((await http.get('/users/me', alice)).body, { posts: 0 })
  t.same((await http.get('/hashtags/nodejs/posts')).body.items, [])
})

t.test('only the author edits or deletes; others get 403 and nothing changes', async (t) => {
  const alice = await signedUp()
  const mallory = await signedUp()
  const post = (await http.post('/posts', alice, { text: 'mine' })).body
  t.match(await http.patch(`/posts/${post.id}`, mallory, { text: 'pwned' }), { status: 403, body: { code: 'NOT_POST_AUTHOR' } })
  t.match(await http.delete(`/posts/${post.id}`, mallory), { status: 403, body: { code: 'NOT_POST_AUTHOR' } })
  t.match(await http.get(`/posts/${post.id}/analytics`, mallory), { status: 403 })
  t.match((await http.get(`/posts/${post.id}`)).body, { text: 'mine', editedAt: null })
  t.match(await http.patch(`/posts/${randomUUID()}`, alice, { text: 'x' }), { status: 404 })
  t.match(await http.delete(`/posts/${randomUUID()}`, alice), { status: 404 })
  t.match(await http.patch(`/posts/${post.id}`, undefined, { text: 'x' }), { status: 401 })
  t.match(await http.get('/posts/not-a-uuid'), { status: 400, body: { code: 'VALIDATION' } })
})

t.test('bad bodies: empty, too long, too many media, mass assignment', async (t) => {
  const alice = await signedUp()
  const cases: Array<[unknown, string]> = [
    [{}, 'EMPTY_POST'],
    [{ text: '   ' }, 'EMPTY_POST'],
    [{ text: 'x'.repeat(5_001) }, 'VALIDATION'],
    [{ text: 'x', mediaIds: Array.from({ length: 101 }, () => randomUUID()) }, 'VALIDATION'],
    [{ text: 'x', mediaIds: Array.from({ length: 11 }, () => randomUUID()) }, 'VALIDATION'],
    [{ text: 'x', likes: 1000 }, 'VALIDATION'],
    [{ text: 'x', authorId: randomUUID() }, 'VALIDATION'],
    [{ text: 'x', mediaIds: ['nope'] }, 'VALIDATION'],
  ]
  for (const [payload, code] of cases) {
    const response = await http.post('/posts', alice, payload)
    t.match(response, { status: 400, body: { code } }, JSON.stringify(payload).slice(0, 50))
  }
  const post = (await http.post('/posts', alice, { text: 'fine' })).body
  t.match(await http.patch(`/posts/${post.id}`, alice, { likes: 5 }), { status: 400, body: { code: 'VALIDATION' } })
  t.match(await http.patch(`/posts/${post.id}`, alice, {}), { status: 400, body: { code: 'VALIDATION' } })
  t.match(await http.patch(`/posts/${post.id}`, alice, { text: '' }), { status: 400, body: { code: 'EMPTY_POST' } })
  t.match((await http.get('/users/me', alice)).body, { posts: 1 })
})

t.test('media: the caller’s own post uploads are claimed, kept as snapshots and released when dropped', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const [m1, m2, m3] = [ctx.media.upload(alice.id), ctx.media.upload(alice.id), ctx.media.upload(alice.id)]
  const created = await http.post('/posts', alice, { mediaIds: [m1, m2] })
  t.equal(created.status, 201)
  t.same(
    created.body.media.map((m: { id: string }) => m.id),
    [m1, m2],
  )
  t.equal(created.body.text, '')
  const ref = `post:${created.body.id}`
  t.equal(ctx.media.uploads.get(m1 as string)?.ref, ref)

  t.match(await http.post('/posts', alice, { mediaIds: [m1] }), { status: 400, body: { code: 'MEDIA_ALREADY_CLAIMED' } })
  t.match(await http.post('/posts', bob, { mediaIds: [m3] }), { status: 403, body: { code: 'MEDIA_FORBIDDEN' } }, 'another user’s media')
  t.match(await http.post('/posts', alice, { mediaIds: [ctx.media.upload(alice.id, 'avatar')] }), {
    status: 400,
    body: { code: 'MEDIA_WRONG_PURPOSE' },
  })
  t.match(await http.post('/posts', alice, { mediaIds: [randomUUID()] }), { status: 400, body: { code: 'MEDIA_NOT_FOUND' } })

  const edited = await http.patch(`/posts/${created.body.id}`, alice, { mediaIds: [m2, m3] })
  t.same(
    edited.body.media.map((m: { id: string }) => m.id),
    [m2, m3],
  )
  t.same(ctx.media.releases.at(-1), { ids: [m1], ref }, 'media dropped by the edit is released')
  t.match(await http.patch(`/posts/${created.body.id}`, alice, { mediaIds: [] }), { status: 400, body: { code: 'EMPTY_POST' } })

  await http.delete(`/posts/${created.body.id}`, alice)
  t.same(ctx.media.releases.at(-1), { ids: [m2, m3], ref }, 'a deleted post releases its media')
  t.match((await http.get('/users/me', alice)).body, { posts: 0 }, 'failed creates counted nothing')

  ctx.media.down = true
  t.teardown(() => {
    ctx.media.down = false
  })
  t.match(await http.post('/posts', alice, { mediaIds: [ctx.media.upload(alice.id)] }), {
    status: 503,
    body: { code: 'UPSTREAM_UNAVAILABLE' },
  })
})

t.test('votes: toggle, flip, clear; myVote per caller; 50 concurrent voters give exact counts', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const post = (await http.post('/posts', alice, { text: 'vote on me' })).body
  t.same((await http.put(`/posts/${post.id}/vote`, bob, { value: 1 })).body, { likes: 1, dislikes: 0, myVote: 1 })
  t.same((await http.put(`/posts/${post.id}/vote`, bob, { value: 1 })).body, { likes: 1, dislikes: 0, myVote: 1 }, 'same vote again')
  t.same((await http.put(`/posts/${post.id}/vote`, bob, { value: -1 })).body, { likes: 0, dislikes: 1, myVote: -1 }, 'flip')
  t.equal((await http.get(`/posts/${post.id}`, bob)).body.myVote, -1)
  t.equal((await http.get(`/posts/${post.id}`, alice)).body.myVote, 0)
  t.same((await http.put(`/posts/${post.id}/vote`, bob, { value: 0 })).body, { likes: 0, dislikes: 0, myVote: 0 }, 'clear')
  t.match(await http.put(`/posts/${post.id}/vote`, bob, { value: 2 }), { status: 400, body: { code: 'VALIDATION' } })
  t.match(await http.put(`/posts/${randomUUID()}/vote`, bob, { value: 1 }), { status: 404, body: { code: 'POST_NOT_FOUND' } })
  t.match(await http.put(`/posts/${post.id}/vote`, undefined, { value: 1 }), { status: 401 })

  const voters = Array.from({ length: 50 }, () => ctx.newUser())
  await Promise.all(voters.map((voter, i) => http.put(`/posts/${post.id}/vote`, voter, { value: i % 5 === 0 ? -1 : 1 })))
  // Half of them change their minds at the same time as the other half vote again.
  await Promise.all(voters.map((voter, i) => http.put(`/posts/${post.id}/vote`, voter, { value: i % 2 === 0 ? 0 : i % 5 === 0 ? -1 : 1 })))
  const expectedLikes = voters.filter((_, i) => i % 2 === 1 && i % 5 !== 0).length
  const expectedDislikes = voters.filter((_, i) => i % 2 === 1 && i % 5 === 0).length
  t.match((await http.get(`/posts/${post.id}`)).body, { likes: expectedLikes, dislikes: expectedDislikes })
})

t.test('share into a DM: event with a snapshot, counted; not to yourself, not a missing post', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const pic = ctx.media.upload(alice.id)
  const post = (await http.post('/posts', alice, { text: 'look at this', mediaIds: [pic] })).body
  const shared = await http.post(`/posts/${post.id}/share`, bob, { toUserId: alice.id, comment: 'yours!' })
  t.equal(shared.status, 202)
  t.equal(shared.body.shares, 1)
  t.equal((await http.get(`/posts/${post.id}`)).body.shares, 1)
  t.match(await http.post(`/posts/${post.id}/share`, alice, { toUserId: alice.id }), {
    status: 400,
    body: { code: 'CANNOT_SHARE_TO_SELF' },
  })
  t.match(await http.post(`/posts/${post.id}/share`, alice, { toUserId: randomUUID() }), { status: 404, body: { code: 'USER_NOT_FOUND' } })
  t.match(await http.post(`/posts/${post.id}/share`, alice, { toUserId: bob.id, post: {} }), { status: 400 })
  await http.delete(`/posts/${post.id}`, alice)
  t.match(await http.post(`/posts/${post.id}/share`, bob, { toUserId: alice.id }), { status: 404, body: { code: 'POST_NOT_FOUND' } })

  const seen: Array<EventPayload<'social.post.shared'>> = []
  const consumer = await startConsumer({
    bus: ctx.bus,
    durable: 'test-share-reader',
    types: ['social.post.shared'],
    log: silent,
    handler: async (event) => {
      if (event.data.post.id === post.id) seen.push(event.data)
    },
  })
  t.teardown(() => consumer.stop())
  await eventually(async () => seen.length >= 1)
  t.match(seen[0], {
    shareId: shared.body.shareId,
    fromUserId: bob.id,
    toUserId: alice.id,
    comment: 'yours!',
    post: { id: post.id, author: { id: alice.id, username: alice.username }, text: 'look at this', media: { id: pic } },
  })
})

t.test('post events carry what search needs; a rename shows on old posts', async (t) => {
  const alice = await signedUp()
  t.equal((await http.patch('/users/me', alice, { nickname: 'Alice A.' })).status, 200)
  const post = (await http.post('/posts', alice, { text: 'v1 #first' })).body
  t.match(post.author, { id: alice.id, username: alice.username, nickname: 'Alice A.' }, 'the answer carries the stored summary')
  t.equal((await http.get(`/users/${alice.username}`)).body.posts, 1, 'the post count moved with the post')
  await http.patch(`/posts/${post.id}`, alice, { text: 'v2 #second' })
  await http.delete(`/posts/${post.id}`, alice)
  const seen: Array<[string, Record<string, unknown>]> = []
  const consumer = await startConsumer({
    bus: ctx.bus,
    durable: 'test-post-reader',
    types: ['social.post.created', 'social.post.updated', 'social.post.deleted'],
    log: silent,
    handler: async (event) => {
      if ((event.data as { postId: string }).postId === post.id) seen.push([event.type, event.data as never])
    },
  })
  t.teardown(() => consumer.stop())
  await eventually(async () => seen.length >= 3)
  t.match(seen, [
    [
      'social.post.created',
      { text: 'v1 #first', hashtags: ['first'], version: 1, editedAt: null, author: { id: alice.id, nickname: 'Alice A.' } },
    ],
    ['social.post.updated', { text: 'v2 #second', hashtags: ['second'], version: 2 }],
    ['social.post.deleted', { authorId: alice.id, version: 3 }],
  ])

  const old = (await http.post('/posts', alice, { text: 'before the rename' })).body
  const renamed = uniqueName('renamed')
  await ctx.publish('auth.user.updated', {
    userId: alice.id,
    username: renamed,
    previousUsername: alice.username,
    updatedAt: new Date().toISOString(),
  })
  await eventually(async () => (await http.get(`/posts/${old.id}`)).body.author.username === renamed)
  t.equal((await http.get(`/users/${renamed}/posts`)).body.items[0]?.id, old.id)
})

t.test('user posts and hashtag pages: newest first, keyset pages with no duplicates or gaps under inserts', async (t) => {
  const alice = await signedUp()
  const tag = uniqueName('tag').replace(/_/g, '')
  const ids: string[] = []
  for (let i = 0; i < 7; i++) ids.push((await http.post('/posts', alice, { text: `post ${i} #${tag}` })).body.id)
  for (const url of [`/users/${alice.username}/posts`, `/hashtags/${tag}/posts`]) {
    const seen: string[] = []
    let cursor: string | null = null
    let round = 0
    do {
      const page = await http.get(`${url}?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      t.equal(page.status, 200)
      seen.push(...page.body.items.map((p: { id: string }) => p.id))
      cursor = page.body.nextCursor
      if (round++ < 2) await http.post('/posts', alice, { text: url.startsWith('/hashtags') ? `late #${tag}` : 'late, untagged' })
    } while (cursor)
    t.same(seen, [...ids].reverse(), `${url}: every post once, newest first`)
  }
  t.match(await http.get('/hashtags/bad-tag!/posts'), { status: 400 })
  t.match(await http.get('/users/nobody_here_at_all/posts'), { status: 404 })
})
