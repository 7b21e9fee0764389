import { newId } from '@sm/platform'

/**
 * A new UUID v7 and the millisecond it carries. Rows use that instant as `created_at`, so
 * ordering by (created_at, id) and ordering by id alone agree: Postgres keysets and the
 * lexicographically sorted Redis timelines page through the same order.
 */
export function newTimedId(): { id: string; createdAt: Date } {
  const id = newId()
  return { id, createdAt: timeOfId(id) }
}

export function timeOfId(id: string): Date {
  return new Date(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16))
}
