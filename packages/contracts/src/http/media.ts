import { type Static, Type } from 'typebox'
import { MediaPurpose } from '../common.ts'

// API.md › Media. The MediaRef itself lives in common.ts (social and chat embed it).

/**
 * POST /media is multipart: a `purpose` field, then the `file` part. `purpose` may also come
 * as `?purpose=`; a form field sent after the file is too late (the file has been streamed).
 */
export const MediaUploadQuery = Type.Object({ purpose: Type.Optional(MediaPurpose) }, { additionalProperties: false })
export type MediaUploadQuery = Static<typeof MediaUploadQuery>

/** GET /media/:id/content: chat media need `exp` + `sig` (from a MediaRef url) or a member's bearer token. */
export const MediaContentQuery = Type.Object({
  exp: Type.Optional(Type.Integer({ minimum: 0 })),
  sig: Type.Optional(Type.String({ maxLength: 128 })),
})
export type MediaContentQuery = Static<typeof MediaContentQuery>

/** The multipart form, for OpenAPI and clients. */
export const MediaUploadForm = Type.Object({
  purpose: MediaPurpose,
  file: Type.String({ format: 'binary' }),
})
