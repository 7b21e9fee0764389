import type { EventPayload, Profile, UpdateProfileBody } from '@sm/contracts'
import { type AuthUser, enqueueEvent, notFound, type OutboxRelay } from '@sm/platform'
import type { Kysely, Transaction } from 'kysely'
import type { ProfileRow, SocialDatabase } from '../db/database.ts'
import { followFlags } from '../repositories/follows.repository.ts'
import {
  findProfileById,
  findProfileByUsername,
  findProfileForUpdate,
  insertProfileIfMissing,
  updateProfile,
} from '../repositories/profiles.repository.ts'
import type { MediaClient } from './media.client.ts'
import { profileEvent, toProfile } from './summaries.ts'

const PRODUCER = 'social'
const KNOWN_CACHE_SIZE = 50_000

/** Nickname and bio are trimmed; an empty one clears the field. */
const blankToNull = (value: string | null) => (value === null || value.trim() === '' ? null : value.trim())

export const avatarRef = (userId: string) => `avatar:${userId}`

export interface ProfilesDeps {
  db: Kysely<SocialDatabase>
  relay: OutboxRelay
  media: MediaClient
}

/** Profiles: created from auth's events (or a token's claims on first use), edited by their owner. */
export class ProfilesService {
  readonly #deps: ProfilesDeps
  /** Ids whose profile is known to exist, so `ensure` costs nothing on the hot path. */
  readonly #known = new Set<string>()

  constructor(deps: ProfilesDeps) {
    this.#deps = deps
  }

  /**
   * The caller's profile exists after this, even when auth's `registered` event has not been
   * consumed yet: it is created from the token's claims (the event later fills the nickname).
   */
  async ensure(user: Pick<AuthUser, 'id' | 'username'>, requestId?: string): Promise<void> {
    if (this.#known.has(user.id)) return
    const { db, relay } = this.#deps
    const created = await db.transaction().execute(async (trx) => {
      const row = await insertProfileIfMissing(trx, { id: user.id, username: user.username, nickname: null, createdAt: new Date() })
      if (row) await enqueueEvent(trx, PRODUCER, 'social.profile.updated', profileEvent(row), requestId)
      return row
    })
    if (created) relay.kick()
    if (this.#known.size >= KNOWN_CACHE_SIZE) this.#known.clear()
    this.#known.add(user.id)
  }

  /** `auth.user.registered`: create the profile, or fill the nickname of one created from a token. */
  async applyRegistered(trx: Transaction<SocialDatabase>, event: EventPayload<'auth.user.registered'>, requestId?: string): Promise<void> {
    const created = await insertProfileIfMissing(trx, {
      id: event.userId,
      username: event.username,
      nickname: event.nickname,
      createdAt: new Date(event.createdAt),
    })
    if (created) {
      await enqueueEvent(trx, PRODUCER, 'social.profile.updated', profileEvent(created), requestId)
      return
    }
    const existing = await findProfileForUpdate(trx, event.userId)
    // Created from a token first: the token has no nickname and its time is later than the account's.
    if (
      existing &&
      existing.version === 1 &&
      existing.nickname === null &&
      (event.nickname !== null || existing.createdAt > new Date(event.createdAt))
    ) {
      const row = await updateProfile(trx, event.userId, { nickname: event.nickname, createdAt: new Date(event.createdAt) })
      await enqueueEvent(trx, PRODUCER, 'social.profile.updated', profileEvent(row), requestId)
    }
  }

  /** `auth.user.updated`: follow the username change (creating the profile if it is missing). */
  async applyUsernameChanged(
    trx: Transaction<SocialDatabase>,
    event: EventPayload<'auth.user.updated'>,
    requestId?: string,
  ): Promise<void> {
    const existing = await findProfileForUpdate(trx, event.userId)
    let row: ProfileRow | undefined
    if (!existing) {
      row = await insertProfileIfMissing(trx, {
        id: event.userId,
        username: event.username,
        nickname: null,
        createdAt: new Date(event.updatedAt),
      })
    } else if (existing.username !== event.username) {
      row = await updateProfile(trx, event.userId, { username: event.username })
    }
    if (row) await enqueueEvent(trx, PRODUCER, 'social.profile.updated', profileEvent(row), requestId)
  }

  async byUsername(username: string, viewerId?: string): Promise<Profile> {
    const row = await findProfileByUsername(this.#deps.db, username)
    if (!row) throw notFound(`no user named ${username}`, 'USER_NOT_FOUND')
    return this.#withFlags(row, viewerId)
  }

  async byId(id: string, viewerId?: string): Promise<Profile> {
    const row = await findProfileById(this.#deps.db, id)
    if (!row) throw notFound('user not found', 'USER_NOT_FOUND')
    return this.#withFlags(row, viewerId)
  }

  async #withFlags(row: ProfileRow, viewerId?: string): Promise<Profile> {
    const profile = toProfile(row)
    if (!viewerId) return profile
    if (viewerId === row.id) return { ...profile, isFollowing: false, followsYou: false }
    return { ...profile, ...(await followFlags(this.#deps.db, viewerId, row.id)) }
  }

  async update(user: AuthUser, body: UpdateProfileBody, requestId: string): Promise<Profile> {
    await this.ensure(user, requestId)
    const { db, relay, media } = this.#deps
    const ref = avatarRef(user.id)
    const newAvatar = body.avatarMediaId ? (await media.claim(user.id, 'avatar', [body.avatarMediaId], ref))[0] : undefined
    const patch = {
      ...(body.nickname !== undefined && { nickname: blankToNull(body.nickname) }),
      ...(body.bio !== undefined && { bio: blankToNull(body.bio) }),
      ...(body.avatarMediaId !== undefined && { avatarMediaId: newAvatar?.id ?? null, avatarUrl: newAvatar?.url ?? null }),
    }
    let previousAvatar: string | null = null
    const row = await db
      .transaction()
      .execute(async (trx) => {
        const current = await findProfileForUpdate(trx, user.id)
        if (!current) throw notFound('user not found', 'USER_NOT_FOUND')
        const changed = Object.entries(patch).some(([key, value]) => current[key as keyof ProfileRow] !== value)
        if (!changed) return current
        previousAvatar = current.avatarMediaId
        const updated = await updateProfile(trx, user.id, patch)
        await enqueueEvent(trx, PRODUCER, 'social.profile.updated', profileEvent(updated), requestId)
        return updated
      })
      .catch(async (error: unknown) => {
        if (newAvatar) await media.release([newAvatar.id], ref)
        throw error
      })
    relay.kick()
    if (previousAvatar && previousAvatar !== row.avatarMediaId) await media.release([previousAvatar], ref)
    return { ...toProfile(row), isFollowing: false, followsYou: false }
  }
}
