import { once } from 'node:events'
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import {
  closed,
  connectSocket,
  deadUrl,
  expiredToken,
  newKeyPair,
  nextMessage,
  type SocketUpstream,
  signToken,
  startGateway,
  startSocketUpstream,
  unsignedToken,
} from './helper.ts'

const keys = newKeyPair()
const chat = await startSocketUpstream(t)
const { url } = await startGateway(t, { upstreams: { chat: chat.url }, keys, listen: true })
const socketUrl = `${url.replace('http', 'ws')}/chat/ws`
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Opens an authenticated socket through the gateway; returns both ends. */
async function openPair(t: Test, upstream: SocketUpstream = chat, target = socketUrl, options: { autoPong?: boolean } = {}) {
  const accepted = upstream.nextSocket()
  const result = await connectSocket(target, bearer(signToken(keys)), options)
  if (result.kind !== 'open') throw new Error(`upgrade refused: ${result.status} ${result.body}`)
  const client = result.socket
  const server = await accepted
  t.teardown(() => {
    client.terminate()
    server.terminate()
  })
  return { client, server }
}

t.test('without a token the upgrade is refused with HTTP 401 and no socket opens', async (t) => {
  const before = chat.handshakes.length
  const result = await connectSocket(socketUrl)
  t.equal(result.kind, 'refused')
  if (result.kind !== 'refused') return
  t.equal(result.status, 401)
  t.match(result.headers['content-type'], /application\/json/)
  t.same(JSON.parse(result.body), { statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'missing bearer token' })
  t.equal(chat.handshakes.length, before, 'chat was never dialled')
})

t.test('a bad token is refused with 401 before the upgrade', async (t) => {
  const otherKeys = newKeyPair(keys.kid)
  const cases: Array<[string, string, string]> = [
    ['signed by another key (same kid)', signToken(otherKeys), 'INVALID_TOKEN'],
    ['signed by an unknown kid', signToken(newKeyPair()), 'INVALID_TOKEN'],
    ['alg none', unsignedToken(), 'INVALID_TOKEN'],
    ['expired', expiredToken(keys), 'TOKEN_EXPIRED'],
    ['a refresh-typed token', signToken(keys, { typ: 'refresh' }), 'INVALID_TOKEN'],
    ['garbage', 'not-a-jwt', 'INVALID_TOKEN'],
  ]
  const before = chat.handshakes.length
  for (const [name, token, code] of cases) {
    const result = await connectSocket(socketUrl, bearer(token))
    t.equal(result.kind, 'refused', name)
    if (result.kind !== 'refused') continue
    t.equal(result.status, 401, name)
    t.match(JSON.parse(result.body), { statusCode: 401, code, error: 'Unauthorized' }, name)
  }
  t.equal(chat.handshakes.length, before, 'chat was never dialled')
})

t.test('with a valid token messages flow both ways', async (t) => {
  const { client, server } = await openPair(t)
  const echoed = nextMessage(client)
  client.send(JSON.stringify({ type: 'ping' }))
  t.equal(await echoed, 'echo:{"type":"ping"}', 'client → chat → client')

  const pushed = nextMessage(client)
  server.send(JSON.stringify({ type: 'presence', userId: 'u1', online: true }))
  t.same(JSON.parse(await pushed), { type: 'presence', userId: 'u1', online: true }, 'chat → client')

  const binary = new Promise<Buffer>((resolve) => server.once('message', (data) => resolve(data as Buffer)))
  client.send(Buffer.from([1, 2, 3]))
  t.same([...(await binary)], [1, 2, 3], 'binary frames stay binary')
})

t.test('chat sees the bearer token, the request id and the client address', async (t) => {
  const token = signToken(keys)
  const accepted = chat.nextSocket()
  const result = await connectSocket(`${socketUrl}?since=42`, {
    ...bearer(token),
    'x-request-id': 'ws-req-1',
    origin: 'https://app.example',
  })
  t.equal(result.kind, 'open')
  if (result.kind === 'open') t.teardown(() => result.socket.terminate())
  await accepted
  const handshake = chat.handshakes.at(-1)
  t.equal(handshake?.headers.authorization, `Bearer ${token}`)
  t.equal(handshake?.headers['x-request-id'], 'ws-req-1')
  t.equal(handshake?.headers['x-forwarded-for'], '127.0.0.1')
  t.equal(handshake?.headers.origin, 'https://app.example')
  t.equal(handshake?.url, '/chat/ws?since=42', 'path and query unchanged')
})

t.test('a ?ticket= is let through for chat to verify', async (t) => {
  const accepted = chat.nextSocket()
  const result = await connectSocket(`${socketUrl}?ticket=opaque-ticket-123`)
  t.equal(result.kind, 'open')
  if (result.kind === 'open') t.teardown(() => result.socket.terminate())
  await accepted
  const handshake = chat.handshakes.at(-1)
  t.equal(handshake?.url, '/chat/ws?ticket=opaque-ticket-123')
  t.notOk(handshake?.headers.authorization)
})

t.test('an empty ticket is no ticket', async (t) => {
  const result = await connectSocket(`${socketUrl}?ticket=`)
  t.equal(result.kind === 'refused' && result.status, 401)
})

