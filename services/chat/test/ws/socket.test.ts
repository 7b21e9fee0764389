import { CHAT_FRAME_MAX_BYTES } from '@sm/contracts'
import { newKeyPair, signAccessToken, TEST_AUDIENCE, TEST_ISSUER, TEST_REDIS_URL } from '@sm/testing'
import t from 'tap'
import { WebSocket } from 'ws'
import { buildTestChat, cid, until } from '../helper.ts'

const chat = await buildTestChat(t, { FRAME_BURST: '30', FRAME_RATE_PER_S: '5', FLOOD_STRIKES: '10' })

const upgradeStatus = (promise: Promise<unknown>) =>
  promise.then(
    () => 101,
    (error: { status?: number }) => error.status ?? -1,
  )

t.test('the upgrade needs a valid token or a single-use ticket: 401 before any socket opens', async (t) => {
  const alice = await chat.user()
  const anonymous = new (alice.client.constructor as typeof import('@sm/client').Client)({ baseUrl: chat.url })
  t.equal(await upgradeStatus(anonymous.chat.connect()), 401, 'no credential')
  const forged = new (alice.client.constructor as typeof import('@sm/client').Client)({ baseUrl: chat.url, accessToken: 'a.b.c' })
  t.equal(await upgradeStatus(forged.chat.connect()), 401, 'garbage token')
  const expired = signAccessToken(chat.keys, { id: alice.id, username: alice.username }, -60_000)
  t.equal(await upgradeStatus(alice.clientAt(chat.url).chat.connect({ ticket: 'nope' })), 401, 'unknown ticket')
  const stale = new (alice.client.constructor as typeof import('@sm/client').Client)({ baseUrl: chat.url, accessToken: expired })
  t.equal(await upgradeStatus(stale.chat.connect()), 401, 'expired token')

  const { ticket } = await alice.client.chat.ticket()
  const socket = await anonymous.chat.connect({ ticket })
  await socket.ping()
  t.equal(await upgradeStatus(anonymous.chat.connect({ ticket })), 401, 'a ticket works once')
  await socket.close()
  const viaToken = await alice.client.chat.connect()
  await viaToken.ping()
  await viaToken.close()
})

// The gateway relays the upgrade without looking at the credential: chat's check is the only one.
t.test('the upgrade refuses every token that is not a valid access token', async (t) => {
  const alice = await chat.user()
  const withToken = (accessToken: string) =>
    new (alice.client.constructor as typeof import('@sm/client').Client)({ baseUrl: chat.url, accessToken })
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const claims = {
    sub: alice.id,
    username: alice.username,
    typ: 'access',
    jti: 'j',
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: now,
    exp: now + 600,
  }
  const user = { id: alice.id, username: alice.username }
  const cases: Array<[string, string]> = [
    ['alg none', `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`],
    ["signed by another key under chat's kid", signAccessToken(newKeyPair(chat.keys.kid), user)],
    ['a refresh-typed token', signAccessToken(chat.keys, user, 600_000, { typ: 'refresh' })],
  ]
  for (const [name, token] of cases) t.equal(await upgradeStatus(withToken(token).chat.connect()), 401, name)

  // A bad header next to a good ticket: the header wins, and the ticket is not spent on it.
  const { ticket } = await alice.client.chat.ticket()
  // (The SDK sends a ticket without the header, so this handshake is written by hand.)
  const ws = new WebSocket(`${chat.url.replace('http', 'ws')}/chat/ws?ticket=${ticket}`, { headers: { authorization: 'Bearer a.b.c' } })
  ws.on('error', () => undefined) // terminating a refused handshake reports one
  const refused = await new Promise<number>((resolve) => {
    ws.once('open', () => resolve(101))
    ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
  })
  ws.terminate()
  t.equal(refused, 401, 'bad header, good ticket')
  const socket = await withToken('').chat.connect({ ticket })
  await socket.ping()
  await socket.close()
})

