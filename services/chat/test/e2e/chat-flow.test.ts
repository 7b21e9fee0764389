import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { ApiError, Client } from '@sm/client'
import { type RunningProcess, startProcess, startStack, TEST_NATS_URL, TEST_REDIS_URL } from '@sm/testing'
import t from 'tap'
import { until } from '../helper.ts'

// The real system: auth, media, social and two chat instances as their own processes, each chat
// behind its own gateway. Alice talks through gateway 1 (chat 1), Bob through gateway 2 (chat 2).
const fast = { HEARTBEAT_INTERVAL_MS: '300', HEARTBEAT_TIMEOUT_MS: '1200', TYPING_TTL_MS: '500', BCRYPT_COST: '4' }
const stack = await startStack({ services: ['auth', 'media', 'social', 'chat'], env: fast })
const shared = { ...fast, DATABASE_URL: stack.db.url, NATS_URL: TEST_NATS_URL, REDIS_URL: TEST_REDIS_URL, NAMESPACE: stack.namespace }
const extra: RunningProcess[] = []
t.teardown(async () => {
  if (!t.passing()) {
    for (const process of [stack.gateway, stack.services.chat, ...extra]) {
      if (process) t.comment(`--- ${process.name} ---\n${process.output.join('').slice(-3000)}`)
    }
  }
  for (const process of extra.reverse()) await process.stop()
  await stack.stop()
})
const chat2 = await startProcess('chat', shared)
extra.push(chat2)
const gateway2 = await startProcess('gateway', {
  ...shared,
  AUTH_URL: stack.services.auth?.url as string,
  MEDIA_URL: stack.services.media?.url as string,
  SOCIAL_URL: stack.services.social?.url as string,
  CHAT_URL: chat2.url,
})
extra.push(gateway2)

t.test("chat starts with its package's nodeFlags (an 8 MB young generation; README › Throughput)", async (t) => {
  for (const process of [stack.services.chat, chat2]) {
    const argv = (await readFile(`/proc/${process?.process.pid}/cmdline`, 'utf8')).split('\0')
    t.ok(argv.includes('--max-semi-space-size=8'), argv.join(' '))
  }
})

// A 1×1 PNG: media sniffs the bytes.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')

async function register(name: string, baseUrl: string) {
  const client = new Client({ baseUrl })
  const session = await client.auth.register({ username: name, email: `${name}@chat-e2e.test`, password: 'long enough password' })
  return { client, id: session.user.id }
}

