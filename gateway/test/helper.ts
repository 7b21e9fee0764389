import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'
import { CHAT_FRAME_MAX_BYTES } from '@sm/contracts'
import type { App } from '@sm/platform'
import { dropNamespace, freePort, TEST_REDIS_URL } from '@sm/testing'
import Fastify from 'fastify'
import type { Test } from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import { buildApp, type GatewayDeps } from '../src/app.ts'
import { loadGatewayConfig, SERVICE_NAMES, type ServiceName } from '../src/config.ts'

/** A unique Redis namespace for one test file, so parallel files never share counters. */
export const testNamespace = () => `gw_test_${randomBytes(4).toString('hex')}`

/**
 * A bearer token the stand-in chat accepts. The gateway verifies no token (chat does, as every
 * service does), so to the gateway any string is as good as a signed token.
 */
export const goodToken = () => `good-${randomUUID()}`
/** A bearer token the stand-in chat refuses, as chat refuses a forged or expired one. */
export const badToken = () => `bad-${randomUUID()}`

export interface EchoedRequest {
  service: ServiceName
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

export interface Upstream {
  name: ServiceName
  url: string
  /** Every request the service received, oldest first. */
  received: EchoedRequest[]
  close(): Promise<void>
}

/**
 * A stand-in service on a free port: answers `/health` and `/openapi.json` like a platform
 * service, and echoes anything else back as JSON (method, url, headers, raw body), with the
 * status asked for in `x-echo-status` (default 200).
 */
export async function startUpstream(t: Test, name: ServiceName): Promise<Upstream> {
  const app = Fastify()
  const received: EchoedRequest[] = []
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 200 * 1024 * 1024 }, (_request, body, done) => done(null, body))
  app.get('/health', async () => ({ status: 'ok', service: name }))
  app.get('/openapi.json', async () => ({ openapi: '3.0.3', info: { title: name, version: '0.1.0' }, paths: { [`/${name}/thing`]: {} } }))
  app.all('/*', async (request, reply) => {
    // A test can ask for any answer status with `x-echo-status`.
    reply.status(Number(request.headers['x-echo-status'] ?? 200))
    const echoed = {
      service: name,
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: typeof request.body === 'string' ? request.body : '',
    }
    received.push(echoed)
    return echoed
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const upstream = { name, url: `http://127.0.0.1:${port}`, received, close: () => app.close() }
  t.teardown(upstream.close)
  return upstream
}

/** A service that accepts connections and never answers. */
export async function startHangingUpstream(t: Test): Promise<string> {
  const server = createServer(() => {
    // never answer
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A URL where nothing listens: the service is down. */
export async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`
}

export interface GatewayOptions {
  upstreams?: Partial<Record<ServiceName, string>>
  env?: Record<string, string>
  deps?: GatewayDeps
  namespace?: string
  /** Listen on a real port (needed for WebSockets); `inject` works either way. */
  listen?: boolean
}

export interface TestGateway {
  app: App
  /** Base URL when listening. */
  url: string
  namespace: string
}

/**
 * The gateway against real Redis under a fresh namespace, with the given services (any service
 * not given points at a port where nothing listens).
 */
export async function startGateway(t: Test, opts: GatewayOptions = {}): Promise<TestGateway> {
  const namespace = opts.namespace ?? testNamespace()
  const env: Record<string, string> = {
    NAMESPACE: namespace,
    REDIS_URL: TEST_REDIS_URL,
    LOG_LEVEL: 'silent',
    UPSTREAM_CONNECT_TIMEOUT_MS: '500',
    UPSTREAM_TIMEOUT_MS: '2000',
    HEALTH_TIMEOUT_MS: '500',
  }
  for (const service of SERVICE_NAMES) {
    env[`${service.toUpperCase()}_URL`] = opts.upstreams?.[service] ?? (await deadUrl())
  }
  const config = loadGatewayConfig({ ...env, ...opts.env })
  const app = await buildApp(config, opts.deps)
  t.teardown(async () => {
    await app.close()
    if (!opts.namespace) await dropNamespace(namespace)
  })
  let url = ''
  if (opts.listen) {
    await app.listen({ port: 0, host: '127.0.0.1' })
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  }
  return { app, url, namespace }
}

export interface SocketUpstream {
  url: string
  /** Text frames chat received, in order. */
  frames: string[]
  /** Handshake headers and URL of every socket chat accepted. */
  handshakes: Array<{ url: string; headers: IncomingHttpHeaders }>
  /** Handshakes chat refused (see `refuse`), oldest first. */
  refused: Array<{ url: string; headers: IncomingHttpHeaders }>
  /** Sockets chat holds, newest last. */
  sockets: WebSocket[]
  /** TCP connections to chat that are still open (handshakes in progress included). */
  connections: Set<Socket>
  /** Resolves with the next socket chat accepts. */
  nextSocket(): Promise<WebSocket>
  /** Resolves with the next TCP connection chat accepts. */
  nextConnection(): Promise<Socket>
  server: Server
}

/** What chat answers instead of 101 when a ticket is unknown or used (services/chat socket.routes.ts). */
export const INVALID_TICKET_BODY = {
  statusCode: 401,
  code: 'INVALID_TICKET',
  error: 'Unauthorized',
  message: 'ticket is invalid, expired or already used',
}
/** What chat answers without any credential. */
export const MISSING_TOKEN_BODY = { statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'missing bearer token' }
/** What chat answers for a forged, altered or otherwise invalid token. */
export const INVALID_TOKEN_BODY = { statusCode: 401, code: 'INVALID_TOKEN', error: 'Unauthorized', message: 'invalid token' }

/** Chat's refusal of a handshake's credential, by its rules (socket.routes.ts), or undefined to accept. */
function refusalOf(url: string, headers: IncomingHttpHeaders): object | undefined {
  // A header, when present, always wins over a ticket.
  const authorization = headers.authorization
  if (authorization) return authorization.startsWith('Bearer good-') ? undefined : INVALID_TOKEN_BODY
  const ticket = new URL(url, 'http://chat').searchParams.get('ticket')
  if (!ticket) return MISSING_TOKEN_BODY
  return ticket.startsWith('used-') ? INVALID_TICKET_BODY : undefined
}

export interface SocketUpstreamOptions {
  /** A slow chat: the handshake is answered only after this delay. */
  handshakeDelayMs?: number
  /** chat's own limit (ws `maxPayload`); the default is chat's: CHAT_FRAME_MAX_BYTES × 4. */
  maxPayload?: number
}

/** The largest frame the stand-in chat takes by default, as the real chat does. */
export const CHAT_MAX_PAYLOAD = CHAT_FRAME_MAX_BYTES * 4

/**
 * A stand-in chat: a WebSocket server on `/chat/ws` that echoes text frames as `echo:<text>`
 * and otherwise does what the test tells it through `sockets`. Like chat, it checks the
 * credential and refuses with an HTTP 401 and the contract's JSON body: no credential, a bearer
 * token other than `goodToken()`'s, or a `?ticket=` starting with `used-`.
 */
export async function startSocketUpstream(t: Test, opts: SocketUpstreamOptions = {}): Promise<SocketUpstream> {
  const server = createServer((_request, response) => {
    response.writeHead(404).end()
  })
  const delay = opts.handshakeDelayMs ?? 0
  const refused: SocketUpstream['refused'] = []
  const wss = new WebSocketServer({
    server,
    path: '/chat/ws',
    maxPayload: opts.maxPayload ?? CHAT_MAX_PAYLOAD,
    verifyClient: (info, accept) =>
      setTimeout(() => {
        const refusal = refusalOf(info.req.url ?? '/', info.req.headers)
        if (!refusal) return accept(true)
        refused.push({ url: info.req.url ?? '', headers: info.req.headers })
        accept(false, 401, JSON.stringify(refusal), { 'Content-Type': 'application/json; charset=utf-8' })
      }, delay),
  })
  const connections = new Set<Socket>()
  const waitingConnections: Array<(socket: Socket) => void> = []
  server.on('connection', (socket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
    waitingConnections.shift()?.(socket)
  })
  const handshakes: SocketUpstream['handshakes'] = []
  const sockets: WebSocket[] = []
  const waiting: Array<(socket: WebSocket) => void> = []
  const frames: string[] = []
  wss.on('connection', (socket, request) => {
    handshakes.push({ url: request.url ?? '', headers: request.headers })
    sockets.push(socket)
    // A frame over maxPayload: ws closes with 1009 and reports it here (as chat logs it).
    socket.on('error', () => undefined)
    socket.on('message', (data, isBinary) => {
      if (isBinary) return
      frames.push(data.toString())
      socket.send(`echo:${data.toString()}`)
    })
    waiting.shift()?.(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    for (const socket of wss.clients) socket.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    frames,
    handshakes,
    refused,
    sockets,
    connections,
    server,
    nextSocket: () => new Promise((resolve) => waiting.push(resolve)),
    nextConnection: () => new Promise((resolve) => waitingConnections.push(resolve)),
  }
}

/** The outcome of a client's upgrade attempt: open socket (with the 101's headers), or the HTTP answer instead. */
export type UpgradeResult =
  | { kind: 'open'; socket: WebSocket; headers: IncomingHttpHeaders }
  | { kind: 'refused'; status: number; body: string; headers: IncomingHttpHeaders }

export function connectSocket(
  url: string,
  headers: Record<string, string> = {},
  options: { autoPong?: boolean; protocols?: string[] } = {},
): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { headers, autoPong: options.autoPong ?? true })
    let switched: IncomingHttpHeaders = {}
    socket.once('upgrade', (response) => {
      switched = response.headers
    })
    socket.once('open', () => resolve({ kind: 'open', socket, headers: switched }))
    socket.once('unexpected-response', (_request, response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => {
        resolve({ kind: 'refused', status: response.statusCode ?? 0, body, headers: response.headers })
        socket.terminate()
      })
    })
    socket.once('error', reject)
  })
}

/**
 * Sends `request` (raw bytes: a handshake, maybe with frames after it) on a plain TCP socket and
 * resolves with everything the gateway wrote back once it closes the connection.
 */
export function rawExchange(url: string, request: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request))
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
    })
    socket.once('close', () => resolve(received))
    socket.once('error', reject)
  })
}

/** A client's upgrade request as raw bytes; `extra` header lines are added as given. */
export function upgradeRequest(path: string, extra: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: gateway',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...extra,
    '',
    '',
  ].join('\r\n')
}

/** A client's (masked) text frame as raw bytes; payloads under 126 bytes. */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = randomBytes(4)
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)))
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked])
}

/** Resolves with the next text frame. */
export function nextMessage(socket: WebSocket): Promise<string> {
  return new Promise((resolve) => socket.once('message', (data) => resolve(data.toString())))
}

/** Resolves with the code and reason the socket closed with. */
export function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
}
