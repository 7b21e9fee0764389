import fastifyJwt from '@fastify/jwt'
import type { AccessClaims } from '@sm/contracts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { BaseConfig } from '../config.ts'
import { HttpError, unauthorized } from '../errors.ts'
import type { PublicKeyStore } from '../keys.ts'

/** The caller as every route sees it, taken from a verified access token. */
export interface AuthUser {
  id: string
  username: string
  tokenId: string
  /** The login session (refresh-token family) the token was minted for. */
  sessionId?: string
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims
    user: AuthUser
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for 🔒 routes: 401 unless a valid access token is presented. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** preHandler for routes where a token is optional: sets request.user when one is valid. */
    identify: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}

export interface AuthPluginOptions {
  keys: PublicKeyStore
  issuer: string
  audience: string
  /** Verified tokens remembered (see JWT_CACHE_SIZE); 0 checks every signature. Default 10,000. */
  cacheSize?: number
}

/** The plugin's options as every service sets them: its key store and its `JWT_*` settings. */
export function authOptions(
  keys: PublicKeyStore,
  config: Pick<BaseConfig, 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_CACHE_SIZE'>,
): AuthPluginOptions {
  return { keys, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, cacheSize: config.JWT_CACHE_SIZE }
}

export const ALGORITHMS = ['EdDSA'] as const

/**
 * Verifies access tokens in every service (not only at the gateway), so a service reached
 * directly is just as safe. The algorithm list is pinned (no `none`, no HS* key confusion),
 * and `iss`, `aud`, `exp` and `typ: access` are all required.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app: FastifyInstance, opts) => {
    // Requests whose key lookup failed (auth or NATS unreachable): a 503, not a bogus 401.
    const keysUnavailable = new WeakSet<FastifyRequest>()
    await app.register(fastifyJwt, {
      secret: {
        public: async (request: FastifyRequest, token: unknown) => {
          const header = (token as { header?: { kid?: string } }).header
          const key = await opts.keys.keyFor(header?.kid).catch((error: unknown) => {
            keysUnavailable.add(request)
            throw error
          })
          if (!key) throw unauthorized('unknown signing key', 'INVALID_TOKEN')
          return key
        },
      },
      decode: { complete: true },
      verify: {
        algorithms: [...ALGORITHMS],
        allowedIss: opts.issuer,
        allowedAud: opts.audience,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'typ'],
        // A verified token is remembered (by its hash, until it expires): a signed-in client
        // sends the same token with every request, and checking an EdDSA signature each time was
        // 12% of a feed read's CPU. Forged or altered tokens hash differently and are verified.
        cache: opts.cacheSize ?? 10_000,
      },
      // A refresh token, an OTP or any other token kind can never pass for an access token.
      trusted: (_request, decoded) => {
        const payload = (decoded.payload ?? decoded) as { typ?: unknown }
        return payload.typ === 'access'
      },
      formatUser: (payload) => ({ id: payload.sub, username: payload.username, tokenId: payload.jti, sessionId: payload.sid }),
    })

    async function verify(request: FastifyRequest): Promise<void> {
      try {
        await request.jwtVerify()
      } catch (error) {
        if (keysUnavailable.has(request)) {
          request.log.error({ err: error }, 'token verification keys unavailable')
          throw new HttpError(503, 'UPSTREAM_UNAVAILABLE', 'token keys are unavailable; retry shortly', { 'retry-after': '1' })
        }
        const code = (error as { code?: string }).code
        if (code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER') throw unauthorized('missing bearer token')
        if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') throw unauthorized('token expired', 'TOKEN_EXPIRED')
        throw unauthorized('invalid token', 'INVALID_TOKEN')
      }
    }

    app.decorate('authenticate', async (request: FastifyRequest) => {
      await verify(request)
    })
    app.decorate('identify', async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.headers.authorization) return
      await app.authenticate(request, reply)
    })
  },
  { name: 'sm-auth' },
)
