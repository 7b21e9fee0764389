import { randomUUID } from 'node:crypto'
import type { EventPayload } from '@sm/contracts'
import { startConsumer } from '@sm/platform'
import t from 'tap'
import { api, buildTestApp, eventually, uniqueName } from '../helper.ts'

const ctx = await buildTestApp(t)
const http = api(ctx.app)
const silent = { error() {}, warn() {}, info() {}, debug() {} }

t.test('a profile answers right after registration, before auth’s event arrives', async (t) => {
  const alice = ctx.newUser()
  const me = await http.get('/users/me', alice)
  t.equal(me.status, 200)
  t.match(me.body, {
    id: alice.id,
    username: alice.username,
    nickname: null,
    bio: null,
    avatarUrl: null,
    followers: 0,
    following: 0,
    posts: 0,
  })
  const byName = await http.get(`/users/${alice.username.toUpperCase()}`)
  t.equal(byName.status, 200, 'usernames match case-insensitively')
  t.notOk('isFollowing' in byName.body, 'no follow flags without a token')

  // auth's event arrives later: it fills the nickname and the real creation time, once.
  const createdAt = new Date(Date.now() - 60_000).toISOString()
  const event = { userId: alice.id, username: alice.username, nickname: 'Alice A.', createdAt }
  const eventId = await ctx.publish('auth.user.registered', event)
  const filled = await eventually(async () => {
    const response = await http.get(`/users/${alice.username}`)
    return response.body.nickname === 'Alice A.' && response.body
  })
  t.equal(filled.createdAt, createdAt)
  await ctx.publish('auth.user.registered', event, eventId)
  await ctx.publish('auth.user.registered', { ...event, nickname: 'Replayed' })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal((await http.get(`/users/${alice.username}`)).body.nickname, 'Alice A.', 'replays change nothing')
})

t.test('registered and renamed users follow auth’s events', async (t) => {
  const userId = randomUUID()
  const username = uniqueName('reg')
  await ctx.publish('auth.user.registered', { userId, username, nickname: null, createdAt: new Date().toISOString() })
  await eventually(async () => (await http.get(`/users/${username}`)).status === 200)
  const renamed = uniqueName('renamed')
  await ctx.publish('auth.user.updated', { userId, username: renamed, previousUsername: username, updatedAt: new Date().toISOString() })
  await eventually(async () => (await http.get(`/users/${renamed}`)).status === 200)
  t.equal((await http.get(`/users/${username}`)).status, 404, 'the old name is free')

  // A rename for a user social never saw creates the profile.
  const ghostId = randomUUID()
  const ghost = uniqueName('ghost')
  await ctx.publish('auth.user.updated', {
    userId: ghostId,
    username: ghost,
    previousUsername: 'whatever',
    updatedAt: new Date().toISOString(),
  })
  const profile = await eventually(async () => {
    const response = await http.get(`/users/${ghost}`)
    return response.status === 200 && response.body
  })
  t.equal(profile.id, ghostId)
})

t.test('the owner edits nickname and bio; limits and unknown fields are refused', async (t) => {
  const bob = ctx.newUser()
  const updated = await http.patch('/users/me', bob, { nickname: 'Bobby', bio: 'hello there' })
  t.equal(updated.status, 200)
  t.match(updated.body, { nickname: 'Bobby', bio: 'hello there' })
  const cleared = await http.patch('/users/me', bob, { nickname: null, bio: '' })
  t.match(cleared.body, { nickname: null, bio: null })
  t.match((await http.patch('/users/me', bob, { nickname: '  Bob  ', bio: ' hi ' })).body, { nickname: 'Bob', bio: 'hi' }, 'trimmed')
  t.match((await http.patch('/users/me', bob, { nickname: '   ' })).body, { nickname: null }, 'blank clears')

  for (const payload of [
    { nickname: 'x'.repeat(51) },
    { bio: 'x'.repeat(301) },
    { followers: 1_000_000 },
    { id: randomUUID() },
    { username: 'sneaky_rename' },
  ]) {
    const response = await http.patch('/users/me', bob, payload)
    t.equal(response.status, 400, JSON.stringify(payload).slice(0, 40))
    t.equal(response.body.code, 'VALIDATION')
  }
  const after = await http.get('/users/me', bob)
  t.match(after.body, { username: bob.username, followers: 0, nickname: null, bio: 'hi' })
  t.equal((await http.patch('/users/me', undefined, { nickname: 'x' })).status, 401)
  t.equal((await http.get('/users/me')).status, 401)
  t.equal((await http.get('/users/no_such_user_here')).status, 404)
  t.equal((await http.get('/users/no_such_user_here')).body.code, 'USER_NOT_FOUND')
  t.equal((await http.get('/users/bad-name!')).status, 400)
})

