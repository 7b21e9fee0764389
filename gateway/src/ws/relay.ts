import { Agent, request as httpRequest, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { HttpError } from '@sm/platform'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { answerHeaders, upstreamError, writeFailure } from '../upstream.ts'
import { handshakeHeaders, switchingHeaders } from './headers.ts'
import type { Upgrade } from './upgrade-guard.ts'

/** What a client may send before chat's 101 (it should send nothing): more is a misbehaving client. */
const EARLY_BYTES_MAX = 64 * 1024

/**
 * The chat socket relay: a byte pipe, not a WebSocket proxy. The client's upgrade request is
 * replayed to chat; if chat answers 101, its status line and headers go to the client and from
 * then on the two TCP sockets are piped into each other. The gateway never parses, re-frames
 * or answers a frame: close codes, pings and pongs, compression and payload limits are chat's
 * and the client's business, end to end. If chat answers anything else, that HTTP answer is
 * relayed and the client's socket closed: a used ticket gets chat's 401 before any socket opens.
 */
export class SocketRelay {
  readonly #target: URL
  readonly #connectTimeoutMs: number
  readonly #answerTimeoutMs: number
  /** No pooling: each handshake has its connection, and an upgraded one leaves the agent anyway. */
  readonly #agent = new Agent({ keepAlive: false })
  /** Client sockets being dialled for or relayed: what a shutdown cuts. */
  readonly #clients = new Set<Socket>()
  readonly #onUpstreamError: (error: Error) => void
  readonly #untrack: (this: Socket) => void
  #closing = false

  /**
   * `connectTimeoutMs` bounds reaching chat (503 after it), `answerTimeoutMs` chat's answer once
   * connected (504): in a reconnect storm chat answers a thousand upgrades in turn, which takes
   * longer than a connect should.
   */
  constructor(upstream: string, timeouts: { connectTimeoutMs: number; answerTimeoutMs: number }, log: FastifyBaseLogger) {
    this.#target = new URL(upstream)
    this.#connectTimeoutMs = timeouts.connectTimeoutMs
    this.#answerTimeoutMs = timeouts.answerTimeoutMs
    this.#onUpstreamError = (error) => log.debug({ err: error }, 'chat socket: upstream socket error')
    const clients = this.#clients
    this.#untrack = function (this: Socket) {
      clients.delete(this)
    }
  }

  open(request: FastifyRequest, reply: FastifyReply, upgrade: Upgrade): void {
    const client = upgrade.socket
    const res = reply.raw
    if (this.#closing || client.destroyed) {
      client.destroy()
      return
    }
    this.#track(client)

    const dial = httpRequest({
      protocol: this.#target.protocol,
      hostname: this.#target.hostname,
      port: this.#target.port,
      path: request.raw.url,
      method: 'GET',
      headers: handshakeHeaders(request),
      agent: this.#agent,
    })
    // First the connect budget (503 when it runs out), then, once connected, the answer's (504);
    // a refusal's body must arrive within it too.
    let timer = setTimeout(() => dial.destroy(handshakeTimeout(false)), this.#connectTimeoutMs)
    dial.once('socket', (socket) =>
      socket.once('connect', () => {
        clearTimeout(timer)
        timer = setTimeout(() => dial.destroy(handshakeTimeout(true)), this.#answerTimeoutMs)
      }),
    )

    // Until chat answers, the client's socket is read here: a WebSocket client sends nothing
    // before the 101, so anything it does send is kept (bounded) for chat, and its FIN, which
    // only shows when the socket is read, means it gave up. Then the upstream handshake goes too.
    const early: Buffer[] = upgrade.head.length > 0 ? [upgrade.head] : []
    let earlyBytes = upgrade.head.length
    const onEarlyData = (chunk: Buffer) => {
      earlyBytes += chunk.length
      if (earlyBytes > EARLY_BYTES_MAX) client.destroy()
      else early.push(chunk)
    }
    const abandon = () => {
      client.destroy()
      dial.destroy()
    }
    client.on('data', onEarlyData)
    client.once('end', abandon)
    client.once('close', abandon)
    const stopWatching = () => {
      client.off('data', onEarlyData)
      client.off('end', abandon)
      client.off('close', abandon)
      early.length = 0
    }

    dial.once('upgrade', (answer: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
      clearTimeout(timer)
      const pending = Buffer.concat(early)
      stopWatching()
      upstream.on('error', this.#onUpstreamError)
      if (client.destroyed || this.#closing) {
        upstream.destroy()
        client.destroy()
        return
      }
      upgrade.switched = true
      // Chat's 101 as it sent it; `finish` runs the onResponse hooks (the log line, metrics).
      res.sendDate = false
      res.writeHead(101, answer.statusMessage, switchingHeaders(answer.rawHeaders, request.id))
      res.end()
      if (pending.length > 0) upstream.write(pending)
      if (upstreamHead.length > 0) client.write(upstreamHead)
      pipeBothWays(client, upstream)
    })

    dial.once('response', (answer: IncomingMessage) => {
      // Chat refused the upgrade (401 bad ticket, 503 shutting down…): the client gets that answer.
      stopWatching()
      client.once('close', () => dial.destroy())
      answer.on('error', () => client.destroy())
      res.once('finish', () => clearTimeout(timer))
      res.writeHead(answer.statusCode ?? 502, answerHeaders(reply, answer.headers))
      answer.pipe(res)
    })

    dial.on('error', (error: Error) => {
      clearTimeout(timer)
      if (client.destroyed) return
      if (res.headersSent) {
        // Chat's refusal was cut short: the client must not take a partial body for a whole one.
        request.log.warn({ err: error }, 'chat socket: upstream failed mid-answer')
        client.destroy()
        return
      }
      const failure = upstreamError(error)
      request.log.warn({ err: error }, 'chat socket: upstream unavailable')
      writeFailure(res, reply, failure)
    })
    dial.end()
  }

  /**
   * One listener for every client, made once: a listener that outlives the handshake must not
   * keep the request, reply and handshake objects of `open` alive for the socket's lifetime.
   */
  #track(client: Socket): void {
    this.#clients.add(client)
    client.on('close', this.#untrack)
  }

  /**
   * Shutdown: no new upgrade is relayed, and every relayed or dialling client socket is
   * destroyed (its upstream leg follows, see pipeBothWays). A byte pipe cannot inject a close
   * frame safely, since a frame may be half relayed: both sides see the connection drop (1006).
   */
  close(): void {
    this.#closing = true
    for (const client of this.#clients) client.destroy()
    this.#clients.clear()
    this.#agent.destroy()
  }
}

/**
 * Bytes both ways, with backpressure. An end (FIN) is passed on; a socket that closes takes the
 * other with it: gracefully (what is queued is flushed, e.g. a close frame) when it closed
 * cleanly, at once when it failed. The same four listeners serve every socket, which finds its
 * peer in `peers`: `pipe()` and `once()` make about thirty closures per relayed socket pair
 * (~3 KB of the gateway's memory per connected client).
 */
function pipeBothWays(client: Socket, upstream: Socket): void {
  peers.set(client, upstream)
  peers.set(upstream, client)
  for (const [socket, peer] of [
    [client, upstream],
    [upstream, client],
  ] as const) {
    socket.on('data', relayData)
    socket.on('drain', relayDrain)
    socket.on('end', relayEnd)
    socket.on('close', relayClose)
    // As pipe() starts: reading, unless what was written to the peer already waits for a drain.
    if (peer.writableNeedDrain) socket.pause()
    else socket.resume()
  }
}

const peers = new WeakMap<Socket, Socket>()

function relayData(this: Socket, chunk: Buffer): void {
  const peer = peers.get(this)
  // The peer's buffer is full: stop reading until it drains (relayDrain).
  if (peer && !peer.write(chunk)) this.pause()
}

function relayDrain(this: Socket): void {
  peers.get(this)?.resume()
}

function relayEnd(this: Socket): void {
  peers.get(this)?.end()
}

function relayClose(this: Socket, hadError: boolean): void {
  const peer = peers.get(this)
  if (!peer) return
  if (hadError) peer.destroy()
  else peer.destroySoon()
}

function handshakeTimeout(connected: boolean): HttpError {
  return connected
    ? new HttpError(504, 'UPSTREAM_TIMEOUT', 'the service did not answer in time')
    : new HttpError(503, 'UPSTREAM_UNAVAILABLE', 'the service is unavailable, try again later', { 'retry-after': '1' })
}
