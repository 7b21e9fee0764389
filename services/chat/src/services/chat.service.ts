import type { Log, OutboxRelay, Redis } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { ChatConfig } from '../config.ts'
import type { ChatDatabase } from '../db/database.ts'
import type { Delivery } from './delivery.ts'
import type { MediaClient } from './media.client.ts'
import { MessagesService } from './messages.service.ts'
import type { PresenceStore } from './presence.service.ts'
import { QueriesService } from './queries.service.ts'
import { ReceiptsService } from './receipts.service.ts'

export interface Caller {
  id: string
  username: string
}

export interface ChatServiceDeps {
  db: Kysely<ChatDatabase>
  relay: OutboxRelay
  delivery: Delivery
  media: MediaClient
  presence: PresenceStore
  redis: Redis
  config: ChatConfig
  log: Log
}

/** The chat rules, by concern: routes and sockets call these. */
export class ChatService {
  readonly messages: MessagesService
  readonly receipts: ReceiptsService
  readonly queries: QueriesService

  constructor(deps: ChatServiceDeps) {
    this.messages = new MessagesService(deps)
    this.receipts = new ReceiptsService(deps)
    this.queries = new QueriesService(deps)
  }
}
