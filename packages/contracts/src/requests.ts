import { Type } from 'typebox'
import { MediaPurpose, MediaRef } from './common.ts'
import { JwkSet } from './http/auth.ts'

const Id = Type.String({ format: 'uuid' })

/**
 * `media.claim`: "do these uploads belong to `userId` with `purpose`? then attach them to
 * `ref`". Claiming is idempotent for the same (owner, purpose, ref) and refused for media
 * claimed elsewhere. `audience` (chat) lists the users who may read the media besides its
 * owner. Errors: MEDIA_NOT_FOUND, MEDIA_FORBIDDEN (someone else's), MEDIA_WRONG_PURPOSE,
 * MEDIA_ALREADY_CLAIMED.
 */
/**
 * The HTTP status a client gets for each `media.*` refusal when it passes through a service: a
 * bad reference is the caller's mistake (400), someone else's media a 403.
 */
export const mediaErrorStatus: Readonly<Record<string, number>> = {
  MEDIA_NOT_FOUND: 400,
  MEDIA_WRONG_PURPOSE: 400,
  MEDIA_ALREADY_CLAIMED: 400,
  MEDIA_FORBIDDEN: 403,
  VALIDATION: 400,
}

export const MediaClaimRequest = Type.Object({
  userId: Id,
  purpose: MediaPurpose,
  ids: Type.Array(Id, { maxItems: 10 }),
  ref: Type.String({ maxLength: 200 }),
  audience: Type.Optional(Type.Array(Id, { maxItems: 10 })),
})
export const MediaRefList = Type.Object({ items: Type.Array(MediaRef) })

/** `media.get`: refs for ids, in order, unknown ids left out; chat media URLs are signed for `viewerId`. */
export const MediaGetRequest = Type.Object({
  ids: Type.Array(Id, { maxItems: 100 }),
  viewerId: Type.Optional(Id),
})

/** `media.release`: the claiming service no longer needs these (post or message deleted); bytes go. */
export const MediaReleaseRequest = Type.Object({
  ids: Type.Array(Id, { maxItems: 100 }),
  ref: Type.String({ maxLength: 200 }),
})
export const MediaReleaseReply = Type.Object({ released: Type.Integer({ minimum: 0 }) })

/**
 * Request-reply subjects (core NATS, namespaced at runtime). Replies are
 * `{ ok: true, data } | { ok: false, error: { code, message } }`.
 */
export const requests = {
  'auth.jwks': { subject: 'auth.jwks', request: Type.Object({}), reply: JwkSet },
  'media.claim': { subject: 'media.claim', request: MediaClaimRequest, reply: MediaRefList },
  'media.get': { subject: 'media.get', request: MediaGetRequest, reply: MediaRefList },
  'media.release': { subject: 'media.release', request: MediaReleaseRequest, reply: MediaReleaseReply },
} as const
