import type { MediaRef } from '@sm/contracts'
import type { OutboxTable, ProcessedEventsTable } from '@sm/platform'
import type { Generated, Selectable } from 'kysely'

/** One row per user, created from `auth.user.registered` or from a token's claims on first use. */
export interface ProfilesTable {
  id: string
  username: string
  nickname: string | null
  bio: string | null
  avatarMediaId: string | null
  avatarUrl: string | null
  followersCount: Generated<number>
  followingCount: Generated<number>
  postsCount: Generated<number>
  /** Sticky: once an author reaches FANOUT_FOLLOWER_LIMIT, their posts are merged into feeds at read time. */
  fanoutOnRead: Generated<boolean>
  /** Grows with every change; carried by `social.profile.updated` so readers can drop stale updates. */
  version: Generated<number>
  createdAt: Date
  updatedAt: Date
}

export interface FollowsTable {
  followerId: string
  followeeId: string
  createdAt: Date
}

export interface PostsTable {
  /** UUID v7; `created_at` is the id's own timestamp, so (created_at, id) order equals id order. */
  id: string
  authorId: string
  text: string
  hashtags: string[]
  /** MediaRef snapshots returned by media.claim: reads need no RPC. */
  media: MediaRef[]
  likes: Generated<number>
  dislikes: Generated<number>
  commentsCount: Generated<number>
  views: Generated<number>
  shares: Generated<number>
  version: Generated<number>
  createdAt: Date
  editedAt: Date | null
}

export interface PostHashtagsTable {
  tag: string
  postId: string
  createdAt: Date
}

export interface PostVotesTable {
  postId: string
  userId: string
  value: number
}

export interface CommentsTable {
  id: string
  postId: string
  parentId: string | null
  authorId: string
  text: string
  likes: Generated<number>
  dislikes: Generated<number>
  createdAt: Date
  editedAt: Date | null
}

export interface CommentVotesTable {
  commentId: string
  userId: string
  value: number
}

export interface SharesTable {
  id: string
  postId: string
  fromUserId: string
  toUserId: string
  comment: string | null
  createdAt: Date
}

export interface SocialDatabase {
  profiles: ProfilesTable
  follows: FollowsTable
  posts: PostsTable
  postHashtags: PostHashtagsTable
  postVotes: PostVotesTable
  comments: CommentsTable
  commentVotes: CommentVotesTable
  shares: SharesTable
  outbox: OutboxTable
  processedEvents: ProcessedEventsTable
}

export type ProfileRow = Selectable<ProfilesTable>
export type PostRow = Selectable<PostsTable>
export type CommentRow = Selectable<CommentsTable>
