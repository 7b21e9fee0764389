import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import { ApiError, Client } from '@sm/client'
import { startStack } from '@sm/testing'
import t from 'tap'

// The real system: auth, social, media and the gateway as their own processes, driven with the SDK.
const mediaRoot = await mkdtemp(join(tmpdir(), 'social-e2e-'))
const stack = await startStack({
  services: ['auth', 'social', 'media'],
  env: { MEDIA_ROOT: mediaRoot, BCRYPT_COST: '4', AUTH_RATE_LIMIT_MAX: '1000', RATE_LIMIT_MAX: '100000' },
})
t.teardown(async () => {
  await stack.stop()
  await rm(mediaRoot, { recursive: true, force: true })
})

t.test("social starts with its package's nodeFlags (an 8 MB young generation; README › Under load)", async (t) => {
  const pid = stack.services.social?.process.pid as number
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
  t.ok(argv.includes('--max-semi-space-size=8'), argv.join(' '))
  const gateway = (await readFile(`/proc/${stack.gateway.process.pid}/cmdline`, 'utf8')).split('\0')
  t.notOk(
    gateway.some((arg) => arg.startsWith('--max-semi-space-size')),
    'a package without nodeFlags starts with none',
  )
})

/** A valid 2×2 PNG built in code. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(typed))
    return Buffer.concat([length, typed, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(2, 0)
  header.writeUInt32BE(2, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const rows = Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255])
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ status: 200, code: 'OK' }),
    (error: unknown) => {
      if (error instanceof ApiError) return { status: error.status, code: error.code }
      throw error
    },
  )

async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met before the deadline')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function registered(username: string, nickname?: string): Promise<Client> {
  const client = new Client({ baseUrl: stack.url })
  await client.auth.register({ username, email: `${username}@e2e.test`, password: 'long enough password', ...(nickname && { nickname }) })
  return client
}

t.test('profiles, follows, posts with media, the feed, votes, comments, shares and a rename, through the gateway', async (t) => {
  const alice = await registered('alice_social', 'Alice')
  const bob = await registered('bob_social')
  const carol = await registered('carol_social')
  const [aliceId, bobId] = [(await alice.auth.me()).id, (await bob.auth.me()).id]

  // Readable at once, whether or not auth's event has been consumed yet.
  t.match(await alice.social.me(), { id: aliceId, username: 'alice_social', followers: 0, posts: 0 })
  await eventually(async () => (await bob.social.profile('alice_social')).nickname === 'Alice')

  const avatar = await alice.media.upload('avatar', png(), { filename: 'me.png' })
  const withAvatar = await alice.social.updateMe({ avatarMediaId: avatar.id, bio: 'hi, I am Alice' })
  t.equal(withAvatar.avatarUrl, avatar.url)
  t.equal((await fetch(new URL(avatar.url, stack.url))).status, 200, 'the avatar URL serves the picture')
  t.match(await failure(bob.social.updateMe({ avatarMediaId: avatar.id })), { status: 403, code: 'MEDIA_FORBIDDEN' })

  await bob.social.follow('alice_social')
  await bob.social.follow('alice_social')
  t.match(await bob.social.profile('alice_social'), { followers: 1, isFollowing: true, followsYou: false })
  t.match(await failure(bob.social.follow('bob_social')), { status: 400, code: 'CANNOT_FOLLOW_SELF' })
  t.match(await failure(bob.social.follow('nobody_social')), { status: 404 })
  t.same(
    (await carol.social.followers('alice_social')).items.map((u) => u.id),
    [bobId],
  )

  const photo = await alice.media.upload('post', png(), { filename: 'p.png' })
  const post = await alice.social.createPost({ text: 'Hello from the #E2E suite', mediaIds: [photo.id] })
  t.match(post, {
    hashtags: ['e2e'],
    media: [{ id: photo.id, kind: 'image' }],
    author: { username: 'alice_social', avatarUrl: avatar.url },
  })
  t.match(await failure(bob.social.createPost({ text: 'x', mediaIds: Array.from({ length: 101 }, () => crypto.randomUUID()) })), {
    status: 400,
    code: 'VALIDATION',
  })
  const bobsPhoto = await bob.media.upload('post', png())
  t.match(await failure(alice.social.createPost({ mediaIds: [bobsPhoto.id] })), { status: 403, code: 'MEDIA_FORBIDDEN' })
  t.match(await failure(bob.social.createPost({ text: 'x', authorId: aliceId } as never)), { status: 400, code: 'VALIDATION' })

  const bobsFeed = await eventually(async () => {
    const feed = await bob.social.feed()
    return feed.items.some((p) => p.id === post.id) && feed
  })
  t.equal(bobsFeed.items[0]?.id, post.id, 'the follower sees the post in their feed')
  t.same((await carol.social.feed()).items, [], 'someone who does not follow alice does not')

  t.match(await failure(bob.social.updatePost(post.id, { text: 'hijacked' })), { status: 403, code: 'NOT_POST_AUTHOR' })
  t.match(await failure(bob.social.deletePost(post.id)), { status: 403 })
  t.match(await failure(bob.social.votePost(crypto.randomUUID(), 1)), { status: 404 })
  t.same(await bob.social.votePost(post.id, 1), { likes: 1, dislikes: 0, myVote: 1 })
  t.same(await carol.social.votePost(post.id, -1), { likes: 1, dislikes: 1, myVote: -1 })
  const comment = await bob.social.comment(post.id, { text: 'nice!' })
  const reply = await alice.social.comment(post.id, { text: 'thanks', parentId: comment.id })
  t.equal(reply.parentId, comment.id)
  t.match(await failure(carol.social.updateComment(comment.id, 'mine now')), { status: 403 })
  t.match(await bob.social.voteComment(reply.id, 1), { likes: 1, myVote: 1 })
  t.same(
    (await carol.social.comments(post.id)).items.map((c) => c.text),
    ['nice!', 'thanks'],
  )

  t.match(await bob.social.sharePost(post.id, { toUserId: (await carol.auth.me()).id, comment: 'look' }), { shares: 1 })
  t.match(await bob.social.post(post.id), { likes: 1, dislikes: 1, comments: 2, shares: 1, myVote: 1 })
  t.equal((await alice.social.hashtagPosts('e2e')).items[0]?.id, post.id)
  t.match(await alice.social.postAnalytics(post.id), { views: 1, uniqueViewers: 1, likes: 1, comments: 2, shares: 1 })
  t.match(await alice.social.myAnalytics(), { posts: 1, likesReceived: 1, commentsReceived: 2, sharesReceived: 1, commentsWritten: 1 })

  // A username change in auth reaches the author of old posts through events.
  await alice.auth.updateMe({ username: 'alice_renamed' })
  await eventually(async () => (await bob.social.post(post.id)).author.username === 'alice_renamed')
  t.equal((await carol.social.userPosts('alice_renamed')).items[0]?.id, post.id)
  t.equal((await bob.social.feed()).items[0]?.author.username, 'alice_renamed')

  const edited = await alice.social.updatePost(post.id, { text: 'Edited #later' })
  t.ok(edited.editedAt)
  t.equal((await bob.social.feed()).items[0]?.text, 'Edited #later', 'the feed shows the edit')
  await alice.social.deletePost(post.id)
  t.same((await bob.social.feed()).items, [], 'a deleted post leaves the feed')
  t.match(await failure(bob.social.post(post.id)), { status: 404 })
  t.match(await failure(bob.social.sharePost(post.id, { toUserId: aliceId })), { status: 404 })
  await bob.social.unfollow('alice_social'.replace('social', 'renamed'))
  t.match(await bob.social.profile('alice_renamed'), { followers: 0, isFollowing: false })
})

t.test('no token, bad token: 401 in the contract’s shape', async (t) => {
  const anonymous = new Client({ baseUrl: stack.url })
  t.match(await failure(anonymous.social.feed()), { status: 401, code: 'UNAUTHORIZED' })
  t.match(await failure(new Client({ baseUrl: stack.url, accessToken: 'nope' }).social.createPost({ text: 'x' })), { status: 401 })
})