t.test('a message reaches every device: ack to the sending socket, message.new to the others', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const [a1, a2, b1, b2] = await Promise.all([
    alice.client.chat.connect(),
    alice.client.chat.connect(),
    bob.client.chat.connect(),
    bob.client.chat.connect(),
  ])
  const clientId = cid()
  const message = await a1.sendMessage({ clientId, to: bob.id, text: 'hello from a1' })
  t.match(message, { seq: 1, text: 'hello from a1', senderId: alice.id })
  for (const [name, socket] of [
    ['a2', a2],
    ['b1', b1],
    ['b2', b2],
  ] as const) {
    const frame = await socket.next('message.new', (f) => f.message.id === message.id)
    t.ok(frame.cursor, `${name} got it with a cursor`)
  }
  const delivered = await a1.next('delivered', (f) => f.conversationId === message.conversationId)
  t.match(delivered, { userId: bob.id, seq: 1 })

  const again = await a1.sendMessage({ clientId, to: bob.id, text: 'hello from a1' })
  t.equal(again.id, message.id, 'a retried clientId is acked with the original')
  await a1.ping()
  t.notOk(
    a1.frames.some((f) => f.type === 'message.new'),
    'the sending socket gets the ack, not message.new',
  )

  // Receipts, edits, reactions and deletes reach both sides.
  b1.send({ type: 'read', conversationId: message.conversationId, seq: 1 })
  t.match(await a1.next('read'), { userId: bob.id, seq: 1, conversationId: message.conversationId })
  a1.send({ type: 'message.edit', messageId: message.id, text: 'hello, edited' })
  t.match(await b2.next('message.edited'), { message: { id: message.id, text: 'hello, edited' } })
  b1.send({ type: 'message.react', messageId: message.id, emoji: '🎉' })
  t.match(await a2.next('reaction'), { userId: bob.id, emoji: '🎉', action: 'add' })
  b1.send({ type: 'message.unreact', messageId: message.id, emoji: '🎉' })
  t.match(await a2.next('reaction', (f) => f.action === 'remove'), { emoji: '🎉' })
  b1.send({ type: 'message.delete', messageId: message.id, scope: 'me' })
  t.match(await b2.next('message.deleted'), { scope: 'me', messageId: message.id })
  a1.send({ type: 'message.delete', messageId: message.id, scope: 'everyone' })
  t.match(await b1.next('message.deleted', (f) => f.scope === 'everyone'), { messageId: message.id })

  // Errors answer the frame they belong to.
  b1.send({ type: 'message.edit', messageId: message.id, text: 'not mine' })
  t.match(await b1.next('error', (f) => f.ref === message.id), { code: 'MESSAGE_NOT_FOUND' }, 'bob deleted it for himself')
  a1.send({ type: 'message.edit', messageId: message.id, text: 'too late' })
  t.match(await a1.next('error', (f) => f.ref === message.id), { code: 'MESSAGE_DELETED' })
  const sync = await b1.sync()
  t.same(
    sync.events.map((e) => e.type),
    ['message.new', 'read', 'message.edited', 'reaction', 'reaction', 'message.deleted', 'message.deleted'],
  )
  await Promise.all([a1, a2, b1, b2].map((s) => s.close()))
})

t.test('typing is relayed to the peer and ends by itself; presence follows sockets', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'hi' })
  const a = await alice.client.chat.connect()
  const b = await bob.client.chat.connect()
  t.match(await a.next('presence', (f) => f.userId === bob.id), { online: true })
  const presence = await alice.client.chat.presence([bob.id])
  t.equal(presence.items[0]?.online, true)
  const list = await alice.client.chat.conversations()
  t.equal(list.items[0]?.peerOnline, true)

  b.send({ type: 'typing', conversationId: first.conversationId, state: 'start' })
  t.match(await a.next('typing'), { userId: bob.id, state: 'start', conversationId: first.conversationId })
  t.match(await a.next('typing', (f) => f.state === 'stop', 3_000), { userId: bob.id }, 'expired without a refresh')
  b.send({ type: 'typing', conversationId: first.conversationId, state: 'start' })
  await a.next('typing', (f) => f.state === 'start')
  b.send({ type: 'typing', conversationId: first.conversationId, state: 'stop' })
  await a.next('typing', (f) => f.state === 'stop')
  // Typing in someone else's conversation: as if it did not exist.
  const eve = await chat.user()
  const e = await eve.client.chat.connect()
  e.send({ type: 'typing', conversationId: first.conversationId, state: 'start' })
  t.match(await e.next('error'), { code: 'CONVERSATION_NOT_FOUND', ref: first.conversationId })
  e.send({ type: 'read', conversationId: first.conversationId, seq: 1 })
  t.match(await e.next('error'), { code: 'CONVERSATION_NOT_FOUND', ref: first.conversationId })
  e.send({ type: 'message.send', clientId: 'sneak', conversationId: first.conversationId, text: 'hi' })
  t.match(await e.next('error'), { code: 'CONVERSATION_NOT_FOUND', ref: 'sneak' })
  e.send({ type: 'message.delete', messageId: first.id, scope: 'everyone' })
  t.match(await e.next('error'), { code: 'MESSAGE_NOT_FOUND', ref: first.id })
  // A burst of typing frames is rate limited.
  for (let i = 0; i < 6; i++) b.send({ type: 'typing', conversationId: first.conversationId, state: 'start' })
  const limited = await b.next('error')
  t.match(limited, { code: 'RATE_LIMITED' })

  await b.close()
  const offline = await a.next('presence', (f) => f.userId === bob.id && !f.online)
  t.ok(offline.lastSeenAt)
  const after = await alice.client.chat.presence([bob.id])
  t.match(after.items[0], { online: false, lastSeenAt: offline.lastSeenAt })
  await a.close()
  await e.close()
})

