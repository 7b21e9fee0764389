import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { type Readable, Writable } from 'node:stream'
import { discardRest, errorBody, HttpError } from '@sm/platform'
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { Pool } from 'undici'
import { hookHeaders } from '../plugins/security.ts'
import { gatewayHeaders, type UpstreamTimeouts, upstreamError } from '../upstream.ts'

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
const RESPONSE_HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'])

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
 * from the service's socket into the client's (`reply.hijack()` + `Pool.stream`), with no
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
    const res = reply.raw
    const abort = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) abort.abort()
    })
    const body = request.body as Readable | undefined
    this.#pool
      .stream(
        {
          path,
          method: request.method as 'GET',
          headers: upstreamHeaders(request),
          // Never the client's request itself (plugins/body-limit.ts): undici destroys a body it
          // stops sending, and destroying the request would reset the client's socket.
          body: body ?? null,
          signal: abort.signal,
        },
        ({ statusCode, headers }) => {
          const outgoing = responseHeaders(reply, headers as IncomingHttpHeaders)
          if (request.raw.complete) {
            res.writeHead(statusCode, outgoing)
            return res
          }
          // The service answered before the client finished sending its body (an upload refused
          // early, a 401). That connection cannot carry another request: say so, and end the
          // answer only once the rest of the body is read (discardRest), so that closing the
          // socket does not reset a client still sending.
          outgoing.connection = 'close'
          res.writeHead(statusCode, outgoing)
          return endingAfter(res, discardRest(request.raw))
        },
      )
      .catch((error: Error) => {
        if (abort.signal.aborted) return
        if (res.headersSent) {
          // Part of the answer is out: the only honest thing left is to cut the connection.
          request.log.warn({ err: error }, 'upstream failed mid-response')
          res.destroy()
          return
        }
        const failure = upstreamError(error)
        if (failure.statusCode >= 500) request.log.warn({ err: error }, 'upstream failed')
        const payload = JSON.stringify(errorBody(failure.statusCode, failure.code, failure.message))
        res.writeHead(failure.statusCode, {
          ...hookHeaders(reply),
          ...failure.headers,
          'x-request-id': request.id,
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(payload),
        })
        res.end(payload)
      })
  }
}

/** Passes the answer through to `res`, and ends it once `ready` has settled. */
function endingAfter(res: Writable, ready: Promise<void>): Writable {
  return new Writable({
    write(chunk, _encoding, callback) {
      res.write(chunk, callback)
    },
    final(callback) {
      void ready.then(() => res.end(callback))
    },
    destroy(error, callback) {
      if (error) res.destroy(error)
      callback(error)
    },
  })
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

function responseHeaders(reply: FastifyReply, upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers = hookHeaders(reply)
  headers['x-request-id'] = reply.request.id
  for (const name in upstream) {
    const value = upstream[name]
    if (value !== undefined && !RESPONSE_HOP_HEADERS.has(name)) headers[name] = value
  }
  return headers
}
