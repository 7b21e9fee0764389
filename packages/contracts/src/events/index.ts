import type { Static, TSchema } from 'typebox'
import { UserRegistered, UserUpdated } from './auth.ts'

/**
 * The event catalogue: one entry per type, keyed by type, each with its subject, schema and
 * version. Subjects are namespaced at runtime (`<namespace>.<subject>`) so stacks sharing a
 * NATS server never see each other's events. docs/events.md documents each entry.
 */
export const events = {
  'auth.user.registered': { subject: 'auth.user.registered', version: 1, schema: UserRegistered },
  'auth.user.updated': { subject: 'auth.user.updated', version: 1, schema: UserUpdated },
} as const satisfies Record<string, { subject: string; version: number; schema: TSchema }>

export type EventType = keyof typeof events
export type EventPayload<K extends EventType> = Static<(typeof events)[K]['schema']>

export * from './envelope.ts'
export { UserRegistered, UserUpdated }
