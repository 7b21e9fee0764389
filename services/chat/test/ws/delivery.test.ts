import type { ChatMessage } from '@sm/contracts'
import { createRedis } from '@sm/platform'
import { startProcess, TEST_NATS_URL, TEST_REDIS_URL } from '@sm/testing'
import { sql } from 'kysely'
import t from 'tap'
import { deliveredCursorsStatement, moveDeliveredCursors } from '../../src/repositories/receipts.repository.ts'
import { encodeCursor } from '../../src/services/views.ts'
import { buildTestChat, cid, fastEnv, until } from '../helper.ts'

const chat = await buildTestChat(t, { FRAME_BURST: '400', FRAME_RATE_PER_S: '200' })
// The test's own view of chat's Redis keys (offline queues, live connections), on its namespace.
const redis = createRedis(TEST_REDIS_URL, chat.namespace)
t.teardown(() => redis.disconnect())

t.test('offline: 50 messages, an edit and a delete arrive in seq order from the queue, and the same from sync', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const a = await alice.client.chat.connect()
  const sent: ChatMessage[] = []
  const first = await a.sendMessage({ clientId: cid(), to: bob.id, text: 'm1' })
  sent.push(first)
  for (let i = 2; i <= 50; i++) sent.push(await a.sendMessage({ clientId: cid(), conversationId: first.conversationId, text: `m${i}` }))
  a.send({ type: 'message.edit', messageId: sent[9]?.id as string, text: 'm10 edited' })
  await a.next('message.edited')
  a.send({ type: 'message.delete', messageId: sent[19]?.id as string, scope: 'everyone' })
  await a.next('message.deleted')

  const b = await bob.client.chat.connect()
  const expected = [...Array.from({ length: 50 }, () => 'message.new'), 'message.edited', 'message.deleted']
  await until(() => b.frames.filter((f) => f.type.startsWith('message.')).length >= 52, 5_000, '52 frames')
  const frames = b.frames.filter((f) => f.type.startsWith('message.'))
  t.same(
    frames.map((f) => f.type),
    expected,
  )
  t.same(
    frames.slice(0, 50).map((f) => (f as { message: ChatMessage }).message.seq),
    Array.from({ length: 50 }, (_, i) => i + 1),
    'in seq order, none twice',
  )
  const sync = await bob.client.chat.sync()
  t.same(
    sync.events.map((e) => e.type),
    expected,
    'sync from Postgres returns the same events',
  )
  t.same(
    sync.events.map((e) => e.cursor),
    frames.map((f) => (f as { cursor?: string }).cursor),
    'with the same cursors',
  )
  const history = await bob.client.chat.messages(first.conversationId, { limit: 100 })
  t.equal(history.items.length, 50)
  t.match(history.items[9], { text: 'm10 edited' })
  t.match(history.items[19], { deleted: true, text: null })
  const delivered = await a.next('delivered', (f) => f.seq === 50)
  t.equal(delivered.userId, bob.id, 'the sender learns that everything was delivered')
  t.match((await alice.client.chat.conversations()).items[0], { peerDeliveredSeq: 50, peerReadSeq: 0 })
  t.equal((await bob.client.chat.conversations()).items[0]?.unread, 49, 'the deleted one is not unread')

  // A second connection resumes from a cursor: it gets only what came after it.
  const cursor = sync.events[49]?.cursor as string
  const resumed = await bob.client.chat.connect({ since: cursor })
  await until(() => resumed.frames.filter((f) => f.type.startsWith('message.')).length >= 2, 5_000, 'replay after cursor')
  t.same(
    resumed.frames.filter((f) => f.type.startsWith('message.')).map((f) => f.type),
    ['message.edited', 'message.deleted'],
  )
  await Promise.all([a.close(), b.close(), resumed.close()])
})

t.test('only users with no live socket are queued: a sender online here is not, an offline recipient is', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const a = await alice.client.chat.connect()
  await a.sendMessage({ clientId: cid(), to: bob.id, text: 'queued for bob' })
  t.equal(await redis.llen(`queue:${bob.id}`), 1, 'offline recipient')
  t.equal(await redis.exists(`queue:${alice.id}`), 0, "the sender's own copy went live only")
  await a.close()
})

