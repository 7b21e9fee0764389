import { createHash } from 'node:crypto'
import { badRequest } from '@sm/platform'

/** Words and tags beyond these are ignored: a query never grows into an expensive plan. */
export const MAX_WORDS = 16
export const MAX_TAGS = 8

const HASHTAG = /^#([\p{L}\p{N}_]+)$/u
const TAG_CHARS = /^[\p{L}\p{N}_]+$/u
const NOT_WORD = /[^\p{L}\p{N}\p{M}]+/gu
const HAS_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u

/**
 * Unicode-normalises a raw query (NFKC: full-width forms, ligatures, compatibility characters
 * fold to their plain twins) and blanks out every control, format, private-use and unpaired
 * surrogate code point (NUL would make Postgres reject the text), collapsing whitespace.
 */
export function normalizeQuery(raw: string): string {
  return raw
    .normalize('NFKC')
    .replace(/\p{C}+/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim()
}

export interface PostQuery {
  /** Plain words (letters, digits, combining marks only); the last one is matched as a prefix. */
  words: string[]
  /** `#tag` terms, lower-cased without the `#`: posts must carry every one. */
  tags: string[]
}

/** Splits a post query into words and `#tags`; every other character only separates words. */
export function parsePostQuery(raw: string): PostQuery {
  const words: string[] = []
  const tags: string[] = []
  for (const token of normalizeQuery(raw).split(' ')) {
    const tag = HASHTAG.exec(token)?.[1]
    // Social never makes a tag of digits alone (`#2024` is text), so search them as a word.
    if (tag && !/^\d+$/.test(tag)) {
      if (tags.length < MAX_TAGS && !tags.includes(tag.toLowerCase())) tags.push(tag.toLowerCase())
      continue
    }
    for (const word of token.replace(NOT_WORD, ' ').split(' ')) {
      if (HAS_LETTER_OR_DIGIT.test(word) && words.length < MAX_WORDS) words.push(word)
    }
  }
  return { words, tags }
}

/** A user query: `@alice` means `alice`; empty when nothing searchable is left. */
export function parseUserQuery(raw: string): string {
  return normalizeQuery(raw).replace(/^@+/, '').trim().toLowerCase()
}

/** A hashtag prefix: `#Ru` means `ru`; null when it cannot be the start of any tag. */
export function parseTagQuery(raw: string): string | null {
  const prefix = normalizeQuery(raw).replace(/^#+/, '').toLowerCase()
  return TAG_CHARS.test(prefix) ? prefix : null
}

/** Whether `value` could be a stored tag (what a hashtag cursor may carry). */
export const isTag = (value: string): boolean => TAG_CHARS.test(value)

/** `%`, `_` and `\` are LIKE wildcards: escape them so user input only ever matches itself. */
export const escapeLike = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * Cursors are opaque to clients: base64url JSON holding the keyset position, which list it
 * belongs to and a fingerprint of the query, so a cursor replayed against another query or
 * list is a clear 400 rather than a silently wrong page.
 */
export function encodeCursor(kind: string, query: string, position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ k: kind, f: fingerprint(query), ...position })).toString('base64url')
}

export function decodeCursor<T extends Record<string, string | number> = Record<string, string | number>>(
  cursor: string,
  kind: string,
  query: string,
  fields: Record<keyof T & string, 'number' | 'string'>,
): T {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalidCursor()
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidCursor()
  const record = parsed as Record<string, unknown>
  if (record.k !== kind || record.f !== fingerprint(query)) throw invalidCursor('the cursor belongs to another query')
  for (const [field, type] of Object.entries(fields)) {
    const value = record[field]
    if (typeof value !== type || (typeof value === 'number' && !Number.isFinite(value))) throw invalidCursor()
  }
  return record as T
}

export const invalidCursor = (message = 'the cursor is malformed') => badRequest('INVALID_CURSOR', message)

const fingerprint = (query: string) => createHash('sha256').update(query).digest('base64url').slice(0, 12)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Cursor ids go back into SQL as uuids: a forged non-uuid would be a Postgres error, so refuse it here. */
export function assertUuid(value: string): string {
  if (!UUID.test(value)) throw invalidCursor()
  return value
}
