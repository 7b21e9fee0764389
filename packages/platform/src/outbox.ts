import { headers as natsHeaders } from '@nats-io/transport-node'
import type { EventPayload, EventType } from '@sm/contracts'
import { events } from '@sm/contracts'
import type { Generated, Kysely, Migration, Transaction } from 'kysely'
import { sql } from 'kysely'
import { newId } from './ids.ts'
import type { Log } from './logger.ts'
import type { Bus } from './nats.ts'
import { firstError, validatorFor } from './validators.ts'

/** Table every publishing service has in its schema (add `outboxMigration` to its list). */
export interface OutboxTable {
  id: string
  type: string
  payload: unknown
  requestId: string | null
  createdAt: Generated<Date>
}

export const outboxMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('outbox')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('payload', 'jsonb', (c) => c.notNull())
      .addColumn('request_id', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute()
    await db.schema.createIndex('outbox_created_at').on('outbox').column('created_at').execute()
  },
  async down(db) {
    await db.schema.dropTable('outbox').execute()
  },
}

type WithOutbox = { outbox: OutboxTable }

/** An outbox row ready to insert: the event validated against its schema, the envelope as JSON. */
export interface OutboxRow {
  id: string
  type: string
  /** The envelope `{ id, type, occurredAt, producer, data }` as JSON text. */
  payload: string
  requestId: string | null
}

/**
 * Builds the outbox row for an event, validating the payload first so a malformed event never
 * reaches the bus. For writes that insert it themselves in one statement with their state
 * change (see social's compose); `enqueueEvent` covers the ordinary case.
 */
export function outboxRow<K extends EventType>(producer: string, type: K, data: EventPayload<K>, requestId?: string): OutboxRow {
  const definition = events[type]
  if (!validatorFor(definition.schema).Check(data)) {
    throw new Error(`event ${type} does not match its schema: ${firstError(definition.schema, data)}`)
  }
  const id = newId()
  const envelope = { id, type, occurredAt: new Date().toISOString(), producer, data }
  return { id, type, payload: JSON.stringify(envelope), requestId: requestId ?? null }
}

/**
 * Records an event in the same transaction as the state change it describes: both commit or
 * neither does. The payload is validated here so a malformed event never reaches the bus.
 */
export async function enqueueEvent<K extends EventType, DB extends WithOutbox>(
  trx: Transaction<DB> | Kysely<DB>,
  producer: string,
  type: K,
  data: EventPayload<K>,
  requestId?: string,
): Promise<string> {
  const row = outboxRow(producer, type, data, requestId)
  await (trx as unknown as Kysely<WithOutbox>).insertInto('outbox').values(row).execute()
  return row.id
}

/** How often the relay polls for rows (crashes, peers) and how far apart its passes are under a steady stream. */
export interface RelayTiming {
  pollMs?: number
  coalesceMs?: number
}

/**
 * Publishes committed outbox rows to JetStream, oldest first, with `Nats-Msg-Id` = event id,
 * then deletes them. Rows are claimed with SKIP LOCKED so several instances share the work;
 * a crash between publish and delete republishes, and JetStream's duplicate window drops it.
 * `kick()` after a commit gives sub-millisecond latency; the poll covers crashes and peers.
 */
export class OutboxRelay {
  #db: Kysely<WithOutbox>
  #bus: Bus
  #log: Log
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #again = false
  #stopped = false
  #deferred: NodeJS.Timeout | undefined
  #lastPassEndedAt = Number.NEGATIVE_INFINITY
  readonly #batchSize = 100

  readonly pollMs: number
  readonly coalesceMs: number

  // biome-ignore lint/suspicious/noExplicitAny: Kysely<DB> is invariant in DB; any schema with an outbox table will do
  constructor(db: Kysely<any>, bus: Bus, log: Log, { pollMs = 500, coalesceMs = 10 }: RelayTiming = {}) {
    this.pollMs = pollMs
    this.coalesceMs = coalesceMs
    this.#db = db as Kysely<WithOutbox>
    this.#bus = bus
    this.#log = log
  }

  start(): void {
    this.#timer = setInterval(() => this.kick(), this.pollMs)
    this.#timer.unref()
    this.kick()
  }

  /**
   * Ask for a flush. Calls while a pass runs coalesce into one more pass. A pass starts at once
   * when the last one ended at least `coalesceMs` ago; under a steady stream of commits the next
   * one waits out the rest of that gap, so each pass carries several rows instead of one (a pass
   * is three statements and a publish round trip, on a path where round trips are the cost).
   */
  kick(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#again = true
      return
    }
    if (this.#deferred) return
    const wait = this.#lastPassEndedAt + this.coalesceMs - performance.now()
    if (wait > 0) {
      this.#deferred = setTimeout(() => {
        this.#deferred = undefined
        this.kick()
      }, wait)
      return
    }
    this.#running = this.#drain()
      .catch((error) => this.#log.error({ err: error }, 'outbox relay pass failed; will retry'))
      .finally(() => {
        this.#running = undefined
        this.#lastPassEndedAt = performance.now()
        if (this.#again) {
          this.#again = false
          this.kick()
        }
      })
  }

  async #drain(): Promise<void> {
    while (!this.#stopped) {
      const published = await this.#db.transaction().execute(async (trx) => {
        // Claimed and deleted in one statement; the publishes happen before the commit, so a
        // failed publish rolls the delete back and the rows are retried.
        const rows = await trx
          .deleteFrom('outbox')
          .where('id', 'in', (eb) =>
            eb.selectFrom('outbox').select('id').orderBy('createdAt').orderBy('id').limit(this.#batchSize).forUpdate().skipLocked(),
          )
          .returningAll()
          .execute()
        rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        // All of a batch in flight at once: one round trip instead of one per event. They leave
        // on one connection in this order, so the stream stores them in commit order; if any
        // fails, the transaction rolls back and the retry's duplicates are dropped by `Nats-Msg-Id`.
        await Promise.all(
          rows.map((row) => {
            const h = natsHeaders()
            if (row.requestId) h.set('x-request-id', row.requestId)
            const envelope = typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload)
            return this.#bus.js.publish(this.#bus.subject(row.type), envelope, { msgID: row.id, headers: h })
          }),
        )
        return rows.length
      })
      if (published < this.#batchSize) return
    }
  }

  /** Stops polling and waits for the pass in flight, so shutdown never cuts a publish short. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearInterval(this.#timer)
    clearTimeout(this.#deferred)
    await this.#running
  }
}
