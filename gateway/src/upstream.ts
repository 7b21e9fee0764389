import { HttpError } from '@sm/platform'
import type { FastifyRequest } from 'fastify'

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
