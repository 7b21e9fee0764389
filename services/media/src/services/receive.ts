import { createWriteStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { MediaKind } from '@sm/contracts'
import { badRequest, HttpError } from '@sm/platform'
import { HEAD_BYTES, type Sniffed, sniffHead } from './sniff.ts'

export interface ReceiveOptions {
  /** Largest file of each kind. */
  limits: Record<MediaKind, number>
  /** Kinds accepted for this upload (avatars: images only). */
  kinds: readonly MediaKind[]
}

// The client is told to stop sending: the rest of a refused body is not worth reading.
const closing = { connection: 'close' }
export const tooLarge = (message: string) => new HttpError(413, 'PAYLOAD_TOO_LARGE', message, closing)
export const unsupported = (message: string) => new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', message, closing)

/**
 * Streams an upload to `dest` while counting bytes. The first HEAD_BYTES are held back until
 * the type is sniffed from them; from then on the kind's own size limit applies. Nothing is
 * ever buffered beyond the head. Throws 413, 415, or 400 UPLOAD_INCOMPLETE when the body
 * ends early or the client goes away; the caller removes `dest` on any failure.
 */
export async function receiveFile(source: Readable, dest: string, opts: ReceiveOptions): Promise<{ sniffed: Sniffed; size: number }> {
  const ceiling = Math.max(...opts.kinds.map((kind) => opts.limits[kind]))
  let sniffed: Sniffed | undefined
  let size = 0
  const head: Buffer[] = []

  const decide = async (complete: boolean): Promise<Sniffed> => {
    if (size === 0) throw badRequest('EMPTY_FILE', 'the file is empty')
    const result = await sniffHead(Buffer.concat(head).subarray(0, HEAD_BYTES), complete)
    if ('refused' in result) throw unsupported(result.refused)
    if (!opts.kinds.includes(result.kind)) throw unsupported(`${result.mime} is not accepted here (allowed: ${opts.kinds.join(', ')})`)
    if (size > opts.limits[result.kind]) throw tooLarge(`${result.kind} files are limited to ${opts.limits[result.kind]} bytes`)
    return result
  }

  async function* inspect(chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      size += chunk.length
      const limit = sniffed ? opts.limits[sniffed.kind] : ceiling
      if (size > limit) throw tooLarge(`${sniffed?.kind ?? 'this'} upload is over the limit of ${limit} bytes`)
      if (sniffed) {
        yield chunk
        continue
      }
      head.push(chunk)
      if (size >= HEAD_BYTES) {
        sniffed = await decide(false)
        yield Buffer.concat(head)
        head.length = 0
      }
    }
    if (!sniffed) {
      sniffed = await decide(true)
      yield Buffer.concat(head)
    }
  }

  const sink = createWriteStream(dest, { flags: 'wx' })
  try {
    await pipeline(source, inspect, sink)
  } catch (error) {
    // The file may still be opening: wait until it is closed, or the caller's unlink could
    // run first and the file would appear after it.
    if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()))
    if (error instanceof HttpError) throw error
    // A failing disk is ours (500); anything else is the body ending early or the client leaving.
    if ((error as NodeJS.ErrnoException).syscall) throw error
    throw badRequest('UPLOAD_INCOMPLETE', 'the upload ended before the file was complete')
  }
  if (!sniffed) throw badRequest('EMPTY_FILE', 'the file is empty')
  return { sniffed, size }
}
