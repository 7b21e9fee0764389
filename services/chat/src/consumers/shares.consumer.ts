import type { EventPayload } from '@sm/contracts'
import { type Bus, type Log, type RunningConsumer, startConsumer } from '@sm/platform'
import type { ChatService } from '../services/chat.service.ts'

/**
 * social.post.shared → a `post` message from the sharer to the recipient. Idempotent without a
 * marker row: the message's clientId is `share:<shareId>`, unique per sender.
 */
export function startSharesConsumer(chat: ChatService, bus: Bus, log: Log): Promise<RunningConsumer> {
  return startConsumer({
    bus,
    durable: 'chat-shares',
    log,
    types: ['social.post.shared'] as const,
    handler: async (event, meta) => {
      await chat.messages.receiveShare(event.data as EventPayload<'social.post.shared'>, meta.requestId)
    },
  })
}
