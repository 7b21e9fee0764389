import type { EventPayload, Profile, UserSummary } from '@sm/contracts'
import type { ProfileRow } from '../db/database.ts'

export const toSummary = (row: Pick<ProfileRow, 'id' | 'username' | 'nickname' | 'avatarUrl'>): UserSummary => ({
  id: row.id,
  username: row.username,
  nickname: row.nickname,
  avatarUrl: row.avatarUrl,
})

export const toProfile = (row: ProfileRow): Profile => ({
  ...toSummary(row),
  bio: row.bio,
  followers: row.followersCount,
  following: row.followingCount,
  posts: row.postsCount,
  createdAt: row.createdAt.toISOString(),
})

export const profileEvent = (row: ProfileRow): EventPayload<'social.profile.updated'> => ({
  userId: row.id,
  username: row.username,
  nickname: row.nickname,
  bio: row.bio,
  avatarUrl: row.avatarUrl,
  version: row.version,
  updatedAt: row.updatedAt.toISOString(),
})
