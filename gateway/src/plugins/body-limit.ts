import { Transform, type TransformCallback } from 'node:stream'
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
        return payload
      }
      if (request.headers['transfer-encoding'] === undefined) return payload
      return limited(payload, limit)
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
 * `pipe`, not `pipeline`: when the limit trips, the client's request must stay open so the 413
 * can still be written; `pipeline` would destroy it (and its socket). A client that goes away
 * mid-body still ends the relay.
 */
function limited(payload: NodeJS.ReadableStream & { readableEnded?: boolean }, limit: number): Transform {
  const limiter = new ByteLimit(limit)
  payload.once('error', (error: Error) => limiter.destroy(error))
  payload.once('close', () => {
    if (!payload.readableEnded) limiter.destroy(new Error('client closed the request mid-body'))
  })
  return payload.pipe(limiter)
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
