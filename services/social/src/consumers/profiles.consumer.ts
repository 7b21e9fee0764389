import type { EventPayload } from '@sm/contracts'
import { applyOnce, type Bus, type Log, type OutboxRelay, type RunningConsumer, startConsumer } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { SocialDatabase } from '../db/database.ts'
import type { ProfilesService } from '../services/profiles.service.ts'

const DURABLE = 'social-profiles'

/** auth.user.registered / auth.user.updated → local profile rows (once per event, in one transaction). */
export function startProfilesConsumer(deps: {
  bus: Bus
  db: Kysely<SocialDatabase>
  profiles: ProfilesService
  relay: OutboxRelay
  log: Log
}): Promise<RunningConsumer> {
  const { bus, db, profiles, relay, log } = deps
  return startConsumer({
    bus,
    durable: DURABLE,
    types: ['auth.user.registered', 'auth.user.updated'],
    log,
    handler: async (event, meta) => {
      const applied = await applyOnce(db, DURABLE, event.id, async (trx) => {
        if (event.type === 'auth.user.registered') {
          await profiles.applyRegistered(trx, event.data as EventPayload<'auth.user.registered'>, meta.requestId)
        } else {
          await profiles.applyUsernameChanged(trx, event.data as EventPayload<'auth.user.updated'>, meta.requestId)
        }
      })
      if (applied) relay.kick()
    },
  })
}
