import type { EventPayload } from '@sm/contracts'
import { type Bus, type Log, type RunningConsumer, startConsumer } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import { findFanoutFollowerIds, findFollowerIds } from '../repositories/follows.repository.ts'
import { findAuthorPostIds } from '../repositories/posts.repository.ts'
import { findProfileById } from '../repositories/profiles.repository.ts'
import type { TimelineStore } from '../services/timeline.store.ts'

const DURABLE = 'social-timeline'
const FOLLOWER_PAGE = 500

/**
 * Fan-out on write, from the event path (never inside a request): new posts go into the
 * timelines of the author and their followers; a follow adds the followee's newest posts, an
 * unfollow takes them out; a deleted post leaves every timeline. Redis ZADD/ZREM are
 * idempotent, so a redelivered event changes nothing.
 */
export function startTimelineConsumer(deps: {
  bus: Bus
  db: Kysely<SocialDatabase>
  timelines: TimelineStore
  log: Log
}): Promise<RunningConsumer> {
  const { bus, db, timelines, log } = deps

  async function forEachFollowerPage(
    authorId: string,
    apply: (followerIds: string[], first: boolean) => Promise<void>,
    find = findFollowerIds,
  ): Promise<void> {
    let after: string | undefined
    for (let first = true; ; first = false) {
      const page = await find(db, authorId, after, FOLLOWER_PAGE)
      await apply(page, first)
      if (page.length < FOLLOWER_PAGE) return
      after = page.at(-1)
    }
  }

  // The hot one (every post): one query and, for most authors, one script call.
  async function postWritten(data: EventPayload<'social.post.created'>): Promise<void> {
    const authorId = data.author.id
    await forEachFollowerPage(
      authorId,
      (followerIds, first) => timelines.add(first ? [authorId, ...followerIds] : followerIds, [data.postId]),
      findFanoutFollowerIds,
    )
  }

  async function postDeleted(data: EventPayload<'social.post.deleted'>): Promise<void> {
    await timelines.remove([data.authorId], [data.postId])
    const author = await findProfileById(db, data.authorId)
    // Very-followed authors were never fanned out; reads skip deleted posts anyway.
    if (!author || author.fanoutOnRead) return
    await forEachFollowerPage(author.id, (followerIds) => timelines.remove(followerIds, [data.postId]))
  }

  async function followChanged(data: EventPayload<'social.follow.created'>, created: boolean): Promise<void> {
    const followee = await findProfileById(db, data.followeeId)
    if (!followee) return
    const ids = await findAuthorPostIds(db, data.followeeId, timelines.cap)
    if (!created) await timelines.remove([data.followerId], ids)
    else if (!followee.fanoutOnRead) await timelines.add([data.followerId], ids, ids.length >= timelines.cap)
  }

  return startConsumer({
    bus,
    durable: DURABLE,
    types: ['social.post.created', 'social.post.deleted', 'social.follow.created', 'social.follow.deleted'],
    log,
    handler: async (event) => {
      switch (event.type) {
        case 'social.post.created':
          return postWritten(event.data as EventPayload<'social.post.created'>)
        case 'social.post.deleted':
          return postDeleted(event.data as EventPayload<'social.post.deleted'>)
        case 'social.follow.created':
          return followChanged(event.data as EventPayload<'social.follow.created'>, true)
        default:
          return followChanged(event.data as EventPayload<'social.follow.deleted'>, false)
      }
    },
  })
}
