import { Type } from 'typebox'

const Id = Type.String({ format: 'uuid' })
const Time = Type.String({ format: 'date-time' })

export const PresenceChanged = Type.Object({
  userId: Id,
  online: Type.Boolean(),
  lastSeenAt: Type.Union([Time, Type.Null()]),
})

/** Metadata only: message text never leaves chat. */
export const ChatMessageCreated = Type.Object({
  messageId: Id,
  conversationId: Id,
  seq: Type.Integer({ minimum: 1 }),
  senderId: Id,
  recipientId: Id,
  kind: Type.String(),
  createdAt: Time,
})
