import { Type } from 'typebox'
import { MediaKind, MediaPurpose } from '../common.ts'

export const MediaUploaded = Type.Object({
  mediaId: Type.String({ format: 'uuid' }),
  ownerId: Type.String({ format: 'uuid' }),
  purpose: MediaPurpose,
  kind: MediaKind,
  mime: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  uploadedAt: Type.String({ format: 'date-time' }),
})

/** The bytes are gone (owner delete, release by the claiming service, or the unclaimed sweep). */
export const MediaDeleted = Type.Object({
  mediaId: Type.String({ format: 'uuid' }),
  ownerId: Type.String({ format: 'uuid' }),
  purpose: MediaPurpose,
  reason: Type.Union([Type.Literal('owner'), Type.Literal('released'), Type.Literal('unclaimed')]),
  deletedAt: Type.String({ format: 'date-time' }),
})
