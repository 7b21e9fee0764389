import { randomUUID } from 'node:crypto'
import t from 'tap'
import { api, buildTestApp, type TestUser } from '../helper.ts'

const ctx = await buildTestApp(t)
const http = api(ctx.app)

async function signedUp(): Promise<TestUser> {
  const user = ctx.newUser()
  await http.get('/users/me', user)
  return user
}

t.test('comments: create, reply one level, list oldest first, edit, counts on the post', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const post = (await http.post('/posts', alice, { text: 'discuss' })).body
  const first = await http.post(`/posts/${post.id}/comments`, bob, { text: 'first!' })
  t.equal(first.status, 201)
  t.match(first.body, {
    postId: post.id,
    parentId: null,
    author: { id: bob.id, username: bob.username },
    text: 'first!',
    likes: 0,
    myVote: 0,
    editedAt: null,
  })
  const reply = await http.post(`/posts/${post.id}/comments`, alice, { text: 'welcome', parentId: first.body.id })
  t.match(reply, { status: 201, body: { parentId: first.body.id } })
  t.match(await http.post(`/posts/${post.id}/comments`, bob, { text: 'deeper', parentId: reply.body.id }), {
    status: 400,
    body: { code: 'INVALID_PARENT' },
  })
  const other = (await http.post('/posts', alice, { text: 'other' })).body
  t.match(await http.post(`/posts/${other.id}/comments`, bob, { text: 'x', parentId: first.body.id }), {
    status: 400,
    body: { code: 'INVALID_PARENT' },
  })
  t.match(await http.post(`/posts/${post.id}/comments`, bob, { text: 'x', parentId: randomUUID() }), {
    status: 400,
    body: { code: 'INVALID_PARENT' },
  })
  const third = await http.post(`/posts/${post.id}/comments`, bob, { text: 'third' })

  t.equal((await http.get(`/posts/${post.id}`)).body.comments, 3)
  const page1 = await http.get(`/posts/${post.id}/comments?limit=2`)
  t.same(
    page1.body.items.map((c: { id: string }) => c.id),
    [first.body.id, reply.body.id],
  )
  const page2 = await http.get(`/posts/${post.id}/comments?limit=2&cursor=${page1.body.nextCursor}`)
  t.same(
    page2.body.items.map((c: { id: string }) => c.id),
    [third.body.id],
  )
  t.equal(page2.body.nextCursor, null)

  const edited = await http.patch(`/comments/${first.body.id}`, bob, { text: 'first (edited)' })
  t.match(edited, { status: 200, body: { text: 'first (edited)' } })
  t.ok(edited.body.editedAt)
})

t.test('ugly comment cases: other people’s comments, missing ids, bad bodies', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const mallory = await signedUp()
  const post = (await http.post('/posts', alice, { text: 'hi' })).body
  const comment = (await http.post(`/posts/${post.id}/comments`, bob, { text: 'bob says' })).body
  t.match(await http.patch(`/comments/${comment.id}`, mallory, { text: 'x' }), { status: 403, body: { code: 'NOT_COMMENT_AUTHOR' } })
  t.match(await http.patch(`/comments/${comment.id}`, alice, { text: 'x' }), { status: 403 }, 'the post author cannot edit it either')
  t.match(await http.delete(`/comments/${comment.id}`, mallory), { status: 403 })
  t.match(await http.post(`/posts/${randomUUID()}/comments`, bob, { text: 'x' }), { status: 404, body: { code: 'POST_NOT_FOUND' } })
  t.match(await http.get(`/posts/${randomUUID()}/comments`), { status: 404 })
  t.match(await http.patch(`/comments/${randomUUID()}`, bob, { text: 'x' }), { status: 404, body: { code: 'COMMENT_NOT_FOUND' } })
  t.match(await http.delete(`/comments/${randomUUID()}`, bob), { status: 404 })
  t.match(await http.put(`/comments/${randomUUID()}/vote`, bob, { value: 1 }), { status: 404 })
  for (const payload of [{ text: '' }, { text: 'x'.repeat(2_001) }, { text: 'x', likes: 9 }, { text: 'x', authorId: alice.id }]) {
    t.match(await http.post(`/posts/${post.id}/comments`, bob, payload), { status: 400, body: { code: 'VALIDATION' } })
  }
  t.match(await http.post(`/posts/${post.id}/comments`, bob, { text: '   ' }), { status: 400, body: { code: 'EMPTY_COMMENT' } })
  t.match(await http.patch(`/comments/${comment.id}`, bob, { text: '  ' }), { status: 400, body: { code: 'EMPTY_COMMENT' } })
  t.match(await http.post(`/posts/${post.id}/comments`, undefined, { text: 'x' }), { status: 401 })
  t.match((await http.get(`/posts/${post.id}/comments`)).body.items, [{ text: 'bob says' }])
  t.equal((await http.get(`/posts/${post.id}`)).body.comments, 1)
})

t.test('deleting: the comment author or the post author; replies go with their parent', async (t) => {
  const alice = await signedUp()
  const bob = await signedUp()
  const post = (await http.post('/posts', alice, { text: 'hi' })).body
  const parent = (await http.post(`/posts/${post.id}/comments`, bob, { text: 'parent' })).body
  await http.post(`/posts/${post.id}/comments`, alice, { text: 'r1', parentId: parent.id })
  await http.post(`/posts/${post.id}/comments`, bob, { text: 'r2', parentId: parent.id })
  const own = (await http.post(`/posts/${post.id}/comments`, bob, { text: 'own' })).body
  t.equal((await http.get(`/posts/${post.id}`)).body.comments, 4)
  t.equal((await http.delete(`/comments/${parent.id}`, alice)).status, 204, 'the post author moderates')
  t.equal((await http.get(`/posts/${post.id}`)).body.comments, 1)
  t.equal((await http.delete(`/comments/${own.id}`, bob)).status, 204, 'the comment author deletes their own')
  t.equal((await http.get(`/posts/${post.id}`)).body.comments, 0)
  t.same((await http.get(`/posts/${post.id}/comments`)).body.items, [])
})

t.test('comment votes: exact under concurrency, myVote per caller; a deleted post takes its comments', async (t) => {
  const alice = await signedUp()
  const post = (await http.post('/posts', alice, { text: 'hi' })).body
  const comment = (await http.post(`/posts/${post.id}/comments`, alice, { text: 'vote' })).body
  const voters = Array.from({ length: 30 }, () => ctx.newUser())
  await Promise.all(voters.map((voter, i) => http.put(`/comments/${comment.id}/vote`, voter, { value: i < 20 ? 1 : -1 })))
  t.same((await http.put(`/comments/${comment.id}/vote`, voters[0] as TestUser, { value: -1 })).body, {
    likes: 19,
    dislikes: 11,
    myVote: -1,
  })
  t.same((await http.put(`/comments/${comment.id}/vote`, voters[0] as TestUser, { value: 0 })).body, { likes: 19, dislikes: 10, myVote: 0 })
  const listed = await http.get(`/posts/${post.id}/comments`, voters[1])
  t.match(listed.body.items[0], { likes: 19, dislikes: 10, myVote: 1 })
  t.match(await http.put(`/comments/${comment.id}/vote`, alice, { value: 5 }), { status: 400 })

  await http.delete(`/posts/${post.id}`, alice)
  t.match(await http.patch(`/comments/${comment.id}`, alice, { text: 'x' }), { status: 404 })
  t.match(await http.put(`/comments/${comment.id}/vote`, alice, { value: 1 }), { status: 404 })
})
