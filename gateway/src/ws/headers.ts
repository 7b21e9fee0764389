import type { FastifyRequest } from 'fastify'
import { gatewayHeaders } from '../upstream.ts'

/** Client headers chat may need at the upgrade; the rest (hop-by-hop, `sec-websocket-*`) is the relay's own. */
const FORWARDED = ['authorization', 'cookie', 'origin', 'user-agent', 'accept-language'] as const

/**
 * Headers of the upstream handshake. @fastify/http-proxy's default forwards only `cookie`, so
 * without this chat would never see the bearer token (and would refuse every socket with a
 * close 1011 the client cannot interpret) nor the request id.
 */
export function upstreamSocketHeaders(base: Record<string, string>, request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = { ...base }
  for (const name of FORWARDED) {
    const value = request.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  return { ...headers, ...gatewayHeaders(request) }
}
