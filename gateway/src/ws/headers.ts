import type { FastifyRequest } from 'fastify'
import { gatewayHeaders } from '../upstream.ts'

/**
 * Client headers that travel to chat with the handshake: the upgrade itself (`upgrade`, the
 * `sec-websocket-*` key, version, subprotocols and extensions, which chat answers and the client
 * checks, so they must be the client's own), the credentials, and what chat may log.
 */
const FORWARDED = [
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'authorization',
  'cookie',
  'origin',
  'user-agent',
  'accept-language',
] as const

/** Headers of the upstream handshake: the client's (above) plus the request id and who the client is. */
export function handshakeHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = { connection: 'Upgrade' }
  for (const name of FORWARDED) {
    const value = request.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  return Object.assign(headers, gatewayHeaders(request))
}

/** Chat's 101 as it sent it (names, order, repeats), with our request id instead of any of its own. */
export function switchingHeaders(rawHeaders: string[], requestId: string): string[] {
  const headers: string[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    if (name.toLowerCase() !== 'x-request-id') headers.push(name, rawHeaders[i + 1] as string)
  }
  headers.push('x-request-id', requestId)
  return headers
}