t.test('hostile frames get error frames and the socket stays; a flood closes it with 1008', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const socket = await alice.client.chat.connect()
  const cases: Array<[string | Buffer, string, boolean?]> = [
    ['{not json', 'INVALID_JSON'],
    ['[1,2]', 'VALIDATION'],
    ['"text"', 'VALIDATION'],
    [JSON.stringify({ kind: 'x' }), 'VALIDATION'],
    [JSON.stringify({ type: 'explode' }), 'UNKNOWN_TYPE'],
    [JSON.stringify({ type: '__proto__' }), 'UNKNOWN_TYPE'],
    [JSON.stringify({ type: 'message.send', clientId: 5, to: bob.id, text: 'x' }), 'VALIDATION'],
    [JSON.stringify({ type: 'message.send', clientId: 'x', to: bob.id, text: 'y'.repeat(4001) }), 'VALIDATION'],
    [JSON.stringify({ type: 'read', conversationId: 'nope', seq: -1 }), 'VALIDATION'],
    [JSON.stringify({ type: 'message.react', messageId: bob.id, emoji: 'not an emoji' }), 'INVALID_EMOJI'],
    [JSON.stringify({ type: 'message.edit', messageId: bob.id, text: 'x' }), 'MESSAGE_NOT_FOUND'],
    [JSON.stringify({ type: 'sync', since: 'garbage' }), 'INVALID_CURSOR'],
    [JSON.stringify({ type: 'ping', text: 'x'.repeat(70 * 1024) }), 'FRAME_TOO_LARGE'],
    [Buffer.from([1, 2, 3]), 'INVALID_FRAME', true],
  ]
  for (const [raw, code, binary] of cases) {
    socket.sendRaw(raw, binary)
    const error = await socket.next('error')
    t.equal(error.code, code, `${String(raw).slice(0, 50)} → ${code}`)
  }
  await socket.ping()
  t.equal(socket.ws.readyState, socket.ws.OPEN, 'still open after all that')
  const sent = await socket.sendMessage({ clientId: cid(), to: bob.id, text: 'still works' })
  t.equal(sent.seq, 1)
  t.equal((await bob.client.chat.sync()).events.length, 1, 'no hostile frame changed anything')

  // Way past the burst: RATE_LIMITED error frames, then 1008.
  for (let i = 0; i < 100; i++) socket.send({ type: 'ping' })
  const closed = await socket.closed
  t.equal(closed.code, 1008)
  t.ok(socket.frames.some((f) => f.type === 'error' && f.code === 'RATE_LIMITED'))
})

t.test('a frame far past the limit ends that socket (1009 from ws, then our error listener); the others carry on', async (t) => {
  const alice = await chat.user()
  const socket = await alice.client.chat.connect()
  const other = await alice.client.chat.connect()
  socket.sendRaw(JSON.stringify({ type: 'ping', text: 'x'.repeat(CHAT_FRAME_MAX_BYTES * 5) }))
  const closed = await socket.closed
  // The close frame usually gets out before the socket is cut; a cut socket reads as 1006.
  t.ok([1009, 1006].includes(closed.code), `closed with ${closed.code}`)
  await other.ping()
  t.pass('another socket of the same user still works')
  await other.close()
})

t.test('a client that stops answering pings is closed (zombie)', async (t) => {
  const alice = await chat.user()
  const zombie = await alice.client.chat.connect({ autoPong: false })
  const closed = await zombie.closed
  t.ok(closed.code === 1006 || closed.code >= 1000, `closed (${closed.code})`)
  await until(async () => !(await alice.client.chat.presence([alice.id])).items[0]?.online, 5_000, 'zombie offline')
})

