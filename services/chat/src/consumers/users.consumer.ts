import type { EventPayload } from '@sm/contracts'
import { applyOnce, type Bus, type Log, type RunningConsumer, startConsumer } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { ChatDatabase } from '../db/database.ts'
import { applyProfile, updateUsername, upsertRegistered } from '../repositories/users.repository.ts'

const DURABLE = 'chat-users'

/** Keeps chat's copy of user summaries (username, nickname, avatar) current. */
export function startUsersConsumer(db: Kysely<ChatDatabase>, bus: Bus, log: Log): Promise<RunningConsumer> {
  return startConsumer({
    bus,
    durable: DURABLE,
    log,
    types: ['auth.user.registered', 'auth.user.updated', 'social.profile.updated'] as const,
    handler: async (event) => {
      await applyOnce(db, DURABLE, event.id, async (trx) => {
        if (event.type === 'auth.user.registered') {
          const data = event.data as EventPayload<'auth.user.registered'>
          await upsertRegistered(trx, { id: data.userId, username: data.username, nickname: data.nickname })
        } else if (event.type === 'auth.user.updated') {
          const data = event.data as EventPayload<'auth.user.updated'>
          await updateUsername(trx, data.userId, data.username)
        } else {
          await applyProfile(trx, event.data as EventPayload<'social.profile.updated'>)
        }
      })
    },
  })
}
