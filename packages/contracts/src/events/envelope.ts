import { type Static, type TSchema, Type } from 'typebox'

/** Every event on the bus: `id` doubles as the JetStream `Nats-Msg-Id`, so republishing dedupes. */
export const EventEnvelope = <T extends TSchema>(data: T) =>
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    type: Type.String(),
    occurredAt: Type.String({ format: 'date-time' }),
    producer: Type.String(),
    data,
  })

export interface Envelope<D = unknown> {
  id: string
  type: string
  occurredAt: string
  producer: string
  data: D
}

export type EventData<S extends TSchema> = Static<S>
