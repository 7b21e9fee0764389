import { type MediaRef, mediaErrorStatus } from '@sm/contracts'
import { type Bus, badRequest, httpErrorFromRequest, type Log, request } from '@sm/platform'

type NatsConnection = Bus['nc']

export type ClaimPurpose = 'post' | 'avatar'

/** Media's refusals as the client sees them (shared with chat). */
const toHttpError = (error: unknown): never => {
  throw httpErrorFromRequest(error, 'media', mediaErrorStatus)
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
