import type { Static, TSchema } from 'typebox'
import { UserRegistered, UserUpdated } from './auth.ts'
import { ChatMessageCreated, PresenceChanged } from './chat.ts'
import { MediaDeleted, MediaUploaded } from './media.ts'
import { FollowChanged, PostDeleted, PostShared, PostSnapshot, PostWritten, ProfileUpdated } from './social.ts'

/**
 * The event catalogue: one entry per type, keyed by type, each with its subject, schema and
 * version. Subjects are namespaced at runtime (`<namespace>.<subject>`) so stacks sharing a
 * NATS server never see each other's events. docs/events.md documents each entry.
 */
export const events = {
  'auth.user.registered': { subject: 'auth.user.registered', version: 1, schema: UserRegistered },
  'auth.user.updated': { subject: 'auth.user.updated', version: 1, schema: UserUpdated },
  'media.uploaded': { subject: 'media.uploaded', version: 1, schema: MediaUploaded },
  'media.deleted': { subject: 'media.deleted', version: 1, schema: MediaDeleted },
  'social.profile.updated': { subject: 'social.profile.updated', version: 1, schema: ProfileUpdated },
  'social.follow.created': { subject: 'social.follow.created', version: 1, schema: FollowChanged },
  'social.follow.deleted': { subject: 'social.follow.deleted', version: 1, schema: FollowChanged },
  'social.post.created': { subject: 'social.post.created', version: 1, schema: PostWritten },
  'social.post.updated': { subject: 'social.post.updated', version: 1, schema: PostWritten },
  'social.post.deleted': { subject: 'social.post.deleted', version: 1, schema: PostDeleted },
  'social.post.shared': { subject: 'social.post.shared', version: 1, schema: PostShared },
  'chat.presence.changed': { subject: 'chat.presence.changed', version: 1, schema: PresenceChanged },
  'chat.message.created': { subject: 'chat.message.created', version: 1, schema: ChatMessageCreated },
} as const satisfies Record<string, { subject: string; version: number; schema: TSchema }>

export type EventType = keyof typeof events
export type EventPayload<K extends EventType> = Static<(typeof events)[K]['schema']>

export * from './envelope.ts'
export {
  ChatMessageCreated,
  FollowChanged,
  MediaDeleted,
  MediaUploaded,
  PostDeleted,
  PostShared,
  PostSnapshot,
  PostWritten,
  PresenceChanged,
  ProfileUpdated,
  UserRegistered,
  UserUpdated,
}
