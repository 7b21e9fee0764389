import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * onRequest hook of the chat socket route. A bearer token (header) is verified here with the
 * platform's auth plugin: missing, forged, `alg: none`, expired or refresh-typed tokens get a
 * plain HTTP 401 with the contract's error body, and no socket is ever opened. A `?ticket=`
 * (for browsers, which cannot set headers on a WebSocket) is opaque and single use; only chat
 * can check it, so it is let through untouched. A header, when present, always wins.
 */
export async function authenticateUpgrade(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!request.headers.authorization && hasTicket(request)) return
  await request.server.authenticate(request, reply)
}

function hasTicket(request: FastifyRequest): boolean {
  const ticket = (request.query as Record<string, unknown> | undefined)?.ticket
  return typeof ticket === 'string' && ticket.length > 0
}
