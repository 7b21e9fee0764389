export type RangeAnswer = { type: 'full' } | { type: 'partial'; start: number; end: number } | { type: 'unsatisfiable' }

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/

/**
 * One `Range: bytes=…` header against a file of `size` bytes (RFC 9110 §14). A header we do
 * not understand, a multi-range request or a backwards range is ignored (the whole file,
 * as the RFC allows); a well-formed range wholly past the end is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!header) return { type: 'full' }
  const match = SINGLE_RANGE.exec(header.trim())
  if (!match) return { type: 'full' }
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return { type: 'full' }
  if (first === '') {
    // Suffix range: the last N bytes.
    const length = Number(last)
    if (length === 0 || size === 0) return { type: 'unsatisfiable' }
    return { type: 'partial', start: Math.max(0, size - length), end: size - 1 }
  }
  const start = Number(first)
  if (last !== '' && Number(last) < start) return { type: 'full' }
  if (start >= size) return { type: 'unsatisfiable' }
  const end = last === '' ? size - 1 : Number(last)
  return { type: 'partial', start, end: Math.min(end, size - 1) }
}
