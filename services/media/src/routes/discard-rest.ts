import type { IncomingMessage } from 'node:http'

/** Beyond these a refused upload is cut off as before (the reset is then the sender's problem). */
const DISCARD_MAX_BYTES = 16 * 1024 * 1024
const DISCARD_MAX_MS = 3_000

/**
 * Reads and drops what is left of a refused upload before the refusal goes out. The answer
 * closes the connection, and a socket closed with unread bytes sends a reset, which can reach
 * the gateway before it has read our 413 or 415: it then answers 503 instead (seen in CI).
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
