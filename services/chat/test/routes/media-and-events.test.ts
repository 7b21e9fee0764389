import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import t from 'tap'
import { bearer, buildTestChat, cid, until } from '../helper.ts'

const chat = await buildTestChat(t)
const { app, media } = chat
media.start()

const lastEvent = async (type: string) => {
  const msg = await chat.peer.bus.jsm.streams.getMessage(chat.peer.bus.stream, { last_by_subj: chat.peer.bus.subject(type) })
  return msg?.json<{ type: string; data: Record<string, unknown> }>()
}

t.test('media messages: claimed over NATS, kind from the media, URLs signed per viewer', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const photo = media.upload(alice.id, 'image')
  const sent = await alice.client.chat.send({ clientId: cid(), to: bob.id, mediaId: photo, text: 'look' })
  t.match(sent, { kind: 'image', text: 'look', media: { id: photo, kind: 'image' } })
  t.equal(media.uploads.get(photo)?.claimedBy, `chat:${sent.conversationId}`)
  const history = await bob.client.chat.messages(sent.conversationId)
  t.match(history.items[0]?.media?.url, new RegExp(`viewer=${bob.id}`), 'bob gets a URL signed for him')
  const mine = await alice.client.chat.message(sent.id)
  t.match(mine.media?.url, new RegExp(`viewer=${alice.id}`))
  const gets = media.gets.length
  await bob.client.chat.messages(sent.conversationId)
  t.equal(media.gets.length, gets, 'fresh URLs are cached until near expiry')

  for (const kind of ['video', 'audio', 'document'] as const) {
    const id = media.upload(alice.id, kind)
    const message = await alice.client.chat.send({ clientId: cid(), conversationId: sent.conversationId, mediaId: id })
    t.equal(message.kind, kind)
    t.equal(message.text, null)
  }
  const quoted = await bob.client.chat.send({ clientId: cid(), conversationId: sent.conversationId, text: 'nice', quoteId: sent.id })
  t.match(quoted.quote, { id: sent.id, kind: 'image', media: { id: photo } })

  await alice.client.chat.delete(sent.id, 'everyone')
  t.ok(media.released.includes(photo), 'delete for everyone releases the bytes')
  const tomb = await bob.client.chat.message(sent.id)
  t.match(tomb, { deleted: true, media: null, text: null })
  const quoteAfter = await bob.client.chat.message(quoted.id)
  t.match(quoteAfter.quote, { deleted: true, media: null })
})

t.test('media errors map to 4xx; media being down is a 503 and history falls back to snapshots', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const send = (token: string, mediaId: string) =>
    app.inject({ method: 'POST', url: '/chat/messages', headers: bearer(token), payload: { clientId: cid(), to: bob.id, mediaId } })
  const bobs = media.upload(bob.id)
  const forbidden = await send(alice.token, bobs)
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().code, 'MEDIA_FORBIDDEN')
  const missing = await send(alice.token, randomUUID())
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().code, 'MEDIA_NOT_FOUND')
  const avatar = await send(alice.token, media.upload(alice.id, 'image', 'avatar'))
  t.equal(avatar.statusCode, 400)
  t.equal(avatar.json().code, 'MEDIA_WRONG_PURPOSE')
  t.equal((await alice.client.chat.conversations()).items.length, 0, 'refused sends leave no conversation behind')

  // URLs that expire at once are never cached: with media down, the snapshot is served.
  media.urlTtlS = 1
  const ok = await alice.client.chat.send({ clientId: cid(), to: bob.id, mediaId: media.upload(alice.id) })
  media.stop()
  t.teardown(() => {
    media.urlTtlS = 3600
  })
  const down = await send(alice.token, media.upload(alice.id))
  t.equal(down.statusCode, 503)
  t.equal(down.json().code, 'UPSTREAM_UNAVAILABLE')
  const history = await bob.client.chat.messages(ok.conversationId)
  t.equal(history.items[0]?.media?.url, `/media/${ok.media?.id}/raw`, 'the stored snapshot')
  media.start()
})

