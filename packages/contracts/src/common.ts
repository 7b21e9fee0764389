import { type Static, Type } from 'typebox'

/** The error body every service and the gateway return: `code` is part of the contract. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }),
    error: Type.String(),
    message: Type.String(),
  },
  { $id: 'ErrorBody' },
)
export type ErrorBody = Static<typeof ErrorBody>

export const Uuid = Type.String({ format: 'uuid' })

export const IdParams = Type.Object({ id: Uuid })

/** Keyset pagination query shared by every list route. */
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
})

export const Page = <T extends Type.TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) })

/** Embedded wherever a user appears. */
export const UserSummary = Type.Object({
  id: Uuid,
  username: Type.String(),
  nickname: Type.Union([Type.String(), Type.Null()]),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
})
export type UserSummary = Static<typeof UserSummary>

export const MediaKind = Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('audio'), Type.Literal('document')])
export type MediaKind = Static<typeof MediaKind>

export const MediaPurpose = Type.Union([Type.Literal('avatar'), Type.Literal('post'), Type.Literal('chat')])
export type MediaPurpose = Static<typeof MediaPurpose>

/** API.md › Media. `url` is a gateway path; chat media URLs are signed and expire. */
export const MediaRef = Type.Object(
  {
    id: Uuid,
    kind: MediaKind,
    mime: Type.String(),
    size: Type.Integer({ minimum: 0 }),
    width: Type.Optional(Type.Integer({ minimum: 0 })),
    height: Type.Optional(Type.Integer({ minimum: 0 })),
    url: Type.String(),
  },
  { $id: 'MediaRef' },
)
export type MediaRef = Static<typeof MediaRef>
