import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg } from '@nats-io/jetstream'
import type { Envelope, EventPayload, EventType } from '@sm/contracts'
import { events } from '@sm/contracts'
import type { Generated, Kysely, Migration, Transaction } from 'kysely'
import { sql } from 'kysely'
import type { Log } from './logger.ts'
import type { Bus } from './nats.ts'
import { validatorFor } from './validators.ts'

/** Marks events a consumer has applied, written in the handler's own transaction. */
export interface ProcessedEventsTable {
  consumer: string
  eventId: string
  processedAt: Generated<Date>
}

export const processedEventsMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('processed_events')
      .addColumn('consumer', 'text', (c) => c.notNull())
      .addColumn('event_id', 'uuid', (c) => c.notNull())
      .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('processed_events_pk', ['consumer', 'event_id'])
      .execute()
  },
  async down(db) {
    await db.schema.dropTable('processed_events').execute()
  },
}

type WithProcessed = { processed_events: ProcessedEventsTable }

/**
 * Applies `apply` at most once per (consumer, event id): the marker row and the handler's
 * writes commit together, so a redelivery after a crash or a lost ack changes nothing.
 * Returns false when the event had already been applied.
 */
export async function applyOnce<DB>(
  db: Kysely<DB>,
  consumer: string,
  eventId: string,
  apply: (trx: Transaction<DB>) => Promise<void>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const inserted = await (trx as unknown as Transaction<WithProcessed>)
      .insertInto('processed_events')
      .values({ consumer, eventId })
      .onConflict((oc) => oc.doNothing())
      .returning('eventId')
      .executeTakeFirst()
    if (!inserted) return false
    await apply(trx)
    return true
  })
}

export type EventHandler<K extends EventType> = (
  event: Envelope<EventPayload<K>>,
  meta: { requestId?: string; deliveryCount: number },
) => Promise<void>

export interface ConsumerOptions<K extends EventType> {
  bus: Bus
  /** Durable name, one per (service, purpose): e.g. `social-profiles`. */
  durable: string
  types: readonly K[]
  handler: EventHandler<K>
  log: Log
  /** Redeliveries before an event is given up on (and logged as dead). */
  maxDeliver?: number
  ackWaitMs?: number
}

export interface RunningConsumer {
  stop(): Promise<void>
}

/**
 * A durable JetStream consumer with explicit acks. A handler that throws gets the message
 * redelivered with backoff, up to `maxDeliver` times; malformed events are terminated at once
 * (redelivering cannot fix them). Handlers must be idempotent (see `applyOnce`).
 */
export async function startConsumer<K extends EventType>(opts: ConsumerOptions<K>): Promise<RunningConsumer> {
  const { bus, durable, log } = opts
  const maxDeliver = opts.maxDeliver ?? 10
  const streams: ConsumerMessages[] = []
  for (const part of consumerParts(bus, durable, opts.types)) {
    const config = {
      durable_name: part.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: maxDeliver,
      ack_wait: (opts.ackWaitMs ?? 30_000) * 1e6,
      ...part.filter,
    }
    try {
      await bus.jsm.consumers.add(bus.stream, config)
    } catch (error) {
      if (!String((error as Error).message).includes('already')) throw error
      await bus.jsm.consumers.update(bus.stream, part.durable, { ...part.filter, max_deliver: maxDeliver })
    }
    const consumer = await bus.js.consumers.get(bus.stream, part.durable)
    streams.push(await consumer.consume({ max_messages: 64 }))
  }
  const done = Promise.all(
    streams.map(async (messages) => {
      for await (const msg of messages) await handle(msg)
    }),
  )

  async function handle(msg: JsMsg): Promise<void> {
    const requestId = msg.headers?.get('x-request-id') || undefined
    const deliveryCount = msg.info.deliveryCount
    let envelope: Envelope<EventPayload<K>>
    try {
      envelope = msg.json<Envelope<EventPayload<K>>>()
      if (!opts.types.includes(envelope.type as K)) {
        // Delivered through a wider wildcard filter (NATS < 2.10): not ours, skip it.
        msg.ack()
        return
      }
      if (!validatorFor(events[envelope.type as K].schema).Check(envelope.data)) throw new Error(`malformed ${envelope.type} event`)
    } catch (error) {
      log.error({ err: error, subject: msg.subject, durable }, 'dropping malformed event')
      msg.term()
      return
    }
    try {
      await opts.handler(envelope, { requestId, deliveryCount })
      msg.ack()
    } catch (error) {
      const last = deliveryCount >= maxDeliver
      log[last ? 'error' : 'warn'](
        { err: error, eventId: envelope.id, type: envelope.type, durable, deliveryCount, reqId: requestId },
        last ? 'event handler failed for the last time; event dropped' : 'event handler failed; will retry',
      )
      if (last) msg.term()
      else msg.nak(Math.min(30_000, 200 * 2 ** deliveryCount))
    }
  }

  return {
    async stop() {
      await Promise.all(streams.map((messages) => messages.close()))
      await done
    },
  }
}

/**
 * The JetStream consumers behind one logical consumer. NATS 2.10+ filters on several subjects
 * at once: one consumer. Older servers (Debian's 2.9) take one filter subject, and a wildcard
 * wide enough for `auth.*` and `social.*` types would deliver every event in the stream (each
 * chat message, to every such consumer, to be skipped). There: one consumer per producer, each
 * on its producer's narrowest wildcard; the first keeps the durable name, the others add the
 * producer's. Splitting by producer loses no order: events of different producers come
 * through different outboxes and never had one.
 */
export function consumerParts(
  bus: Pick<Bus, 'nc' | 'subject'>,
  durable: string,
  types: readonly EventType[],
): Array<{ durable: string; filter: { filter_subject: string } | { filter_subjects: string[] } }> {
  const subjects = types.map((t) => bus.subject(events[t].subject))
  if (subjects.length === 1) return [{ durable, filter: { filter_subject: subjects[0] as string } }]
  const [major = 0, minor = 0] = (bus.nc.info?.version ?? '0.0').split('.').map(Number)
  if (major > 2 || (major === 2 && minor >= 10)) return [{ durable, filter: { filter_subjects: subjects } }]
  const byProducer = new Map<string, string[]>()
  types.forEach((type, i) => {
    const producer = events[type].subject.split('.')[0] as string
    byProducer.set(producer, [...(byProducer.get(producer) ?? []), subjects[i] as string])
  })
  return [...byProducer].map(([producer, group], i) => ({
    durable: i === 0 ? durable : `${durable}-${producer}`,
    filter: { filter_subject: narrowestWildcard(group) },
  }))
}

/** One subject as is; several as their common leading tokens plus `>`. */
function narrowestWildcard(subjects: string[]): string {
  if (subjects.length === 1) return subjects[0] as string
  const split = subjects.map((s) => s.split('.'))
  const common: string[] = []
  for (let i = 0; split.every((tokens) => i < tokens.length - 1 && tokens[i] === split[0]?.[i]); i++) common.push(split[0]?.[i] as string)
  return [...common, '>'].join('.')
}