t.test('a process stall does not take live sockets for zombies: pongs that came in meanwhile count', async (t) => {
  const alice = await chat.user()
  const socket = await alice.client.chat.connect()
  // The client answers the ping (autoPong writes before 'ping' is emitted), then this process
  // blocks past the next beat: the pong waits, unread, behind the overdue heartbeat timer.
  await new Promise<void>((resolve) => {
    socket.ws.once('ping', () => {
      const deadline = Date.now() + 700
      while (Date.now() < deadline) {}
      resolve()
    })
  })
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(socket.ws.readyState, socket.ws.OPEN, 'still open two beats after the stall')
  await socket.ping()
  await socket.close()
})

t.test('shutting an instance down closes its sockets with 1001', async (t) => {
  const alice = await chat.user()
  const other = await chat.another()
  const socket = await alice.clientAt(other.url).chat.connect()
  await socket.ping()
  await other.app.close()
  const closed = await socket.closed
  t.equal(closed.code, 1001)
  await until(async () => !(await alice.client.chat.presence([alice.id])).items[0]?.online, 5_000, 'offline after shutdown')
})

t.test('a connection swept while its instance stalled registers again on the next beat', async (t) => {
  const alice = await chat.user()
  const socket = await alice.client.chat.connect()
  await until(async () => (await alice.client.chat.presence([alice.id])).items[0]?.online === true, 5_000, 'online')
  // What another instance's sweeper does to connections whose beats lapsed.
  const { createRedis } = await import('@sm/platform')
  const redis = createRedis(TEST_REDIS_URL, chat.namespace)
  t.teardown(() => redis.disconnect())
  await redis.del(`conns:${alice.id}`)
  t.equal((await alice.client.chat.presence([alice.id])).items[0]?.online, false, 'swept')
  await until(async () => (await alice.client.chat.presence([alice.id])).items[0]?.online === true, 5_000, 'back online')
  await socket.close()
  await until(async () => (await alice.client.chat.presence([alice.id])).items[0]?.online === false, 5_000, 'offline after close')
})

t.test('pings are spread over the interval, not sent to every socket at once', async (t) => {
  const user = await chat.user()
  const sockets = await Promise.all(Array.from({ length: 60 }, () => user.client.chat.connect()))
  // The first ping each socket hears once all are open (the beat interval here is 200 ms).
  const firstPings = await Promise.all(
    sockets.map((s) => new Promise<number>((resolve) => s.ws.once('ping', () => resolve(performance.now())))),
  )
  const spread = Math.max(...firstPings) - Math.min(...firstPings)
  t.ok(spread >= 100, `first pings spread over ${spread.toFixed(0)} ms of the 200 ms interval`)
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.ok(
    sockets.every((s) => s.ws.readyState === s.ws.OPEN),
    'every socket still answered in time',
  )
  await Promise.all(sockets.map((s) => s.close()))
})

t.test('beats go out in slices: 450 sockets stay open, and every slice re-registers what was swept', async (t) => {
  const users = await Promise.all([chat.user(), chat.user(), chat.user()])
  const sockets = (await Promise.all(users.map((u) => Promise.all(Array.from({ length: 150 }, () => u.client.chat.connect()))))).flat()
  const { createRedis } = await import('@sm/platform')
  const redis = createRedis(TEST_REDIS_URL, chat.namespace)
  t.teardown(() => redis.disconnect())
  const online = async () => (await users[0]?.client.chat.presence(users.map((u) => u.id)))?.items.every((i) => i.online)
  await until(online, 5_000, 'online')
  // Asserted on the delete itself: the beat ticks every ~13 ms here (200 ms over 15 slots), so a
  // presence read after it can already see some slots registered again.
  const removed = await Promise.all(users.map((u) => redis.del(`conns:${u.id}`)))
  t.same(removed, [1, 1, 1], 'swept: every user lost their registered connections')
  await until(online, 5_000, 'all back online')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.ok(
    sockets.every((s) => s.ws.readyState === s.ws.OPEN),
    'no socket was taken for a zombie',
  )
  t.equal(await redis.zcard(`conns:${users[2]?.id}`), 150, 'each connection registered again')
  await Promise.all(sockets.map((s) => s.close()))
})
