import { badRequest } from '@sm/platform'

/** A keyset position: the (createdAt, id) of the last item a page returned. */
export interface Cursor {
  createdAt: Date
  id: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Opaque to clients: base64url of `<epoch ms>:<id>`. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.getTime()}:${id}`).toString('base64url')
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (cursor === undefined) return undefined
  const [ms, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(':')
  const time = Number(ms)
  if (rest.length > 0 || !id || !UUID.test(id) || !Number.isSafeInteger(time) || time < 0) {
    throw badRequest('INVALID_CURSOR', 'cursor is not one this API returned')
  }
  return { createdAt: new Date(time), id }
}

/** Splits a fetched `limit + 1` rows into the page and the cursor of its last item. */
export function toPage<T, R>(
  rows: T[],
  limit: number,
  key: (row: T) => Cursor,
  map: (row: T) => R,
): { items: R[]; nextCursor: string | null } {
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  const nextCursor = rows.length > limit && last ? encodeCursor(key(last).createdAt, key(last).id) : null
  return { items: page.map(map), nextCursor }
}
