import t from 'tap'
import { bearer, buildTestChat, cid } from '../helper.ts'

const chat = await buildTestChat(t)
const { app } = chat

t.test('the first message creates the conversation; retries with the same clientId return the original', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const clientId = cid()
  const first = await app.inject({
    method: 'POST',
    url: '/chat/messages',
    headers: bearer(alice.token),
    payload: { clientId, to: bob.id, text: 'hi bob' },
  })
  t.equal(first.statusCode, 201, first.body)
  const message = first.json()
  t.match(message, {
    seq: 1,
    senderId: alice.id,
    kind: 'text',
    text: 'hi bob',
    media: null,
    post: null,
    replyTo: null,
    reactions: [],
    deleted: false,
  })

  const retry = await app.inject({
    method: 'POST',
    url: '/chat/messages',
    headers: bearer(alice.token),
    payload: { clientId, to: bob.id, text: 'hi bob' },
  })
  t.equal(retry.statusCode, 200)
  t.equal(retry.json().id, message.id, 'the same message, not a duplicate')

  const reply = await app.inject({
    method: 'POST',
    url: '/chat/messages',
    headers: bearer(bob.token),
    payload: { clientId: cid(), conversationId: message.conversationId, text: 'hello', replyToId: message.id, quoteId: message.id },
  })
  t.equal(reply.statusCode, 201, reply.body)
  t.match(reply.json(), { seq: 2, replyTo: { id: message.id, text: 'hi bob', deleted: false }, quote: { id: message.id } })

  const history = await alice.client.chat.messages(message.conversationId)
  t.same(
    history.items.map((m) => m.seq),
    [1, 2],
  )
  t.equal(history.nextCursor, null)
})

t.test('the same clientId sent concurrently stores one message and answers every try with it', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'first' })
  const clientId = cid()
  const tries = await Promise.all(
    Array.from({ length: 8 }, () =>
      app.inject({
        method: 'POST',
        url: '/chat/messages',
        headers: bearer(alice.token),
        payload: { clientId, conversationId: first.conversationId, text: 'once' },
      }),
    ),
  )
  t.same(tries.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 201])
  t.equal(new Set(tries.map((r) => r.json().id)).size, 1)
  const history = await bob.client.chat.messages(first.conversationId)
  t.same(
    history.items.map((m) => m.seq),
    [1, 2],
    'one message, and no seq was burnt',
  )
})

t.test('bad input gets clear 400s and changes nothing', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const post = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/chat/messages', headers: bearer(alice.token), payload: payload as object })
  const cases: Array<[unknown, string]> = [
    [{ clientId: cid(), to: bob.id }, 'EMPTY_MESSAGE'],
    [{ clientId: cid(), to: bob.id, text: '   ' }, 'EMPTY_MESSAGE'],
    [{ clientId: cid(), text: 'x' }, 'VALIDATION'],
    [{ clientId: cid(), to: bob.id, conversationId: bob.id, text: 'x' }, 'VALIDATION'],
    [{ clientId: cid(), to: alice.id, text: 'me' }, 'SELF_MESSAGE'],
    [{ clientId: cid(), to: bob.id, text: 'x'.repeat(4001) }, 'VALIDATION'],
    [{ clientId: '', to: bob.id, text: 'x' }, 'VALIDATION'],
    [{ clientId: cid(), to: 'not-a-uuid', text: 'x' }, 'VALIDATION'],
    [{ clientId: cid(), to: bob.id, text: 'x', extra: 1 }, 'VALIDATION'],
  ]
  for (const [payload, code] of cases) {
    const response = await post(payload)
    t.equal(response.statusCode, 400, `${JSON.stringify(payload).slice(0, 80)} → 400`)
    t.equal(response.json().code, code)
  }
  const unknown = await post({ clientId: cid(), to: '0190a0a0-0000-7000-8000-000000000000', text: 'x' })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'USER_NOT_FOUND')
  const conversations = await alice.client.chat.conversations()
  t.equal(conversations.items.length, 0, 'no conversation was created')
  const anonymous = await app.inject({ method: 'POST', url: '/chat/messages', payload: { clientId: cid(), to: bob.id, text: 'x' } })
  t.equal(anonymous.statusCode, 401)
})