t.test('edit and delete windows, and the edit rate limit', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const old = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'old' })
  await sql`update chat.messages set created_at = now() - interval '2 hours' where id = ${old.id}`.execute(chat.db)
  const edit = await app.inject({
    method: 'PATCH',
    url: `/chat/messages/${old.id}`,
    headers: bearer(alice.token),
    payload: { text: 'new' },
  })
  t.equal(edit.statusCode, 403)
  t.equal(edit.json().code, 'EDIT_WINDOW_EXPIRED')
  const del = await app.inject({ method: 'DELETE', url: `/chat/messages/${old.id}?scope=everyone`, headers: bearer(alice.token) })
  t.equal(del.statusCode, 403)
  t.equal(del.json().code, 'DELETE_WINDOW_EXPIRED')
  await alice.client.chat.delete(old.id, 'me')
  t.equal((await alice.client.chat.messages(old.conversationId)).items.length, 0, 'delete for me has no window')

  const fresh = await alice.client.chat.send({ clientId: cid(), conversationId: old.conversationId, text: 'v0' })
  const statuses: number[] = []
  let retryAfter: string | undefined
  for (let i = 1; i <= 11; i++) {
    const response = await app.inject({
      method: 'PATCH',
      url: `/chat/messages/${fresh.id}`,
      headers: bearer(alice.token),
      payload: { text: `v${i}` },
    })
    statuses.push(response.statusCode)
    if (response.statusCode === 429) retryAfter = response.headers['retry-after'] as string
  }
  t.same(statuses, [...Array(10).fill(200), 429], '10 edits a minute, then 429')
  t.ok(Number(retryAfter) >= 1)
  t.equal((await bob.client.chat.message(fresh.id)).text, 'v10')
  const post = media.upload(alice.id)
  const picture = await alice.client.chat.send({ clientId: cid(), conversationId: old.conversationId, mediaId: post })
  const notText = await app.inject({
    method: 'PATCH',
    url: `/chat/messages/${picture.id}`,
    headers: bearer(bob.token),
    payload: { text: 'x' },
  })
  t.equal(notText.statusCode, 403, 'not the sender')
})

t.test('chat.message.created (metadata only) and chat.presence.changed are published', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const sent = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'private words' })
  await until(async () => (await lastEvent('chat.message.created'))?.data.messageId === sent.id, 5_000, 'message event')
  const event = await lastEvent('chat.message.created')
  t.match(event?.data, {
    messageId: sent.id,
    conversationId: sent.conversationId,
    seq: 1,
    senderId: alice.id,
    recipientId: bob.id,
    kind: 'text',
  })
  t.notOk(JSON.stringify(event).includes('private words'), 'no text leaves chat')
  const socket = await bob.client.chat.connect()
  await until(async () => (await lastEvent('chat.presence.changed'))?.data.userId === bob.id, 5_000, 'presence event')
  t.match((await lastEvent('chat.presence.changed'))?.data, { userId: bob.id, online: true })
  await socket.close()
  await until(async () => (await lastEvent('chat.presence.changed'))?.data.online === false, 5_000, 'offline event')
})

t.test('user summaries follow auth and social events (newer profile versions only)', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'hi' })
  const peer = async () => (await alice.client.chat.conversations()).items[0]?.peer
  await chat.peer.publish('social.profile.updated', {
    userId: bob.id,
    username: bob.username,
    nickname: 'Bobby',
    bio: null,
    avatarUrl: '/media/a/raw',
    version: 2,
    updatedAt: new Date().toISOString(),
  })
  await until(async () => (await peer())?.nickname === 'Bobby', 5_000, 'profile applied')
  await chat.peer.publish('social.profile.updated', {
    userId: bob.id,
    username: bob.username,
    nickname: 'Stale',
    bio: null,
    avatarUrl: null,
    version: 1,
    updatedAt: new Date().toISOString(),
  })
  await chat.peer.publish('auth.user.updated', {
    userId: bob.id,
    username: 'bob_renamed',
    previousUsername: bob.username,
    updatedAt: new Date().toISOString(),
  })
  await until(async () => (await peer())?.username === 'bob_renamed', 5_000, 'rename applied')
  t.same(
    await peer(),
    { id: bob.id, username: 'bob_renamed', nickname: 'Bobby', avatarUrl: '/media/a/raw' },
    'the stale profile was ignored',
  )
})

t.test('a post shared via social arrives as a post message, once', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const b = await bob.client.chat.connect()
  const share = {
    shareId: randomUUID(),
    fromUserId: alice.id,
    toUserId: bob.id,
    comment: 'you will like this',
    post: {
      id: randomUUID(),
      author: { id: randomUUID(), username: 'writer', nickname: null, avatarUrl: null },
      text: 'a post',
      media: null,
      createdAt: new Date().toISOString(),
    },
    sharedAt: new Date().toISOString(),
  }
  await chat.peer.publish('social.post.shared', share)
  const frame = await b.next('message.new')
  t.match(frame.message, { kind: 'post', senderId: alice.id, text: 'you will like this', post: { id: share.post.id, text: 'a post' } })
  // Redelivered as a new event (e.g. social's relay retried): still one message.
  await chat.peer.publish('social.post.shared', share)
  const replied = await bob.client.chat.send({
    clientId: cid(),
    conversationId: frame.message.conversationId,
    text: 'thanks',
    replyToId: frame.message.id,
  })
  t.match(replied.replyTo, { kind: 'post', post: { id: share.post.id } }, 'shared posts can be replied to')
  await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'flush' })
  const history = await bob.client.chat.messages(frame.message.conversationId)
  t.same(
    history.items.map((m) => m.kind),
    ['post', 'text', 'text'],
  )
  // A share from someone chat has never heard of still arrives.
  const stranger = randomUUID()
  await chat.peer.publish('social.post.shared', { ...share, shareId: randomUUID(), fromUserId: stranger })
  const fromStranger = await b.next('message.new', (f) => f.message.senderId === stranger)
  t.equal(fromStranger.message.kind, 'post')
  await b.close()
})
