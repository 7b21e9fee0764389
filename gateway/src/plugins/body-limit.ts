import { PassThrough, Transform, type TransformCallback } from 'node:stream'
import { HttpError } from '@sm/platform'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

export interface BodyLimitOptions {
  /** Every request body but uploads. */
  defaultLimit: number
  /** Multipart uploads to /media. */
  uploadLimit: number
}

/**
 * Request body limits for proxied routes. Fastify's own `bodyLimit` does not apply there: the
 * proxy passes the body through as a stream, unparsed, so it is never counted. A declared
 * `content-length` over the limit is refused before anything reaches a service; a chunked body
 * is counted while it streams and cut off at the limit. Uploads to /media stream through with
 * their own, larger limit (media checks the exact per-kind sizes itself).
 */
export const bodyLimitPlugin = fp<BodyLimitOptions>(
  async (app: FastifyInstance, opts) => {
    app.addHook('preParsing', async (request, _reply, payload) => {
      const limit = isMediaUpload(request) ? opts.uploadLimit : opts.defaultLimit
      const declared = request.headers['content-length']
      if (declared !== undefined) {
        if (Number(declared) > limit) throw payloadTooLarge(limit)
        // Node's parser never delivers more than the declared length.
        return detached(payload, new PassThrough())
      }
      if (request.headers['transfer-encoding'] === undefined) return payload
      return detached(payload, new ByteLimit(limit))
    })
  },
  { name: 'gateway-body-limit' },
)

function isMediaUpload(request: FastifyRequest): boolean {
  const path = request.url.split('?', 1)[0] ?? ''
  const isMediaPath = path === '/media' || path.startsWith('/media/')
  return isMediaPath && (request.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')
}

function payloadTooLarge(limit: number): HttpError {
  // The unread rest of the body is not worth draining: close the connection after the answer.
  return new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limit} bytes`, { connection: 'close' })
}

/**
 * The body as the proxy sends it: its own stream, fed from the client's request by `pipe`, not
 * `pipeline`. Whatever ends it early must leave the request open: the limit tripping (the 413
 * still has to be written), or undici dropping a body the service answered before reading (the
 * rest is read and dropped before the connection closes, see routes/forward.ts). Destroying the
 * request would reset the client's socket. A client that goes away mid-body still ends it.
 */
function detached(payload: NodeJS.ReadableStream & { readableEnded?: boolean }, into: Transform): Transform {
  payload.once('error', (error: Error) => into.destroy(error))
  payload.once('close', () => {
    if (!payload.readableEnded) into.destroy(new Error('client closed the request mid-body'))
  })
  return payload.pipe(into)
}

/** Passes bytes through until `limit`, then fails with 413 (the proxy maps it back, see upstream.ts). */
class ByteLimit extends Transform {
  readonly #limit: number
  #seen = 0

  constructor(limit: number) {
    super()
    this.#limit = limit
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.#limit) callback(payloadTooLarge(this.#limit))
    else callback(null, chunk)
  }
}
