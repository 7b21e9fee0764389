import { events } from '@sm/contracts'
import { type Bus, type Log, validatorFor } from '@sm/platform'
import { type Kysely, sql } from 'kysely'
import type { SearchDatabase } from '../db/database.ts'
import { applyEvent, isIndexed } from './indexer.service.ts'

export interface RebuildResult {
  /** Stream messages read (every type; only indexed ones are applied). */
  read: number
  applied: number
  skipped: number
  /** The stream sequence the replay went up to (the last one when the rebuild started). */
  lastSequence: number
}

/**
 * Rebuilds the index from scratch: empties it, then replays the namespace's event stream from
 * its first retained message with an ephemeral ordered consumer, applying indexed events with
 * the same guarded handlers the live consumers use. It stops at the stream's last sequence as
 * of the truncation; anything later is the durable consumers' job, and since every handler is
 * an order-independent merge, their work and the replay's can interleave freely.
 */
export async function rebuildIndex(opts: { db: Kysely<SearchDatabase>; bus: Bus; log: Log; batchSize?: number }): Promise<RebuildResult> {
  const { db, bus, log } = opts
  await sql`truncate table users, posts, hashtags, processed_events`.execute(db)
  const { state } = await bus.jsm.streams.info(bus.stream)
  const result: RebuildResult = { read: 0, applied: 0, skipped: 0, lastSequence: state.last_seq }
  if (state.messages === 0) return result

  const consumer = await bus.js.consumers.get(bus.stream, { filter_subjects: bus.subject('>') })
  for (;;) {
    const batch = await consumer.fetch({ max_messages: opts.batchSize ?? 256, expires: 2_000 })
    let received = 0
    for await (const msg of batch) {
      received += 1
      result.read += 1
      const envelope = parse(msg.string())
      if (envelope && isIndexed(envelope.type) && validatorFor(events[envelope.type].schema).Check(envelope.data)) {
        await db.transaction().execute((trx) => applyEvent(trx, envelope))
        result.applied += 1
      } else {
        if (envelope && isIndexed(envelope.type)) log.warn({ seq: msg.seq, type: envelope.type }, 'rebuild: skipping a malformed event')
        result.skipped += 1
      }
      // Leaving the loop stops the fetch; the rest of the batch (if any) is newer than the rebuild.
      if (msg.seq >= state.last_seq) return result
    }
    // Nothing left to read (messages aged out from under us): the replay is as complete as it can be.
    if (received === 0) return result
  }
}

function parse(text: string): { id: string; type: string; occurredAt: string; producer: string; data: unknown } | undefined {
  try {
    const value = JSON.parse(text)
    return typeof value === 'object' && value !== null && typeof value.type === 'string' ? value : undefined
  } catch {
    return undefined
  }
}