t.test('outsiders cannot read, write, edit, delete, react to or mark read a conversation (404, nothing changes)', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const eve = await chat.user()
  const message = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'secret' })
  const conversationId = message.conversationId
  const attempts = [
    { method: 'GET', url: `/chat/conversations/${conversationId}/messages` },
    { method: 'GET', url: `/chat/messages/${message.id}` },
    { method: 'POST', url: '/chat/messages', payload: { clientId: cid(), conversationId, text: 'let me in' } },
    { method: 'PATCH', url: `/chat/messages/${message.id}`, payload: { text: 'pwned' } },
    { method: 'DELETE', url: `/chat/messages/${message.id}?scope=everyone` },
    { method: 'DELETE', url: `/chat/messages/${message.id}?scope=me` },
    { method: 'PUT', url: `/chat/messages/${message.id}/reactions/${encodeURIComponent('👍')}` },
    { method: 'POST', url: `/chat/conversations/${conversationId}/read`, payload: { seq: 1 } },
    { method: 'POST', url: `/chat/conversations/${conversationId}/clear` },
    { method: 'POST', url: '/chat/messages', payload: { clientId: cid(), to: alice.id, text: 'x', replyToId: message.id } },
  ] as const
  for (const attempt of attempts) {
    const response = await app.inject({ ...attempt, headers: bearer(eve.token) } as never)
    t.equal(response.statusCode, 404, `${attempt.method} ${attempt.url}`)
    t.match(response.json().code, /_NOT_FOUND$/)
  }
  const detail = await bob.client.chat.message(message.id)
  t.match(detail, { text: 'secret', reactions: [], deleted: false, edits: [] })
  t.same((await alice.client.chat.conversations()).items.length, 1, 'no conversation with eve appeared')
  t.equal((await bob.client.chat.conversations()).items[0]?.unread, 1)
})

t.test('edits: sender only, text only, kept in history, visible to both', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const message = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'frist' })
  const edited = await alice.client.chat.edit(message.id, 'first')
  t.equal(edited.text, 'first')
  t.ok(edited.editedAt)
  await alice.client.chat.edit(message.id, 'first!')
  const detail = await bob.client.chat.message(message.id)
  t.equal(detail.text, 'first!')
  t.same(
    detail.edits.map((e) => e.text),
    ['frist', 'first'],
    'the edit history lists the replaced texts, oldest first',
  )
  const byBob = await app.inject({
    method: 'PATCH',
    url: `/chat/messages/${message.id}`,
    headers: bearer(bob.token),
    payload: { text: 'nope' },
  })
  t.equal(byBob.statusCode, 403)
  t.equal(byBob.json().code, 'NOT_SENDER')
  const empty = await app.inject({
    method: 'PATCH',
    url: `/chat/messages/${message.id}`,
    headers: bearer(alice.token),
    payload: { text: ' ' },
  })
  t.equal(empty.json().code, 'EMPTY_MESSAGE')
})

t.test('reactions: one emoji each, several per user, aggregated; bad emoji → 400', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const message = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'react to me' })
  await bob.client.chat.react(message.id, '👍')
  await bob.client.chat.react(message.id, '🇫🇷')
  await alice.client.chat.react(message.id, '👍')
  const again = await alice.client.chat.react(message.id, '👍')
  t.same(again.reactions, [
    { emoji: '👍', userIds: [bob.id, alice.id] },
    { emoji: '🇫🇷', userIds: [bob.id] },
  ])
  const removed = await bob.client.chat.unreact(message.id, '👍')
  t.same(removed.reactions, [
    { emoji: '🇫🇷', userIds: [bob.id] },
    { emoji: '👍', userIds: [alice.id] },
  ])
  for (const bad of ['a', '👍👍', 'ab', '🙂x']) {
    const response = await app.inject({
      method: 'PUT',
      url: `/chat/messages/${message.id}/reactions/${encodeURIComponent(bad)}`,
      headers: bearer(bob.token),
    })
    t.equal(response.statusCode, 400, `${bad} refused`)
    t.equal(response.json().code, 'INVALID_EMOJI')
  }
  const family = await bob.client.chat.react(message.id, '👨‍👩‍👧')
  t.ok(
    family.reactions.some((r) => r.emoji === '👨‍👩‍👧'),
    'a ZWJ sequence is one emoji',
  )
})