t.test('a bad bearer header is refused even next to a ticket', async (t) => {
  const result = await connectSocket(`${socketUrl}?ticket=abc`, bearer(unsignedToken()))
  t.equal(result.kind === 'refused' && result.status, 401)
})

// Close codes and reasons cross the relay unchanged, whichever side closes.
const relayedCloses = [
  { name: "chat's application close reaches the client", from: 'server', code: 4001, reason: 'bye' },
  { name: "the client's application close reaches chat", from: 'client', code: 4000, reason: 'done' },
  { name: "chat's policy close (1008) reaches the client", from: 'server', code: 1008, reason: 'flooding' },
] as const
for (const { name, from, code, reason } of relayedCloses) {
  t.test(`${name} unchanged`, async (t) => {
    const { client, server } = await openPair(t)
    const [closer, receiver] = from === 'server' ? [server, client] : [client, server]
    const receiverClosed = closed(receiver)
    closer.close(code, reason)
    t.same(await receiverClosed, { code, reason })
  })
}

t.test('a close without a code stays without a code (1005), both ways', async (t) => {
  const first = await openPair(t)
  const clientClosed = closed(first.client)
  first.server.close()
  t.equal((await clientClosed).code, 1005, 'chat → client')

  const second = await openPair(t)
  const serverClosed = closed(second.server)
  second.client.close()
  t.equal((await serverClosed).code, 1005, 'client → chat')
})

t.test('a vanished chat connection looks vanished to the client (1006)', async (t) => {
  const { client, server } = await openPair(t)
  const clientClosed = closed(client)
  server.terminate()
  t.equal((await clientClosed).code, 1006)
})

t.test('a frame over WS_MAX_PAYLOAD closes the client with 1009 and is never relayed', async (t) => {
  const { client } = await openPair(t)
  const framesBefore = chat.frames.length
  const clientClosed = closed(client)
  client.send('x'.repeat(1024 * 1024 + 1))
  t.equal((await clientClosed).code, 1009)
  t.equal(chat.frames.length, framesBefore)
})

t.test("chat's pings reach the client and the client's pong reaches chat", async (t) => {
  const { client, server } = await openPair(t)
  const clientPinged = once(client, 'ping')
  const serverPonged = once(server, 'pong')
  server.ping(Buffer.from('hb-1'))
  const [pingData] = (await clientPinged) as [Buffer]
  t.equal(pingData.toString(), 'hb-1')
  const [pongData] = (await serverPonged) as [Buffer]
  t.equal(pongData.toString(), 'hb-1', 'the pong is the client’s answer')
})

t.test('a client that stops answering pings is not kept alive by the gateway', async (t) => {
  const { client, server } = await openPair(t, chat, socketUrl, { autoPong: false })
  let ponged = false
  server.on('pong', () => {
    ponged = true
  })
  const clientPinged = once(client, 'ping')
  server.ping()
  await clientPinged
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(ponged, false, 'chat sees no pong, so it can close the dead socket')
})

t.test('an upgrade anywhere but /chat/ws is a 404, not a hanging socket', async (t) => {
  for (const path of ['/posts', '/chat/conversations', '/health']) {
    const result = await connectSocket(`${url.replace('http', 'ws')}${path}`, bearer(signToken(keys)))
    t.equal(result.kind === 'refused' && result.status, 404, path)
  }
})

t.test('when chat is down the socket opens and closes with 1011, leaking no address', async (t) => {
  const down = await startGateway(t, { upstreams: { chat: await deadUrl() }, keys, listen: true })
  const result = await connectSocket(`${down.url.replace('http', 'ws')}/chat/ws`, bearer(signToken(keys)))
  t.equal(result.kind, 'open')
  if (result.kind !== 'open') return
  t.same(await closed(result.socket), { code: 1011, reason: 'upstream unavailable' })
})

t.test('a client that leaves while chat is still answering: its frames, then its close code, reach chat', async (t) => {
  const slow = await startSocketUpstream(t, { handshakeDelayMs: 150 })
  const gateway = await startGateway(t, { upstreams: { chat: slow.url }, keys, listen: true })
  const accepted = slow.nextSocket()
  const result = await connectSocket(`${gateway.url.replace('http', 'ws')}/chat/ws`, bearer(signToken(keys)))
  if (result.kind !== 'open') throw new Error('upgrade refused')
  result.socket.send('last words')
  result.socket.close(4002, 'never mind')
  const server = await accepted
  const { code, reason } = await closed(server)
  t.same({ code, reason }, { code: 4002, reason: 'never mind' })
  t.same(slow.frames, ['last words'])
})

t.test('a gateway shutting down says 1001 to both sides', async (t) => {
  const upstream = await startSocketUpstream(t)
  const closing = await startGateway(t, { upstreams: { chat: upstream.url }, keys, listen: true })
  const { client, server } = await openPair(t, upstream, `${closing.url.replace('http', 'ws')}/chat/ws`)
  const clientClosed = closed(client)
  const serverClosed = closed(server)
  await closing.app.close()
  t.same(await clientClosed, { code: 1001, reason: 'gateway shutting down' })
  t.same(await serverClosed, { code: 1001, reason: 'gateway shutting down' })
  t.equal(client.readyState, WebSocket.CLOSED)
})
