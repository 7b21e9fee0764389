import type { ChatMessage, ServerFrame } from '@sm/contracts'
import type { Transaction } from 'kysely'
import type { ChatDatabase, MessageRow } from '../db/database.ts'
import { appendEvents, type LoggedEvent, type NewEvent } from '../repositories/events.repository.ts'
import type { ChatServiceDeps } from './chat.service.ts'
import { encodeCursor, renderMessage, withFreshMedia } from './views.ts'

/** Appends the same entry to every member's log of a conversation. */
export async function toMembers(trx: Transaction<ChatDatabase>, conversationId: string, type: string, payload: Record<string, unknown>) {
  const members = await trx.selectFrom('members').select('userId').where('conversationId', '=', conversationId).execute()
  return appendEvents(
    trx,
    members.map((m): NewEvent => ({ userId: m.userId, type, payload })),
  )
}

/** Sends committed log entries to their users (media URLs signed for each recipient). */
export async function publishLogged(
  deps: Pick<ChatServiceDeps, 'media' | 'delivery'>,
  logged: LoggedEvent[],
  skip?: { userId: string; connId: string },
): Promise<void> {
  await Promise.all(
    logged.map(async (event) => {
      const frame = { ...event.payload, cursor: encodeCursor(event.seq) } as ServerFrame & { message?: ChatMessage }
      const [fresh] = await withFreshMedia(deps.media, event.userId, [frame])
      const except = skip && skip.userId === event.userId ? skip.connId : undefined
      await deps.delivery.send(event.userId, { frame: fresh as ServerFrame, seq: event.seq, ...(except ? { except } : {}) })
    }),
  )
}

/** One message as `viewerId` sees it. */
export async function viewFor(deps: Pick<ChatServiceDeps, 'db' | 'media'>, viewerId: string, row: MessageRow): Promise<ChatMessage> {
  const message = await renderMessage(deps.db, row)
  const [fresh] = await withFreshMedia(deps.media, viewerId, [{ message }])
  return fresh?.message ?? message
}
