import { Type } from 'typebox'
import { JwkSet } from './http/auth.ts'

/**
 * Request-reply subjects (core NATS, namespaced at runtime). Replies are
 * `{ ok: true, data } | { ok: false, error: { code, message } }`.
 */
export const requests = {
  'auth.jwks': { subject: 'auth.jwks', request: Type.Object({}), reply: JwkSet },
} as const