t.test("a resume cursor past the log's end is clamped; a garbage one is refused and the socket starts from now", async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'before' })
  const ahead = await bob.client.chat.connect({ since: encodeCursor(10_000) })
  const garbage = await bob.client.chat.connect({ since: 'garbage' })
  t.match(await garbage.next('error'), { code: 'INVALID_CURSOR' })
  const next = await alice.client.chat.send({ clientId: cid(), conversationId: first.conversationId, text: 'after' })
  t.match(await ahead.next('message.new'), { message: { id: next.id } }, 'the cursor from the future does not swallow new messages')
  t.match(await garbage.next('message.new'), { message: { id: next.id } })
  t.notOk(
    garbage.frames.some((f) => f.type === 'message.new' && (f as { message: ChatMessage }).message.id === first.id),
    'history before connecting is not replayed',
  )
  await Promise.all([ahead.close(), garbage.close()])
})

t.test('a message that lands while a resuming socket catches up reaches it, whatever its cursor', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'before' })
  // A long stale offline queue slows the catch-up after presence is set: the window in which the
  // message below used to be counted as already seen (the socket's position was read too late).
  const stale = JSON.stringify({ seq: 1, frame: { type: 'presence', userId: alice.id, online: false } })
  const staleQueue = Array.from({ length: 50_000 }, () => stale)
  for (const since of [encodeCursor(10_000), 'garbage']) {
    await redis.rpush(`queue:${bob.id}`, ...staleQueue)
    const socket = await bob.client.chat.connect({ since })
    // Polled back to back, not every 20 ms: the send must land while the queue is read.
    const deadline = Date.now() + 5_000
    while ((await redis.exists(`conns:${bob.id}`)) === 0) if (Date.now() > deadline) throw new Error('bob never came online')
    const next = await alice.client.chat.send({ clientId: cid(), conversationId: first.conversationId, text: `while ${since}` })
    t.match(await socket.next('message.new'), { message: { id: next.id } }, `since ${since}`)
    await socket.close()
    await until(async () => (await redis.exists(`conns:${bob.id}`)) === 0, 5_000, 'bob offline')
  }
})

t.test('delivered receipts from many conversations at once: each sender hears its own, cursors and messages stamped', async (t) => {
  const bob = await chat.user()
  const senders = await Promise.all(Array.from({ length: 6 }, () => chat.user()))
  const sockets = await Promise.all(senders.map((s) => s.client.chat.connect()))
  const b = await bob.client.chat.connect()
  const sent = await Promise.all(sockets.map((socket, i) => socket.sendMessage({ clientId: cid(), to: bob.id, text: `hi ${i}` })))
  await Promise.all(
    sockets.map(async (socket, i) => {
      const receipt = await socket.next('delivered', (f) => f.conversationId === sent[i]?.conversationId)
      t.match(receipt, { userId: bob.id, seq: 1 })
    }),
  )
  const list = await senders[0]?.client.chat.conversations()
  t.match(list?.items[0], { peerDeliveredSeq: 1 })
  const detail = await senders[5]?.client.chat.message(sent[5]?.id as string)
  t.ok(detail?.receipts.deliveredAt, 'the message is stamped')
  t.notOk(
    sockets.some((socket) => socket.frames.filter((f) => f.type === 'delivered').length !== 1),
    'one receipt each, none crossed over',
  )
  await Promise.all([...sockets, b].map((s) => s.close()))
})

t.test('one statement moves a batch of delivered cursors: forward only, each stamping its own messages', async (t) => {
  const bob = await chat.user()
  const [ann, cat] = await Promise.all([chat.user(), chat.user()])
  const fromAnn = await ann.client.chat.send({ clientId: cid(), to: bob.id, text: 'a1' })
  await ann.client.chat.send({ clientId: cid(), conversationId: fromAnn.conversationId, text: 'a2' })
  const fromCat = await cat.client.chat.send({ clientId: cid(), to: bob.id, text: 'c1' })
  const bobToAnn = await bob.client.chat.send({ clientId: cid(), conversationId: fromAnn.conversationId, text: 'b3' })
  const moved = await moveDeliveredCursors(chat.db, [
    { userId: bob.id, conversationId: fromAnn.conversationId, seq: 2 },
    { userId: bob.id, conversationId: fromCat.conversationId, seq: 1 },
    // Ann's cursor: she has seen bob's seq 3.
    { userId: ann.id, conversationId: fromAnn.conversationId, seq: 3 },
  ])
  t.same(
    moved.map((m) => [m.userId, m.peerId, m.conversationId, m.seq]).sort(),
    [
      [bob.id, ann.id, fromAnn.conversationId, 2],
      [bob.id, cat.id, fromCat.conversationId, 1],
      [ann.id, bob.id, fromAnn.conversationId, 3],
    ].sort(),
  )
  const stamped = await chat.db
    .selectFrom('messages')
    .select(['text', 'deliveredAt'])
    .where('conversationId', 'in', [fromAnn.conversationId, fromCat.conversationId])
    .execute()
  t.ok(
    stamped.every((m) => m.deliveredAt !== null),
    'every message stamped by the receipt of its recipient',
  )
  t.same(
    await moveDeliveredCursors(chat.db, [{ userId: bob.id, conversationId: fromAnn.conversationId, seq: 1 }]),
    [],
    'a cursor never moves back',
  )
  t.equal(bobToAnn.seq, 3)
})

