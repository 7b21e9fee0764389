import type { OutgoingHttpHeaders } from 'node:http'
import cors from '@fastify/cors'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'

export interface SecurityOptions {
  corsOrigins: '*' | string[]
}

/** Headers a browser client may read from a cross-origin response. */
const EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'content-range',
  'accept-ranges',
  'content-length',
  'location',
]

/**
 * The security headers helmet would set, worked out once. helmet's headers depend only on its
 * options, never on the request, so its middleware is run here against a recording response.
 * (@fastify/helmet rebuilds the middleware, CSP parsing and all, on every request, and even a
 * middleware built once makes a dozen `setHeader` calls per request: a tenth of the gateway's
 * CPU on a hot route.)
 */
export function helmetHeaders(): Readonly<Record<string, string>> {
  const middleware = helmet({
    // The API answers JSON and media, never documents that load scripts: the tightest policy
    // fits. /docs (Swagger UI) sets its own policy with the hashes of its inline code.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    },
    // Media URLs are loaded by web apps on other origins (<img src>, <video src>).
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  })
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = value
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  let failure: unknown
  middleware({} as Parameters<typeof middleware>[0], recorder as unknown as Parameters<typeof middleware>[1], (error?: unknown) => {
    failure = error
  })
  if (failure) throw failure
  return Object.freeze(headers)
}

/**
 * Security headers and CORS for every response, proxied ones included. Registered first so that
 * even a 429 or 413 carries CORS headers (a browser app can only read those errors with them).
 */
export const securityPlugin = fp<SecurityOptions>(
  async (app: FastifyInstance, opts) => {
    const securityHeaders = helmetHeaders()
    app.decorate('securityHeaders', securityHeaders)
    // Added to the answers Fastify sends, last, where a route has not set its own (the docs UI
    // has its own policy). Proxied answers are written by hand (hijacked: no onSend) and take
    // them from hookHeaders(), so the hot path makes no per-header call for them at all.
    app.addHook('onSend', (_request, reply, payload, done) => {
      for (const name in securityHeaders) {
        if (!reply.hasHeader(name)) reply.header(name, securityHeaders[name])
      }
      done(null, payload)
    })
    await app.register(cors, {
      origin: opts.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      exposedHeaders: EXPOSED_HEADERS,
      // Tokens travel in the Authorization header, never in cookies: no credentialed CORS.
      credentials: false,
      maxAge: 600,
      // Any OPTIONS gets the preflight answer (204), not a text/plain 400 outside the contract.
      strictPreflight: false,
    })
  },
  { name: 'gateway-security' },
)

declare module 'fastify' {
  interface FastifyInstance {
    /** helmet's header set, worked out once (helmetHeaders). */
    securityHeaders: Readonly<Record<string, string>>
  }
}

/**
 * The headers the gateway's hooks give an answer it writes itself (a hijacked reply: proxied
 * responses, upstream failures, the socket relay's refusals): the security set, then what the
 * hooks set on the reply (CORS, rate limit), which wins where both have a header.
 */
export function hookHeaders(reply: FastifyReply): OutgoingHttpHeaders {
  return { ...reply.server.securityHeaders, ...(reply.getHeaders() as OutgoingHttpHeaders) }
}
