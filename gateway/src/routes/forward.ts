import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { discardRest, HttpError } from '@sm/platform'
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { type Dispatcher, Pool } from 'undici'
import { answerHeaders, gatewayHeaders, type UpstreamTimeouts, upstreamError, writeFailure } from '../upstream.ts'

/** Per-connection headers (RFC 9110 §7.6.1) never travel past a proxy; `host` is the upstream's own. */
const REQUEST_HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'expect',
])

/**
 * A path that, once decoded, climbs out of its prefix (`/posts/..%2f..%2fauth/me`) is refused:
 * a service behind a different normaliser must never be reachable through another's prefix.
 */
function escapesPrefix(path: string): boolean {
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    return true
  }
  return decoded.split(/[/\\]/).some((segment) => segment === '..' || segment === '.')
}

/**
 * The hot path of the gateway: one undici pool per service, and the response streamed straight
 * from the service's socket into the client's (`reply.hijack()` + `Pool.dispatch`), with no
 * per-request URL building or header rewriting beyond what the contract needs. Measured against
 * @fastify/http-proxy (reply-from) on the trivial route: see the README's benchmark table.
 *
 * Hooks that ran before the handler still count: CORS, rate-limit and security headers were
 * set on the reply and are copied onto the raw response; `onResponse` hooks (logs, metrics) run
 * as usual for a hijacked reply.
 */
export class Forwarder {
  readonly #pool: Pool

  constructor(upstream: string, timeouts: UpstreamTimeouts) {
    this.#pool = new Pool(upstream, {
      connections: 256,
      connect: { timeout: timeouts.connectTimeoutMs },
      headersTimeout: timeouts.responseTimeoutMs,
      bodyTimeout: timeouts.responseTimeoutMs,
    })
  }

  close(): Promise<void> {
    return this.#pool.destroy()
  }

  readonly handler: RouteHandlerMethod = (request, reply) => {
    const url = request.raw.url ?? '/'
    const queryAt = url.indexOf('?')
    if (escapesPrefix(queryAt === -1 ? url : url.slice(0, queryAt))) {
      return reply.send(new HttpError(400, 'BAD_PATH', 'the path may not contain dot segments'))
    }
    reply.hijack()
    this.#forward(request, reply, url)
  }

  #forward(request: FastifyRequest, reply: FastifyReply, path: string): void {
    const body = request.body as Readable | undefined
    this.#pool.dispatch(
      {
        path,
        method: request.method as Dispatcher.HttpMethod,
        headers: upstreamHeaders(request),
        // Never the client's request itself (plugins/body-limit.ts): undici destroys a body it
        // stops sending, and destroying the request would reset the client's socket.
        body: body ?? null,
      },
      new Exchange(request, reply),
    )
  }
}

/**
 * One proxied request: undici's events written straight to the client's response. One object
 * per request, where `Pool.stream` took an AbortController, its listeners, a stream handler and
 * a Writable to pipe through; the answer's bytes are the same.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly #request: FastifyRequest
  readonly #reply: FastifyReply
  readonly #res: ServerResponse
  #controller: Dispatcher.DispatchController | undefined
  #clientGone = false
  /** Set when the service answered before the client's body was all read (see onResponseStart). */
  #bodyDrained: Promise<void> | undefined

  constructor(request: FastifyRequest, reply: FastifyReply) {
    this.#request = request
    this.#reply = reply
    this.#res = reply.raw
    this.#res.once('close', this.#onClientClose)
  }

  readonly #onClientClose = (): void => {
    if (this.#res.writableFinished) return
    // The client left mid-answer: stop the upstream request instead of reading it for no one.
    this.#clientGone = true
    this.#controller?.abort(new Error('client closed the connection'))
  }

  readonly #resume = (): void => this.#controller?.resume()

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#clientGone) controller.abort(new Error('client closed the connection'))
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    const outgoing = answerHeaders(this.#reply, headers)
    if (!this.#request.raw.complete) {
      // The service answered before the client finished sending its body (an upload refused
      // early, a 401). That connection cannot carry another request: say so, and end the
      // answer only once the rest of the body is read (discardRest), so that closing the
      // socket does not reset a client still sending.
      outgoing.connection = 'close'
      this.#bodyDrained = discardRest(this.#request.raw)
    }
    this.#res.writeHead(statusCode, outgoing)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Backpressure: a slow client pauses the read from the service until its socket drains.
    if (!this.#res.write(chunk)) {
      controller.pause()
      this.#res.once('drain', this.#resume)
    }
  }

  onResponseEnd(): void {
    if (this.#bodyDrained) void this.#bodyDrained.then(() => this.#res.end())
    else this.#res.end()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#clientGone) return
    const res = this.#res
    const request = this.#request
    if (res.headersSent) {
      // Part of the answer is out: the only honest thing left is to cut the connection.
      request.log.warn({ err: error }, 'upstream failed mid-response')
      res.destroy()
      return
    }
    const failure = upstreamError(error)
    if (failure.statusCode >= 500) request.log.warn({ err: error }, 'upstream failed')
    writeFailure(res, this.#reply, failure)
  }
}

function upstreamHeaders(request: FastifyRequest): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  const incoming = request.headers
  for (const name in incoming) {
    const value = incoming[name]
    if (value !== undefined && !REQUEST_HOP_HEADERS.has(name)) headers[name] = value
  }
  return Object.assign(headers, gatewayHeaders(request))
}