type PlanNode = {
  'Node Type': string
  'Relation Name'?: string
  'Actual Rows': number
  'Actual Loops': number
  'Rows Removed by Filter'?: number
  Plans?: PlanNode[]
}

/** Rows of `table` a plan read (returned or filtered out), over all its scans of it. */
function rowsRead(node: PlanNode, table: string): number {
  const own =
    node['Relation Name'] === table && node['Node Type'] !== 'ModifyTable'
      ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0)) * node['Actual Loops']
      : 0
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child, table), 0)
}

t.test('a delivered receipt reads the messages it moves over, not the conversation history', async (t) => {
  const [ann, bob] = await Promise.all([chat.user(), chat.user()])
  const first = await ann.client.chat.send({ clientId: cid(), to: bob.id, text: 'h1' })
  const conversationId = first.conversationId
  // A long history, written straight to the table: 3,000 messages from ann, all delivered.
  await sql`insert into messages (id, conversation_id, seq, sender_id, client_id, kind, text, delivered_at)
    select gen_random_uuid(), ${conversationId}::uuid, g, ${ann.id}::uuid, 'history-' || g, 'text', 'h' || g, now()
    from generate_series(2, 3000) g`.execute(chat.db)
  await sql`update conversations set last_seq = 3000 where id = ${conversationId}::uuid`.execute(chat.db)
  t.equal((await moveDeliveredCursors(chat.db, [{ userId: bob.id, conversationId, seq: 3000 }])).length, 1)
  await ann.client.chat.send({ clientId: cid(), conversationId, text: 'new 1' })
  await ann.client.chat.send({ clientId: cid(), conversationId, text: 'new 2' })

  const statement = deliveredCursorsStatement([{ userId: bob.id, conversationId, seq: 3002 }])
  const { rows } = await sql<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>`explain (analyze, format json) ${statement}`.execute(chat.db)
  const plan = rows[0]?.['QUERY PLAN'][0]?.Plan as PlanNode
  const read = rowsRead(plan, 'messages')
  t.ok(read >= 2 && read <= 4, `messages read: ${read} (the two new ones, not 3,000)`)
  const stamped = await chat.db
    .selectFrom('messages')
    .select(['text', 'deliveredAt'])
    .where('conversationId', '=', conversationId)
    .where('seq', '>', 3000)
    .orderBy('seq')
    .execute()
  t.same(
    stamped.map((m) => [m.text, m.deliveredAt !== null]),
    [
      ['new 1', true],
      ['new 2', true],
    ],
    'and stamps them',
  )
})

t.test('the Redis queue is optional: with it gone, sync still returns everything', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const m = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'lost queue' })
  await redis.del(`queue:${bob.id}`)
  const b = await bob.client.chat.connect()
  await b.ping()
  t.notOk(
    b.frames.some((f) => f.type === 'message.new'),
    'nothing queued',
  )
  const sync = await b.sync()
  t.match(sync.events, [{ type: 'message.new', message: { id: m.id } }])
  await b.close()
})

t.test('200 concurrent sends from both sides: gap-free seqs, one order for everyone', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'start' })
  const [a, b] = await Promise.all([alice.client.chat.connect(), bob.client.chat.connect()])
  const sends = []
  for (let i = 0; i < 100; i++) {
    sends.push(a.sendMessage({ clientId: cid('a'), conversationId: first.conversationId, text: `a${i}` }, 20_000))
    sends.push(b.sendMessage({ clientId: cid('b'), conversationId: first.conversationId, text: `b${i}` }, 20_000))
  }
  const acked = await Promise.all(sends)
  t.same(
    acked.map((m) => m.seq).sort((x, y) => x - y),
    Array.from({ length: 200 }, (_, i) => i + 2),
    'seqs 2..201, no gaps, no duplicates',
  )
  const pages = async (client: typeof alice.client) => {
    const seen: string[] = []
    let before: number | undefined
    for (;;) {
      const page = await client.chat.messages(first.conversationId, { limit: 100, ...(before ? { before } : {}) })
      seen.unshift(...page.items.map((m) => m.id))
      if (!page.nextCursor) return seen
      before = Number(page.nextCursor)
    }
  }
  const [aliceOrder, bobOrder] = await Promise.all([pages(alice.client), pages(bob.client)])
  t.equal(aliceOrder.length, 201)
  t.same(aliceOrder, bobOrder, 'both see the same order')
  // Each socket got the other side's 100 messages live, in seq order.
  const fromAlice = () =>
    b.frames.filter((f) => f.type === 'message.new' && f.message.seq > 1).map((f) => (f as { message: ChatMessage }).message.seq)
  await until(() => fromAlice().length >= 100, 10_000, 'b live frames')
  const live = fromAlice()
  t.same(
    live,
    [...live].sort((x, y) => x - y),
    'live frames arrive in seq order',
  )
  t.equal(new Set(live).size, 100)
  await Promise.all([a.close(), b.close()])
})

