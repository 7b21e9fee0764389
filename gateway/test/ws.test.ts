import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import {
  badToken,
  CHAT_MAX_PAYLOAD,
  closed,
  connectSocket,
  deadUrl,
  goodToken,
  INVALID_TICKET_BODY,
  INVALID_TOKEN_BODY,
  MISSING_TOKEN_BODY,
  maskedTextFrame,
  nextMessage,
  rawExchange,
  type SocketUpstream,
  startGateway,
  startHangingUpstream,
  startSocketUpstream,
  upgradeRequest,
} from './helper.ts'

const chat = await startSocketUpstream(t)
const { url } = await startGateway(t, { upstreams: { chat: chat.url }, listen: true })
const socketUrl = `${url.replace('http', 'ws')}/chat/ws`
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Opens an authenticated socket through the gateway; returns both ends. */
async function openPair(t: Test, upstream: SocketUpstream = chat, target = socketUrl, options: { autoPong?: boolean } = {}) {
  const accepted = upstream.nextSocket()
  const result = await connectSocket(target, bearer(goodToken()), options)
  if (result.kind !== 'open') throw new Error(`upgrade refused: ${result.status} ${result.body}`)
  const client = result.socket
  const server = await accepted
  t.teardown(() => {
    client.terminate()
    server.terminate()
  })
  return { client, server }
}

// The gateway verifies no credential: chat does (as every service verifies tokens itself), and its
// refusal reaches the client as the HTTP answer it is, before any socket opens.
const refusals = [
  { name: 'no credential', path: '/chat/ws', headers: {}, body: MISSING_TOKEN_BODY },
  { name: 'a token chat refuses', path: '/chat/ws', headers: bearer(badToken()), body: INVALID_TOKEN_BODY },
  { name: 'an empty ticket (no ticket)', path: '/chat/ws?ticket=', headers: {}, body: MISSING_TOKEN_BODY },
  {
    name: 'a bad bearer header next to a ticket (the header wins)',
    path: '/chat/ws?ticket=abc',
    headers: bearer(badToken()),
    body: INVALID_TOKEN_BODY,
  },
]
for (const { name, path, headers, body } of refusals) {
  t.test(`${name}: chat's 401 reaches the client and no socket opens`, async (t) => {
    const refusedBefore = chat.refused.length
    const handshakesBefore = chat.handshakes.length
    const result = await connectSocket(`${url.replace('http', 'ws')}${path}`, headers)
    t.equal(result.kind, 'refused')
    if (result.kind !== 'refused') return
    t.equal(result.status, 401)
    t.match(result.headers['content-type'], /application\/json/)
    t.same(JSON.parse(result.body), body, "chat's body, unchanged")
    t.equal(result.headers.connection, 'close')
    t.equal(chat.refused.length, refusedBefore + 1, 'chat was asked')
    t.equal(chat.handshakes.length, handshakesBefore, 'and opened nothing')
  })
}

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
  const token = goodToken()
  const accepted = chat.nextSocket()
  const result = await connectSocket(`${socketUrl}?since=42`, {
    ...bearer(token),
    'x-request-id': 'ws-req-1',
    'x-forwarded-for': '6.6.6.6',
    origin: 'https://app.example',
  })
  t.equal(result.kind, 'open')
  if (result.kind !== 'open') return
  t.teardown(() => result.socket.terminate())
  await accepted
  const handshake = chat.handshakes.at(-1)
  t.equal(handshake?.headers.authorization, `Bearer ${token}`)
  t.equal(handshake?.headers['x-request-id'], 'ws-req-1')
  t.equal(handshake?.headers['x-forwarded-for'], '127.0.0.1', 'the address the gateway saw, not the one the client wrote')
  t.equal(handshake?.headers['x-forwarded-proto'], 'http')
  t.match(handshake?.headers['x-forwarded-host'], /^127\.0\.0\.1:\d+$/)
  t.equal(handshake?.headers.origin, 'https://app.example')
  t.equal(handshake?.url, '/chat/ws?since=42', 'path and query unchanged')
  t.equal(result.headers['x-request-id'], 'ws-req-1', "the same id comes back with chat's 101")
})

