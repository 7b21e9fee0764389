import { Type } from 'typebox'
import { MediaRef, UserSummary } from '../common.ts'

const Id = Type.String({ format: 'uuid' })
const Time = Type.String({ format: 'date-time' })

/** Everything a reader of profiles (search, chat) keeps about a user; `version` orders updates. */
export const ProfileUpdated = Type.Object({
  userId: Id,
  username: Type.String(),
  nickname: Type.Union([Type.String(), Type.Null()]),
  bio: Type.Union([Type.String(), Type.Null()]),
  avatarUrl: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer({ minimum: 1 }),
  updatedAt: Time,
})

export const FollowChanged = Type.Object({
  followerId: Id,
  followeeId: Id,
  at: Time,
})

/** What search indexes and the timelines fan out; `version` grows with every edit. */
export const PostWritten = Type.Object({
  postId: Id,
  author: UserSummary,
  text: Type.String(),
  hashtags: Type.Array(Type.String()),
  media: Type.Array(MediaRef),
  createdAt: Time,
  editedAt: Type.Union([Time, Type.Null()]),
  version: Type.Integer({ minimum: 1 }),
})

export const PostDeleted = Type.Object({
  postId: Id,
  authorId: Id,
  deletedAt: Time,
  version: Type.Integer({ minimum: 1 }),
})

/** A post snapshot as it appears inside a chat `post` message. */
export const PostSnapshot = Type.Object({
  id: Id,
  author: UserSummary,
  text: Type.String(),
  media: Type.Union([MediaRef, Type.Null()]),
  createdAt: Time,
})

export const PostShared = Type.Object({
  shareId: Id,
  fromUserId: Id,
  toUserId: Id,
  comment: Type.Union([Type.String(), Type.Null()]),
  post: PostSnapshot,
  sharedAt: Time,
})