t.test('two users on two chat instances exchange every kind of message through the gateways', async (t) => {
  const alice = await register('alice_chat', stack.url)
  const bob = await register('bob_chat', gateway2.url)

  // Chat learns about users from auth's events: the first send is retried (same clientId) until it does.
  const firstId = `first-${randomUUID()}`
  let first: Awaited<ReturnType<typeof alice.client.chat.send>> | undefined
  await until(
    async () => {
      first = await alice.client.chat.send({ clientId: firstId, to: bob.id, text: 'hi bob' }).catch((error: unknown) => {
        if (error instanceof ApiError && error.code === 'USER_NOT_FOUND') return undefined
        throw error
      })
      return first !== undefined
    },
    10_000,
    'chat to learn about bob',
  )
  const conversationId = first?.conversationId as string

  const a = await alice.client.chat.connect()
  const b = await bob.client.chat.connect({ ticket: true })
  t.match(await b.next('message.new'), { message: { id: first?.id, text: 'hi bob' } }, 'the offline queue delivers the first message')
  t.match(await a.next('presence', (f) => f.userId === bob.id && f.online), { online: true }, 'presence crosses instances')
  t.match(await a.next('delivered', (f) => f.seq === 1), { userId: bob.id })

  // Text, reply and quote, both ways.
  const reply = await b.sendMessage({ clientId: randomUUID(), conversationId, text: 'hi alice', replyToId: first?.id })
  t.match(await a.next('message.new', (f) => f.message.id === reply.id), { message: { replyTo: { id: first?.id, text: 'hi bob' } } })
  const quote = await a.sendMessage({ clientId: randomUUID(), conversationId, text: 'as I said', quoteId: first?.id })
  t.match(await b.next('message.new', (f) => f.message.id === quote.id), { message: { quote: { id: first?.id } } })

  // An image: uploaded to media as chat media, claimed by chat, readable by Bob through its signed URL.
  const upload = await alice.client.media.upload('chat', PNG, { filename: 'dot.png' })
  const image = await a.sendMessage({ clientId: randomUUID(), conversationId, mediaId: upload.id, text: 'a dot' })
  t.equal(image.kind, 'image')
  const received = await b.next('message.new', (f) => f.message.id === image.id)
  const bytes = await fetch(new URL(received.message.media?.url as string, gateway2.url), {
    headers: { authorization: `Bearer ${bob.client.accessToken}` },
  })
  t.equal(bytes.status, 200, 'bob can fetch the image')
  t.same(Buffer.from(await bytes.arrayBuffer()), PNG)

  // A post shared through social arrives as a `post` message.
  const post = await alice.client.social.createPost({ text: 'look at this #chat' })
  await alice.client.social.sharePost(post.id, { toUserId: bob.id, comment: 'for you' })
  const shared = await b.next('message.new', (f) => f.message.kind === 'post', 10_000)
  t.match(shared.message, { senderId: alice.id, text: 'for you', post: { id: post.id, text: 'look at this #chat' } })

  // Typing, edit, reactions, read receipts.
  b.send({ type: 'typing', conversationId, state: 'start' })
  t.match(await a.next('typing'), { userId: bob.id, state: 'start' })
  t.match(await a.next('typing', (f) => f.state === 'stop'), { userId: bob.id }, 'typing expires server-side')
  a.send({ type: 'message.edit', messageId: quote.id, text: 'as I said before' })
  t.match(await b.next('message.edited'), { message: { id: quote.id, text: 'as I said before' } })
  b.send({ type: 'message.react', messageId: quote.id, emoji: '❤️' })
  t.match(await a.next('reaction'), { userId: bob.id, emoji: '❤️', action: 'add' })
  t.equal((await bob.client.chat.conversations()).items[0]?.unread, 4)
  b.send({ type: 'read', conversationId, seq: shared.message.seq })
  t.match(await a.next('read'), { userId: bob.id, seq: shared.message.seq })
  t.equal((await bob.client.chat.conversations()).items[0]?.unread, 0)
  const detail = await alice.client.chat.message(quote.id)
  t.ok(detail.receipts.readAt)
  t.same(
    detail.edits.map((e) => e.text),
    ['as I said'],
  )

  // Delete for everyone leaves a tombstone; clear chat is Bob's alone.
  a.send({ type: 'message.delete', messageId: image.id, scope: 'everyone' })
  t.match(await b.next('message.deleted'), { messageId: image.id, scope: 'everyone' })
  t.match(await bob.client.chat.message(image.id), { deleted: true, media: null, text: null })
  await bob.client.chat.clear(conversationId)
  t.same((await bob.client.chat.messages(conversationId)).items, [])
  t.equal((await alice.client.chat.messages(conversationId)).items.length, 5)
  t.equal((await bob.client.chat.conversations()).items[0]?.unread, 0, 'cleared messages are not unread')

  // An ack lost with a dropped connection: the retry with the same clientId is acked with the one message.
  const retryId = randomUUID()
  const doomed = await bob.client.chat.connect()
  doomed.send({ type: 'message.send', clientId: retryId, conversationId, text: 'did this arrive?' })
  doomed.ws.terminate()
  const again = await b.sendMessage({ clientId: retryId, conversationId, text: 'did this arrive?' })
  const copies = (await alice.client.chat.messages(conversationId, { limit: 100 })).items.filter((m) => m.clientId === retryId)
  t.same(
    copies.map((m) => m.id),
    [again.id],
    'exactly one message',
  )

  // Hostile input through the gateway: an error frame, the socket stays.
  b.sendRaw('{nope')
  t.match(await b.next('error'), { code: 'INVALID_JSON' })
  await b.ping()

  await b.close()
  t.match(await a.next('presence', (f) => f.userId === bob.id && !f.online), { online: false })
  await a.close()
})

t.test('unauthenticated upgrades through the gateway are refused before a socket opens', async (t) => {
  const anonymous = new Client({ baseUrl: stack.url })
  const refused = await anonymous.chat.connect().then(
    () => 101,
    (error: { status?: number }) => error.status,
  )
  t.equal(refused, 401)
  const forged = new Client({ baseUrl: stack.url, accessToken: 'x.y.z' })
  t.equal(
    await forged.chat.connect().then(
      () => 101,
      (error: { status?: number }) => error.status,
    ),
    401,
  )
  // A bogus ticket passes the gateway (only chat can check tickets); chat refuses it and no frame is ever served.
  const outcome = await anonymous.chat.connect({ ticket: 'bogus' }).then(
    async (socket) => (await socket.closed).code,
    (error: { status?: number }) => error.status,
  )
  t.ok(outcome === 401 || outcome === 1011, `refused (${outcome})`)
})
