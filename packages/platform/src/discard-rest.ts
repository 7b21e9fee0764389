import type { IncomingMessage } from 'node:http'

/** Beyond these a refused body is cut off as before (the reset is then the sender's problem). */
const DISCARD_MAX_BYTES = 16 * 1024 * 1024
const DISCARD_MAX_MS = 3_000

/**
 * Reads and drops what is left of a request body that was answered before it was read, ahead of
 * an answer that closes the connection. A socket closed with unread bytes sends a reset, which
 * can reach the sender before it has read the answer: the gateway then answered a media 413 with
 * 503, and a client (fetch) still sending an upload failed outright on a 401 (both seen in CI).
 * Bounded in bytes and time, so a huge or stalled body is still cut off.
 */
export function discardRest(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve()
  raw.unpipe()
  return new Promise((resolve) => {
    let read = 0
    const done = () => {
      clearTimeout(timer)
      raw.off('data', onData)
      raw.off('end', done)
      raw.off('close', done)
      resolve()
    }
    const onData = (chunk: Buffer) => {
      read += chunk.length
      if (read > DISCARD_MAX_BYTES) done()
    }
    const timer = setTimeout(done, DISCARD_MAX_MS)
    raw.on('data', onData)
    raw.once('end', done)
    raw.once('close', done)
    raw.resume()
  })
}
