import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { errorBody, HttpError } from '@sm/platform'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { hookHeaders } from './plugins/security.ts'

export interface UpstreamTimeouts {
  connectTimeoutMs: number
  responseTimeoutMs: number
}

/**
 * What every proxied request carries upstream besides the client's own headers: the request id
 * (so one id follows a request through the gateway and the service logs) and who the client is.
 * `x-forwarded-for` is replaced, not appended: it carries the one address the gateway decided
 * is the client's (plugins/client-ip.ts), never a chain a client could have written.
 */
export function gatewayHeaders(request: Pick<FastifyRequest, 'id' | 'clientIp' | 'protocol' | 'host'>): Record<string, string> {
  return {
    'x-request-id': request.id,
    'x-forwarded-for': request.clientIp,
    'x-forwarded-proto': request.protocol,
    'x-forwarded-host': request.host,
  }
}

const TIMEOUT_CODES = new Set([
  'FST_REPLY_FROM_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

/**
 * A failed upstream call as the client sees it. undici wraps the cause, and the platform error
 * handler would turn every foreign error into 500 INTERNAL, so the mapping happens here:
 * - our own errors (the body limit tripping while streaming) keep their status and code;
 * - no answer in time → 504 UPSTREAM_TIMEOUT;
 * - anything else (refused, reset, connect timeout, DNS) → 503 UPSTREAM_UNAVAILABLE.
 */
export function upstreamError(error: Error): HttpError {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof HttpError) return cause
    const code = (cause as { code?: unknown }).code
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
      return new HttpError(504, 'UPSTREAM_TIMEOUT', 'the service did not answer in time')
    }
  }
  return new HttpError(503, 'UPSTREAM_UNAVAILABLE', 'the service is unavailable, try again later', { 'retry-after': '1' })
}

/** Per-connection headers (RFC 9110 §7.6.1): the gateway's own connection to the client has its own. */
const RESPONSE_HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'])

/**
 * Headers of a service's answer as the client gets it, for answers the gateway writes by hand
 * (proxied responses, chat refusing an upgrade): the hook headers (helmet, CORS, rate limit),
 * the service's own minus per-connection ones, and our request id.
 */
export function answerHeaders(reply: FastifyReply, upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers = hookHeaders(reply)
  for (const name in upstream) {
    const value = upstream[name]
    if (value !== undefined && !RESPONSE_HOP_HEADERS.has(name)) headers[name] = value
  }
  headers['x-request-id'] = reply.request.id
  return headers
}

/** A failure the gateway answers itself on a hijacked reply: the contract's error body, with the hook headers and the request id. */
export function writeFailure(res: ServerResponse, reply: FastifyReply, failure: HttpError): void {
  const payload = JSON.stringify(errorBody(failure.statusCode, failure.code, failure.message))
  const headers = hookHeaders(reply)
  Object.assign(headers, failure.headers, {
    'x-request-id': reply.request.id,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  })
  res.writeHead(failure.statusCode, headers)
  res.end(payload)
}