t.test('delete for me hides it from me only; for everyone leaves a tombstone; clear hides everything so far', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const one = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'one' })
  const two = await alice.client.chat.send({ clientId: cid(), conversationId: one.conversationId, text: 'two' })
  const reply = await bob.client.chat.send({ clientId: cid(), conversationId: one.conversationId, text: 'to two', replyToId: two.id })
  await bob.client.chat.delete(one.id, 'me')
  t.same(
    (await bob.client.chat.messages(one.conversationId)).items.map((m) => m.seq),
    [2, 3],
  )
  t.same(
    (await alice.client.chat.messages(one.conversationId)).items.map((m) => m.seq),
    [1, 2, 3],
  )
  const byBob = await app.inject({ method: 'DELETE', url: `/chat/messages/${two.id}?scope=everyone`, headers: bearer(bob.token) })
  t.equal(byBob.statusCode, 403)
  t.equal(byBob.json().code, 'NOT_SENDER')
  await alice.client.chat.delete(two.id, 'everyone')
  await alice.client.chat.delete(two.id, 'everyone')
  const tomb = await bob.client.chat.message(two.id)
  t.match(tomb, { deleted: true, text: null, media: null, post: null })
  const replied = await bob.client.chat.message(reply.id)
  t.match(replied.replyTo, { id: two.id, deleted: true, text: null }, 'the reply snapshot shows the delete')
  const react = await app.inject({
    method: 'PUT',
    url: `/chat/messages/${two.id}/reactions/${encodeURIComponent('👍')}`,
    headers: bearer(bob.token),
  })
  t.equal(react.statusCode, 409)
  const badScope = await app.inject({ method: 'DELETE', url: `/chat/messages/${two.id}?scope=all`, headers: bearer(alice.token) })
  t.equal(badScope.statusCode, 400)

  await alice.client.chat.clear(one.conversationId)
  t.same((await alice.client.chat.messages(one.conversationId)).items, [])
  t.equal((await bob.client.chat.messages(one.conversationId)).items.length, 2, 'clearing is mine only')
  const gone = await app.inject({ method: 'GET', url: `/chat/messages/${one.id}`, headers: bearer(alice.token) })
  t.equal(gone.statusCode, 404)
  const next = await bob.client.chat.send({ clientId: cid(), conversationId: one.conversationId, text: 'after clear' })
  t.same(
    (await alice.client.chat.messages(one.conversationId)).items.map((m) => m.id),
    [next.id],
  )
})

t.test('history pages by seq in both directions', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'm1' })
  for (let i = 2; i <= 7; i++) await alice.client.chat.send({ clientId: cid(), conversationId: first.conversationId, text: `m${i}` })
  const newest = await bob.client.chat.messages(first.conversationId, { limit: 3 })
  t.same(
    newest.items.map((m) => m.seq),
    [5, 6, 7],
  )
  t.equal(newest.nextCursor, '5')
  const older = await bob.client.chat.messages(first.conversationId, { limit: 3, before: 5 })
  t.same(
    older.items.map((m) => m.seq),
    [2, 3, 4],
  )
  const oldest = await bob.client.chat.messages(first.conversationId, { limit: 3, before: 2 })
  t.same(
    oldest.items.map((m) => m.seq),
    [1],
  )
  t.equal(oldest.nextCursor, null)
  const forward = await bob.client.chat.messages(first.conversationId, { limit: 4, after: 2 })
  t.same(
    forward.items.map((m) => m.seq),
    [3, 4, 5, 6],
  )
  t.equal(forward.nextCursor, '6')
  const bad = await app.inject({
    method: 'GET',
    url: `/chat/conversations/${first.conversationId}/messages?limit=500`,
    headers: bearer(bob.token),
  })
  t.equal(bad.statusCode, 400)
})

