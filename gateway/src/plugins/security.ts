import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
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
 * Security headers and CORS for every response, proxied ones included. Registered first so that
 * even a 429 or 413 carries CORS headers (a browser app can only read those errors with them).
 */
export const securityPlugin = fp<SecurityOptions>(
  async (app: FastifyInstance, opts) => {
    // helmet's middleware is built once here. (@fastify/helmet rebuilds it, CSP parsing and all,
    // on every request: a measurable share of the gateway's CPU on a hot route.)
    const securityHeaders = helmet({
      // The API answers JSON and media, never documents that load scripts: the tightest policy
      // fits. /docs (Swagger UI) sets its own policy with the hashes of its inline code.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
      },
      // Media URLs are loaded by web apps on other origins (<img src>, <video src>).
      crossOriginResourcePolicy: { policy: 'cross-origin' },
    })
    app.addHook('onRequest', (request, reply, done) => {
      securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined))
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
