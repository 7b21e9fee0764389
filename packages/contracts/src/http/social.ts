// API.md › Profiles and follows; Posts, votes, comments: HTTP bodies and replies of the social service.
import { type Static, Type } from 'typebox'
import { MediaRef, Page, PageQuery, UserSummary, Uuid } from '../common.ts'
import { Username } from './auth.ts'

const closed = { additionalProperties: false } as const
const Time = Type.String({ format: 'date-time' })
const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const SOCIAL_LIMITS = {
  nickname: 50,
  bio: 300,
  postText: 5_000,
  postMedia: 10,
  commentText: 2_000,
  shareComment: 1_000,
  hashtag: 64,
} as const

export const UsernameParams = Type.Object({ username: Username })
export type UsernameParams = Static<typeof UsernameParams>

export const TagParams = Type.Object({
  tag: Type.String({ minLength: 1, maxLength: SOCIAL_LIMITS.hashtag, pattern: '^[\\p{L}\\p{N}_]+$' }),
})
export type TagParams = Static<typeof TagParams>

export const SocialPageQuery = PageQuery
export type SocialPageQuery = Static<typeof SocialPageQuery>

export const Profile = Type.Object({
  id: Uuid,
  username: Type.String(),
  nickname: Nullable(Type.String()),
  bio: Nullable(Type.String()),
  avatarUrl: Nullable(Type.String()),
  followers: Type.Integer({ minimum: 0 }),
  following: Type.Integer({ minimum: 0 }),
  posts: Type.Integer({ minimum: 0 }),
  createdAt: Time,
  /** Only with a token: does the caller follow this user / does this user follow the caller. */
  isFollowing: Type.Optional(Type.Boolean()),
  followsYou: Type.Optional(Type.Boolean()),
})
export type Profile = Static<typeof Profile>

export const UpdateProfileBody = Type.Object(
  {
    nickname: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: SOCIAL_LIMITS.nickname }))),
    bio: Type.Optional(Nullable(Type.String({ maxLength: SOCIAL_LIMITS.bio }))),
    /** The caller's own media uploaded with purpose `avatar`; null removes the picture. */
    avatarMediaId: Type.Optional(Nullable(Uuid)),
  },
  closed,
)
export type UpdateProfileBody = Static<typeof UpdateProfileBody>

export const UserSummaryPage = Page(UserSummary)
export type UserSummaryPage = Static<typeof UserSummaryPage>

export const VoteValue = Type.Union([Type.Literal(1), Type.Literal(-1), Type.Literal(0)])
export type VoteValue = Static<typeof VoteValue>

export const Post = Type.Object({
  id: Uuid,
  author: UserSummary,
  text: Type.String(),
  hashtags: Type.Array(Type.String()),
  media: Type.Array(MediaRef),
  likes: Type.Integer({ minimum: 0 }),
  dislikes: Type.Integer({ minimum: 0 }),
  comments: Type.Integer({ minimum: 0 }),
  views: Type.Integer({ minimum: 0 }),
  shares: Type.Integer({ minimum: 0 }),
  /** The caller's vote; 0 without a token. */
  myVote: VoteValue,
  createdAt: Time,
  editedAt: Nullable(Time),
})
export type Post = Static<typeof Post>

export const PostPage = Page(Post)
export type PostPage = Static<typeof PostPage>

const MediaIds = Type.Array(Uuid, { maxItems: SOCIAL_LIMITS.postMedia, uniqueItems: true })

/** Text or media is required (checked by the service: 400 EMPTY_POST). */
export const CreatePostBody = Type.Object(
  { text: Type.Optional(Type.String({ maxLength: SOCIAL_LIMITS.postText })), mediaIds: Type.Optional(MediaIds) },
  closed,
)
export type CreatePostBody = Static<typeof CreatePostBody>

/** Omitted fields stay as they are; `mediaIds` replaces the whole list (media left out are released). */
export const UpdatePostBody = Type.Object(
  { text: Type.Optional(Type.String({ maxLength: SOCIAL_LIMITS.postText })), mediaIds: Type.Optional(MediaIds) },
  { ...closed, minProperties: 1 },
)
export type UpdatePostBody = Static<typeof UpdatePostBody>

export const VoteBody = Type.Object({ value: VoteValue }, closed)
export type VoteBody = Static<typeof VoteBody>

export const VoteResult = Type.Object({ likes: Type.Integer({ minimum: 0 }), dislikes: Type.Integer({ minimum: 0 }), myVote: VoteValue })
export type VoteResult = Static<typeof VoteResult>

export const Comment = Type.Object({
  id: Uuid,
  postId: Uuid,
  parentId: Nullable(Uuid),
  author: UserSummary,
  text: Type.String(),
  likes: Type.Integer({ minimum: 0 }),
  dislikes: Type.Integer({ minimum: 0 }),
  myVote: VoteValue,
  createdAt: Time,
  editedAt: Nullable(Time),
})
export type Comment = Static<typeof Comment>

export const CommentPage = Page(Comment)
export type CommentPage = Static<typeof CommentPage>

export const CreateCommentBody = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: SOCIAL_LIMITS.commentText }), parentId: Type.Optional(Uuid) },
  closed,
)
export type CreateCommentBody = Static<typeof CreateCommentBody>

export const UpdateCommentBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: SOCIAL_LIMITS.commentText }) }, closed)
export type UpdateCommentBody = Static<typeof UpdateCommentBody>

export const SharePostBody = Type.Object(
  { toUserId: Uuid, comment: Type.Optional(Type.String({ maxLength: SOCIAL_LIMITS.shareComment })) },
  closed,
)
export type SharePostBody = Static<typeof SharePostBody>

export const ShareAccepted = Type.Object({ shareId: Uuid, shares: Type.Integer({ minimum: 0 }) })
export type ShareAccepted = Static<typeof ShareAccepted>

const LikesDislikes = Type.Object({ likes: Type.Integer({ minimum: 0 }), dislikes: Type.Integer({ minimum: 0 }) })

export const MyAnalytics = Type.Object({
  posts: Type.Integer({ minimum: 0 }),
  views: Type.Integer({ minimum: 0 }),
  likesReceived: Type.Integer({ minimum: 0 }),
  dislikesReceived: Type.Integer({ minimum: 0 }),
  commentsReceived: Type.Integer({ minimum: 0 }),
  sharesReceived: Type.Integer({ minimum: 0 }),
  votesGiven: LikesDislikes,
  commentsWritten: Type.Integer({ minimum: 0 }),
  commentVotesReceived: LikesDislikes,
  /** (likes + dislikes + comments + shares) / views over the caller's posts; 0 without views. */
  engagementRate: Type.Number({ minimum: 0 }),
  /** Up to 5 posts with the most engagement. */
  topPosts: Type.Array(Post),
})
export type MyAnalytics = Static<typeof MyAnalytics>

export const PostAnalytics = Type.Object({
  views: Type.Integer({ minimum: 0 }),
  uniqueViewers: Type.Integer({ minimum: 0 }),
  likes: Type.Integer({ minimum: 0 }),
  dislikes: Type.Integer({ minimum: 0 }),
  comments: Type.Integer({ minimum: 0 }),
  shares: Type.Integer({ minimum: 0 }),
  engagementRate: Type.Number({ minimum: 0 }),
})
export type PostAnalytics = Static<typeof PostAnalytics>