t.test('read receipts, unread counts and the conversation list', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const carol = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'a1' })
  await alice.client.chat.send({ clientId: cid(), conversationId: first.conversationId, text: 'a2' })
  const three = await alice.client.chat.send({ clientId: cid(), conversationId: first.conversationId, text: 'a3' })
  await carol.client.chat.send({ clientId: cid(), to: bob.id, text: 'c1' })

  let list = await bob.client.chat.conversations()
  t.same(
    list.items.map((c) => [c.peer.id, c.unread]),
    [
      [carol.id, 1],
      [alice.id, 3],
    ],
    'most recent first, unread counted by the server',
  )
  t.match(list.items[1], { peer: { username: alice.username }, lastMessage: { text: 'a3' }, peerOnline: false })

  const read = await bob.client.chat.read(first.conversationId, 2)
  t.equal(read.seq, 2)
  const clamped = await bob.client.chat.read(first.conversationId, 99)
  t.equal(clamped.seq, 3, 'read is clamped to the last message')
  const backwards = await bob.client.chat.read(first.conversationId, 1)
  t.equal(backwards.seq, 3, 'the read cursor never moves back')
  list = await bob.client.chat.conversations()
  t.equal(list.items.find((c) => c.id === first.conversationId)?.unread, 0)
  const detail = await alice.client.chat.message(three.id)
  t.ok(detail.receipts.readAt, 'the sender sees it read')
  t.ok(detail.receipts.deliveredAt, 'read implies delivered')
  const aliceView = await alice.client.chat.conversations()
  t.match(aliceView.items[0], { peerReadSeq: 3, unread: 0 })

  const page = await bob.client.chat.conversations({ limit: 1 })
  t.equal(page.items.length, 1)
  t.ok(page.nextCursor)
  const rest = await bob.client.chat.conversations({ limit: 1, cursor: page.nextCursor as string })
  t.equal(rest.items[0]?.peer.id, alice.id)
  t.equal(rest.nextCursor, null)
  const badCursor = await app.inject({ method: 'GET', url: '/chat/conversations?cursor=garbage', headers: bearer(bob.token) })
  t.equal(badCursor.statusCode, 400)
  t.equal(badCursor.json().code, 'INVALID_CURSOR')
})

t.test('sync returns every event after a cursor, for each member', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const start = await bob.client.chat.sync()
  t.same(start.events, [])
  const m = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'x' })
  await alice.client.chat.edit(m.id, 'y')
  await bob.client.chat.react(m.id, '👍')
  await bob.client.chat.read(m.conversationId, 1)
  await alice.client.chat.delete(m.id, 'everyone')
  const all = await bob.client.chat.sync(start.cursor)
  t.same(
    all.events.map((e) => e.type),
    ['message.new', 'message.edited', 'reaction', 'read', 'message.deleted'],
  )
  const afterTwo = await bob.client.chat.sync(all.events[1]?.cursor)
  t.equal(afterTwo.events.length, 3)
  const paged = await bob.client.chat.sync(start.cursor, 2)
  t.equal(paged.events.length, 2)
  t.equal(paged.hasMore, true)
  const aliceLog = await alice.client.chat.sync()
  t.same(
    aliceLog.events.map((e) => e.type),
    ['message.new', 'message.edited', 'reaction', 'read', 'message.deleted'],
  )
  const bad = await app.inject({ method: 'GET', url: '/chat/sync?since=nope', headers: bearer(bob.token) })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'INVALID_CURSOR')
})

t.test('presence lookup validates ids', async (t) => {
  const alice = await chat.user()
  const ok = await alice.client.chat.presence([alice.id])
  t.same(ok.items, [{ userId: alice.id, online: false, lastSeenAt: null }])
  const bad = await app.inject({ method: 'GET', url: '/chat/presence?userIds=nope', headers: bearer(alice.token) })
  t.equal(bad.statusCode, 400)
})

t.test('a send to a remembered pair whose conversation is gone answers 409 once; the retry resolves the pair afresh', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'first' })
  // Nothing in the product deletes a conversation; an operator might.
  await chat.db.deleteFrom('conversations').where('id', '=', first.conversationId).execute()
  const clientId = cid()
  const send = () =>
    app.inject({ method: 'POST', url: '/chat/messages', headers: bearer(alice.token), payload: { clientId, to: bob.id, text: 'again' } })
  const refused = await send()
  t.match(refused, { statusCode: 409 })
  t.equal(refused.json().code, 'CONFLICT')
  const retried = await send()
  t.equal(retried.statusCode, 201)
  t.not(retried.json().conversationId, first.conversationId, 'a new conversation')
  t.equal(retried.json().seq, 1)
})
