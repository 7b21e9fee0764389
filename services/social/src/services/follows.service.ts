import type { AuthUser } from '@sm/platform'
import { badRequest, enqueueEvent, notFound, type OutboxRelay } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import { decodeCursor, toPage } from '../lib/cursor.ts'
import { deleteFollow, findFollowPage, insertFollow } from '../repositories/follows.repository.ts'
import { bumpProfileCounters, findProfileByUsername } from '../repositories/profiles.repository.ts'
import type { ProfilesService } from './profiles.service.ts'

const PRODUCER = 'social'

export interface FollowsDeps {
  db: Kysely<SocialDatabase>
  relay: OutboxRelay
  profiles: ProfilesService
  fanoutFollowerLimit: number
}

/** Follow graph: idempotent changes, exact counters, keyset lists. */
export class FollowsService {
  readonly #deps: FollowsDeps

  constructor(deps: FollowsDeps) {
    this.#deps = deps
  }

  async #target(user: AuthUser, username: string, requestId: string) {
    await this.#deps.profiles.ensure(user, requestId)
    const target = await findProfileByUsername(this.#deps.db, username)
    if (!target) throw notFound(`no user named ${username}`, 'USER_NOT_FOUND')
    if (target.id === user.id) throw badRequest('CANNOT_FOLLOW_SELF', 'you cannot follow yourself')
    return target
  }

  async follow(user: AuthUser, username: string, requestId: string): Promise<void> {
    const target = await this.#target(user, username, requestId)
    const { db, relay, fanoutFollowerLimit } = this.#deps
    const at = new Date()
    const created = await db.transaction().execute(async (trx) => {
      if (!(await insertFollow(trx, user.id, target.id, at))) return false
      // Both counter rows are locked in id order, so crossing follows cannot deadlock.
      for (const id of [user.id, target.id].sort()) {
        if (id === target.id) await bumpProfileCounters(trx, id, { followers: 1 }, fanoutFollowerLimit)
        else await bumpProfileCounters(trx, id, { following: 1 })
      }
      await enqueueEvent(
        trx,
        PRODUCER,
        'social.follow.created',
        { followerId: user.id, followeeId: target.id, at: at.toISOString() },
        requestId,
      )
      return true
    })
    if (created) relay.kick()
  }

  async unfollow(user: AuthUser, username: string, requestId: string): Promise<void> {
    const target = await this.#target(user, username, requestId)
    const { db, relay } = this.#deps
    const at = new Date()
    const deleted = await db.transaction().execute(async (trx) => {
      if (!(await deleteFollow(trx, user.id, target.id))) return false
      for (const id of [user.id, target.id].sort()) {
        await bumpProfileCounters(trx, id, id === target.id ? { followers: -1 } : { following: -1 })
      }
      await enqueueEvent(
        trx,
        PRODUCER,
        'social.follow.deleted',
        { followerId: user.id, followeeId: target.id, at: at.toISOString() },
        requestId,
      )
      return true
    })
    if (deleted) relay.kick()
  }

  async list(side: 'followers' | 'following', username: string, query: { limit?: number; cursor?: string }) {
    const cursor = decodeCursor(query.cursor)
    const limit = query.limit ?? 20
    const profile = await findProfileByUsername(this.#deps.db, username)
    if (!profile) throw notFound(`no user named ${username}`, 'USER_NOT_FOUND')
    const rows = await findFollowPage(this.#deps.db, side, profile.id, cursor, limit)
    return toPage(
      rows,
      limit,
      (row) => ({ createdAt: row.followedAt, id: row.id }),
      (row) => ({ id: row.id, username: row.username, nickname: row.nickname, avatarUrl: row.avatarUrl }),
    )
  }
}