t.test('avatars: only the caller’s own avatar uploads; replacing or removing releases the old one', async (t) => {
  const carol = ctx.newUser()
  const dave = ctx.newUser()
  const first = ctx.media.upload(carol.id, 'avatar')
  const set = await http.patch('/users/me', carol, { avatarMediaId: first })
  t.equal(set.status, 200)
  t.equal(set.body.avatarUrl, `/media/${first}/file`)

  const theirs = ctx.media.upload(dave.id, 'avatar')
  const forbidden = await http.patch('/users/me', carol, { avatarMediaId: theirs })
  t.equal(forbidden.status, 403)
  t.equal(forbidden.body.code, 'MEDIA_FORBIDDEN')
  const wrongPurpose = await http.patch('/users/me', carol, { avatarMediaId: ctx.media.upload(carol.id, 'post') })
  t.match(wrongPurpose, { status: 400, body: { code: 'MEDIA_WRONG_PURPOSE' } })
  t.match(await http.patch('/users/me', carol, { avatarMediaId: randomUUID() }), { status: 400, body: { code: 'MEDIA_NOT_FOUND' } })
  const claimedElsewhere = ctx.media.upload(carol.id, 'avatar')
  ctx.media.claim({ userId: carol.id, purpose: 'avatar', ids: [claimedElsewhere], ref: 'somewhere:else' })
  t.match(await http.patch('/users/me', carol, { avatarMediaId: claimedElsewhere }), {
    status: 400,
    body: { code: 'MEDIA_ALREADY_CLAIMED' },
  })
  t.equal((await http.get('/users/me', carol)).body.avatarUrl, `/media/${first}/file`, 'failed changes left the avatar alone')

  const second = ctx.media.upload(carol.id, 'avatar')
  t.equal((await http.patch('/users/me', carol, { avatarMediaId: second })).body.avatarUrl, `/media/${second}/file`)
  t.same(ctx.media.releases.at(-1), { ids: [first], ref: `avatar:${carol.id}` }, 'the replaced avatar is released')

  const removed = await http.delete('/users/me/avatar', carol)
  t.equal(removed.status, 204)
  t.equal((await http.get('/users/me', carol)).body.avatarUrl, null)
  t.same(ctx.media.releases.at(-1), { ids: [second], ref: `avatar:${carol.id}` })

  ctx.media.down = true
  t.teardown(() => {
    ctx.media.down = false
  })
  const unavailable = await http.patch('/users/me', carol, { avatarMediaId: ctx.media.upload(carol.id, 'avatar') })
  t.equal(unavailable.status, 503)
  t.equal(unavailable.body.code, 'UPSTREAM_UNAVAILABLE')
})

t.test('social.profile.updated goes out on creation and every change, with a growing version', async (t) => {
  const erin = ctx.newUser()
  await http.get('/users/me', erin)
  await http.patch('/users/me', erin, { nickname: 'Erin' })
  await http.patch('/users/me', erin, { nickname: 'Erin' })
  const renamed = uniqueName('erin')
  await ctx.publish('auth.user.updated', {
    userId: erin.id,
    username: renamed,
    previousUsername: erin.username,
    updatedAt: new Date().toISOString(),
  })

  const seen: Array<EventPayload<'social.profile.updated'>> = []
  const consumer = await startConsumer({
    bus: ctx.bus,
    durable: 'test-profile-reader',
    types: ['social.profile.updated'],
    log: silent,
    handler: async (event) => {
      if (event.data.userId === erin.id) seen.push(event.data)
    },
  })
  t.teardown(() => consumer.stop())
  await eventually(async () => seen.length >= 3)
  t.same(
    seen.map((e) => [e.version, e.username, e.nickname]),
    [
      [1, erin.username, null],
      [2, erin.username, 'Erin'],
      [3, renamed, 'Erin'],
    ],
    'an unchanged PATCH publishes nothing',
  )
})