t.test('subprotocols are negotiated by chat and the client, end to end', async (t) => {
  const accepted = chat.nextSocket()
  const result = await connectSocket(socketUrl, bearer(goodToken()), { protocols: ['chat.v2', 'chat.v1'] })
  if (result.kind !== 'open') throw new Error('upgrade refused')
  t.teardown(() => result.socket.terminate())
  await accepted
  t.match(chat.handshakes.at(-1)?.headers['sec-websocket-protocol'], /^chat\.v2, ?chat\.v1$/)
  t.equal(result.socket.protocol, 'chat.v2', "chat's choice reaches the client")
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

t.test("a used ticket gets chat's HTTP 401, relayed before any socket opens", async (t) => {
  const refusedBefore = chat.refused.length
  const handshakesBefore = chat.handshakes.length
  const result = await connectSocket(`${socketUrl}?ticket=used-123`, { 'x-request-id': 'ws-used-ticket' })
  t.equal(result.kind, 'refused')
  if (result.kind !== 'refused') return
  t.equal(result.status, 401)
  t.match(result.headers['content-type'], /application\/json/)
  t.same(JSON.parse(result.body), INVALID_TICKET_BODY, "chat's body, unchanged")
  t.equal(result.headers['x-request-id'], 'ws-used-ticket')
  t.equal(result.headers.connection, 'close')
  t.equal(chat.refused.length, refusedBefore + 1, 'chat was asked')
  t.equal(chat.refused.at(-1)?.url, '/chat/ws?ticket=used-123')
  t.equal(chat.handshakes.length, handshakesBefore, 'and opened nothing')
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

t.test('a vanished client looks vanished to chat (1006)', async (t) => {
  const { client, server } = await openPair(t)
  const serverClosed = closed(server)
  client.terminate()
  t.equal((await serverClosed).code, 1006)
})

// The gateway has no frame limit of its own any more (it never parses frames): chat's is the one.
t.test("a frame over chat's own limit is refused by chat: its 1009 reaches the client", async (t) => {
  const { client } = await openPair(t)
  const framesBefore = chat.frames.length
  const clientClosed = closed(client)
  client.send('x'.repeat(CHAT_MAX_PAYLOAD + 1))
  t.equal((await clientClosed).code, 1009)
  t.equal(chat.frames.length, framesBefore, 'chat never took the frame')
})

t.test('a large binary frame crosses intact, both ways', async (t) => {
  const { client, server } = await openPair(t)
  const up = randomBytes(CHAT_MAX_PAYLOAD)
  const atChat = once(server, 'message')
  client.send(up)
  const [received, isBinary] = (await atChat) as [Buffer, boolean]
  t.ok(isBinary)
  t.ok(up.equals(received), `${up.length} bytes client → chat`)

  const down = randomBytes(8 * 1024 * 1024)
  const atClient = once(client, 'message')
  server.send(down)
  const [delivered] = (await atClient) as [Buffer]
  t.ok(down.equals(delivered), `${down.length} bytes chat → client`)
})

t.test('many small frames cross intact and in order, both ways', async (t) => {
  const { client, server } = await openPair(t)
  const count = 2000
  const sent = Array.from({ length: count }, (_, i) => `m${i}`)
  const framesBefore = chat.frames.length
  const echoes = collect(client, count)
  for (const text of sent) client.send(text)
  t.same(
    await echoes,
    sent.map((text) => `echo:${text}`),
    'client → chat → client',
  )
  t.same(chat.frames.slice(framesBefore), sent, 'chat got each one, in order')

  const pushes = Array.from({ length: count }, (_, i) => `p${i}`)
  const pushed = collect(client, count)
  for (const text of pushes) server.send(text)
  t.same(await pushed, pushes, 'chat → client')
})

/** The next `count` text frames `socket` receives. */
function collect(socket: WebSocket, count: number): Promise<string[]> {
  const received: string[] = []
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      received.push(data.toString())
      if (received.length < count) return
      socket.off('message', onMessage)
      resolve(received)
    }
    socket.on('message', onMessage)
  })
}

t.test('frames a client sends along with its handshake reach chat once it has accepted', async (t) => {
  const accepted = chat.nextSocket()
  const framesBefore = chat.frames.length
  const handshake = upgradeRequest('/chat/ws', [`Authorization: Bearer ${goodToken()}`])
  // One write: the frame arrives in the same packet as the request head (Node's `head`).
  const answer = rawExchange(url, Buffer.concat([Buffer.from(handshake), maskedTextFrame('early')]))
  const server = await accepted
  while (chat.frames.length === framesBefore) await sleep(5)
  t.same(chat.frames.slice(framesBefore), ['early'])
  server.terminate()
  const received = await answer
  t.match(received, /^HTTP\/1\.1 101 Switching Protocols\r\n/)
  t.match(received, /\r\nx-request-id: [\w-]+\r\n/)
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
  await sleep(200)
  t.equal(ponged, false, 'chat sees no pong, so it can close the dead socket')
})

t.test('an upgrade anywhere but /chat/ws is a 404, not a hanging socket', async (t) => {
  for (const path of ['/posts', '/chat/conversations', '/health', '/nowhere']) {
    const result = await connectSocket(`${url.replace('http', 'ws')}${path}`, bearer(goodToken()))
    t.equal(result.kind === 'refused' && result.status, 404, path)
  }
  // At the TCP level: the gateway answers, then closes the connection itself.
  const answer = await rawExchange(url, upgradeRequest('/posts', [`Authorization: Bearer ${goodToken()}`]))
  t.match(answer, /^HTTP\/1\.1 404 /)
  t.match(answer, /\r\nconnection: close\r\n/i)
})

t.test('a plain GET /chat/ws (no upgrade) is told to upgrade', async (t) => {
  const response = await fetch(`${url}/chat/ws`, { headers: bearer(goodToken()) })
  t.equal(response.status, 426)
  t.equal(response.headers.get('upgrade'), 'websocket')
  t.match(await response.json(), { statusCode: 426, code: 'UPGRADE_REQUIRED' })
})

t.test('upgrades count against the per-IP rate limit', async (t) => {
  const upstream = await startSocketUpstream(t)
  const limited = await startGateway(t, { upstreams: { chat: upstream.url }, listen: true, env: { RATE_LIMIT_MAX: '2' } })
  const target = `${limited.url.replace('http', 'ws')}/chat/ws`
  for (let i = 0; i < 2; i++) {
    const result = await connectSocket(target, bearer(goodToken()))
    t.equal(result.kind, 'open', `upgrade ${i + 1} of 2`)
    if (result.kind === 'open') result.socket.terminate()
  }
  const third = await connectSocket(target, bearer(goodToken()))
  t.equal(third.kind === 'refused' && third.status, 429)
  if (third.kind === 'refused') t.match(JSON.parse(third.body), { statusCode: 429, code: 'RATE_LIMITED' })
  t.equal(upstream.handshakes.length, 2, 'the refused one never reached chat')
})

t.test('when chat is down the upgrade gets HTTP 503, leaking no address', async (t) => {
  const down = await startGateway(t, { upstreams: { chat: await deadUrl() }, listen: true })
  const result = await connectSocket(`${down.url.replace('http', 'ws')}/chat/ws`, bearer(goodToken()))
  t.equal(result.kind, 'refused')
  if (result.kind !== 'refused') return
  t.equal(result.status, 503)
  t.equal(result.headers['retry-after'], '1')
  t.same(JSON.parse(result.body), {
    statusCode: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    error: 'Service Unavailable',
    message: 'the service is unavailable, try again later',
  })
  t.notMatch(result.body, /127\.0\.0\.1|ECONNREFUSED/)
})

t.test('a chat that never answers the handshake: 504 after UPSTREAM_TIMEOUT_MS, not the connect budget', async (t) => {
  const hanging = await startHangingUpstream(t)
  const gateway = await startGateway(t, {
    upstreams: { chat: hanging },
    listen: true,
    env: { UPSTREAM_CONNECT_TIMEOUT_MS: '200', UPSTREAM_TIMEOUT_MS: '600' },
  })
  const started = Date.now()
  const result = await connectSocket(`${gateway.url.replace('http', 'ws')}/chat/ws`, bearer(goodToken()))
  const elapsed = Date.now() - started
  t.equal(result.kind === 'refused' && result.status, 504)
  if (result.kind === 'refused') t.match(JSON.parse(result.body), { statusCode: 504, code: 'UPSTREAM_TIMEOUT' })
  t.ok(elapsed >= 580 && elapsed < 2000, `answered after ${elapsed} ms (connect budget 200 ms, answer budget 600 ms)`)
})

t.test('a client that gives up mid-handshake leaves no connection to chat behind', async (t) => {
  const slow = await startSocketUpstream(t, { handshakeDelayMs: 300 })
  const gateway = await startGateway(t, { upstreams: { chat: slow.url }, listen: true })
  const dialled = slow.nextConnection()
  const client = new WebSocket(`${gateway.url.replace('http', 'ws')}/chat/ws`, { headers: bearer(goodToken()) })
  client.on('error', () => undefined)
  const upstreamConnection = await dialled
  t.equal(slow.connections.size, 1, 'chat is being dialled')
  client.terminate()
  await once(upstreamConnection, 'close')
  t.equal(slow.connections.size, 0, 'the upstream connection went with the client')
  await sleep(400)
  t.equal(slow.sockets.length, 0, 'chat never opened a socket for it')
})

// A byte pipe cannot slip a close frame in between relayed bytes: a shutdown cuts the connections.
t.test('a gateway shutting down drops relayed sockets at once: both sides see 1006', async (t) => {
  const upstream = await startSocketUpstream(t)
  const closing = await startGateway(t, { upstreams: { chat: upstream.url }, listen: true })
  const { client, server } = await openPair(t, upstream, `${closing.url.replace('http', 'ws')}/chat/ws`)
  const clientClosed = closed(client)
  const serverClosed = closed(server)
  const started = Date.now()
  await closing.app.close()
  t.ok(Date.now() - started < 1000, 'close does not wait for the sockets to end on their own')
  t.equal((await clientClosed).code, 1006)
  t.equal((await serverClosed).code, 1006)
  t.equal(client.readyState, WebSocket.CLOSED)
  t.equal(upstream.connections.size, 0, 'nothing left open at chat')
})