t.test('two instances: messages, typing, receipts and presence flow both ways', async (t) => {
  const second = await chat.another()
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'hi' })
  const a = await alice.clientAt(chat.url).chat.connect()
  const b = await bob.clientAt(second.url).chat.connect()
  t.match(await a.next('presence', (f) => f.userId === bob.id), { online: true })
  await b.next('message.new', (f) => f.message.id === first.id)

  const toBob = await a.sendMessage({ clientId: cid(), conversationId: first.conversationId, text: 'from instance 1' })
  t.match(await b.next('message.new', (f) => f.message.id === toBob.id), { message: { text: 'from instance 1' } })
  const toAlice = await b.sendMessage({ clientId: cid(), conversationId: first.conversationId, text: 'from instance 2' })
  await a.next('message.new', (f) => f.message.id === toAlice.id)

  b.send({ type: 'typing', conversationId: first.conversationId, state: 'start' })
  t.match(await a.next('typing'), { userId: bob.id, state: 'start' })
  a.send({ type: 'typing', conversationId: first.conversationId, state: 'start' })
  t.match(await b.next('typing'), { userId: alice.id, state: 'start' })

  b.send({ type: 'read', conversationId: first.conversationId, seq: toBob.seq })
  t.match(await a.next('read'), { userId: bob.id, seq: toBob.seq })
  a.send({ type: 'read', conversationId: first.conversationId, seq: toAlice.seq })
  t.match(await b.next('read', (f) => f.userId === alice.id), { seq: toAlice.seq })
  t.match(await a.next('delivered', (f) => f.seq >= toBob.seq), { userId: bob.id })

  await a.close()
  t.match(await b.next('presence', (f) => f.userId === alice.id && !f.online), { online: false })
  await b.close()
})

t.test('an instance killed without closing: its users go offline in bounded time and resume elsewhere without loss', async (t) => {
  const alice = await chat.user()
  const bob = await chat.user()
  const first = await alice.client.chat.send({ clientId: cid(), to: bob.id, text: 'before' })
  const doomed = await startProcess('chat', {
    ...fastEnv,
    LOG_LEVEL: 'warn',
    DATABASE_URL: chat.databaseUrl,
    NATS_URL: TEST_NATS_URL,
    REDIS_URL: TEST_REDIS_URL,
    NAMESPACE: chat.namespace,
    JWT_PUBLIC_KEY: chat.keys.publicPem,
  })
  t.teardown(() => doomed.stop())
  const a = await alice.client.chat.connect()
  const b = await bob.clientAt(doomed.url).chat.connect()
  const got = await b.next('message.new', (f) => f.message.id === first.id)
  t.ok(got.cursor)
  await a.next('presence', (f) => f.userId === bob.id && f.online)

  doomed.process.kill('SIGKILL')
  await b.closed
  const killedAt = Date.now()
  const offline = await a.next('presence', (f) => f.userId === bob.id && !f.online, 5_000)
  t.ok(offline.lastSeenAt, 'bob shows offline after his heartbeats lapse')
  t.ok(Date.now() - killedAt < 5_000, 'within the heartbeat bound')

  const missed = await a.sendMessage({ clientId: cid(), conversationId: first.conversationId, text: 'while you were away' })
  const back = await bob.client.chat.connect({ since: got.cursor as string })
  t.match(await back.next('message.new', (f) => f.message.id === missed.id), { message: { text: 'while you were away' } })
  t.notOk(
    back.frames.some((f) => f.type === 'message.new' && f.message.id === first.id),
    'nothing before the cursor is replayed',
  )
  await Promise.all([a.close(), back.close()])
})
