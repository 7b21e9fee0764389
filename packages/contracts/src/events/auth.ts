import { Type } from 'typebox'

export const UserRegistered = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  username: Type.String(),
  nickname: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
})

export const UserUpdated = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  username: Type.String(),
  previousUsername: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
})
