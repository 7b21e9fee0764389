import type { MediaRef } from '@sm/contracts'
import { type Bus, badRequest, forbidden, HttpError, type Log, RequestError, request } from '@sm/platform'

type NatsConnection = Bus['nc']

export type ClaimPurpose = 'post' | 'avatar'

/** Media errors as the client sees them: a bad reference is the caller's mistake, not ours. */
function toHttpError(error: unknown): never {
  if (!(error instanceof RequestError)) throw error
  switch (error.code) {
    case 'MEDIA_NOT_FOUND':
      throw badRequest('MEDIA_NOT_FOUND', `media not found: ${error.message}`)
    case 'MEDIA_FORBIDDEN':
      throw forbidden(`media belongs to someone else: ${error.message}`, 'MEDIA_FORBIDDEN')
    case 'MEDIA_WRONG_PURPOSE':
      throw badRequest('MEDIA_WRONG_PURPOSE', `media was uploaded for another purpose: ${error.message}`)
    case 'MEDIA_ALREADY_CLAIMED':
      throw badRequest('MEDIA_ALREADY_CLAIMED', `media is already attached elsewhere: ${error.message}`)
    case 'UPSTREAM_UNAVAILABLE':
      throw new HttpError(503, 'UPSTREAM_UNAVAILABLE', 'the media service is unavailable; retry shortly', { 'retry-after': '1' })
    default:
      throw new HttpError(502, 'MEDIA_ERROR', `media service refused: ${error.code}`)
  }
}

/** media.claim / media.release over NATS request-reply. */
export class MediaClient {
  readonly #nc: NatsConnection
  readonly #namespace: string
  readonly #timeoutMs: number
  readonly #log: Log

  constructor(opts: { nc: NatsConnection; namespace: string; timeoutMs: number; log: Log }) {
    this.#nc = opts.nc
    this.#namespace = opts.namespace
    this.#timeoutMs = opts.timeoutMs
    this.#log = opts.log
  }

  /** Attaches the caller's uploads to `ref`; returns their refs in the order asked. */
  async claim(userId: string, purpose: ClaimPurpose, ids: string[], ref: string): Promise<MediaRef[]> {
    if (ids.length === 0) return []
    const reply = await request<{ items: MediaRef[] }>(
      this.#nc,
      this.#namespace,
      'media.claim',
      { userId, purpose, ids, ref },
      this.#timeoutMs,
    ).catch(toHttpError)
    const byId = new Map(reply.items.map((item) => [item.id, item]))
    const missing = ids.filter((id) => !byId.has(id))
    if (missing.length > 0) throw badRequest('MEDIA_NOT_FOUND', `media not found: ${missing.join(', ')}`)
    return ids.map((id) => byId.get(id) as MediaRef)
  }

  /** Best effort: the bytes are no longer needed. A failure is logged, never surfaced (media sweeps orphans). */
  async release(ids: string[], ref: string): Promise<void> {
    if (ids.length === 0) return
    try {
      await request(this.#nc, this.#namespace, 'media.release', { ids, ref }, this.#timeoutMs)
    } catch (error) {
      this.#log.warn({ err: error, ids, ref }, 'media.release failed')
    }
  }
}
