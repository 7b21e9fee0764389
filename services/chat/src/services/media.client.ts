import { type MediaRef, mediaErrorStatus } from '@sm/contracts'
import { type Bus, badRequest, httpErrorFromRequest, type Log, request } from '@sm/platform'

/** media.* over NATS: claim on send, fresh signed URLs on read, release on delete for everyone. */
export class MediaClient {
  readonly #bus: Bus
  readonly #log: Log
  readonly #timeoutMs: number
  /** Fresh refs per (viewer, media id) until shortly before their URL expires. */
  readonly #cache = new Map<string, { ref: MediaRef; until: number }>()

  constructor(bus: Bus, log: Log, timeoutMs: number) {
    this.#bus = bus
    this.#log = log
    this.#timeoutMs = timeoutMs
  }

  /** Attaches the sender's `chat` upload to the conversation; both members may read it from now on. */
  async claim(senderId: string, mediaId: string, conversationId: string, recipientId: string): Promise<MediaRef> {
    try {
      const reply = await request<{ items: MediaRef[] }>(
        this.#bus.nc,
        this.#bus.namespace,
        'media.claim',
        { userId: senderId, purpose: 'chat', ids: [mediaId], ref: `chat:${conversationId}`, audience: [senderId, recipientId] },
        this.#timeoutMs,
      )
      const ref = reply.items.find((item) => item.id === mediaId)
      if (!ref) throw badRequest('MEDIA_NOT_FOUND', 'media not found')
      return ref
    } catch (error) {
      throw httpErrorFromRequest(error, 'media', mediaErrorStatus)
    }
  }

  /**
   * Refs for `ids` as `viewerId` may fetch them (chat URLs are signed per viewer and expire), in
   * one request for whatever the cache lacks. When media cannot answer, the stored snapshots stay.
   */
  async fresh(viewerId: string, ids: string[]): Promise<Map<string, MediaRef>> {
    const now = Date.now()
    const found = new Map<string, MediaRef>()
    const missing: string[] = []
    for (const id of new Set(ids)) {
      const cached = this.#cache.get(`${viewerId}:${id}`)
      if (cached && cached.until > now) found.set(id, cached.ref)
      else missing.push(id)
    }
    if (missing.length === 0) return found
    try {
      for (let i = 0; i < missing.length; i += 100) {
        const reply = await request<{ items: MediaRef[] }>(
          this.#bus.nc,
          this.#bus.namespace,
          'media.get',
          { ids: missing.slice(i, i + 100), viewerId },
          this.#timeoutMs,
        )
        for (const ref of reply.items) {
          found.set(ref.id, ref)
          this.#remember(`${viewerId}:${ref.id}`, ref, now)
        }
      }
    } catch (error) {
      this.#log.warn({ err: error }, 'media.get failed; serving stored media snapshots')
    }
    return found
  }

  /** Best effort: the message is already a tombstone, a failed release only leaves bytes behind. */
  async release(ids: string[], conversationId: string): Promise<void> {
    if (ids.length === 0) return
    try {
      await request(this.#bus.nc, this.#bus.namespace, 'media.release', { ids, ref: `chat:${conversationId}` }, this.#timeoutMs)
    } catch (error) {
      this.#log.warn({ err: error, ids }, 'media.release failed')
    }
  }

  #remember(key: string, ref: MediaRef, now: number): void {
    if (this.#cache.size > 10_000) this.#cache.clear()
    this.#cache.set(key, { ref, until: Math.min(expiryOf(ref.url) - 30_000, now + 5 * 60_000) })
  }
}

/** `exp`/`expires` in a signed URL (seconds or milliseconds since the epoch); unknown: one minute. */
export function expiryOf(url: string): number {
  const parsed = new URL(url, 'http://local')
  const raw = parsed.searchParams.get('exp') ?? parsed.searchParams.get('expires')
  const value = raw ? Number(raw) : Number.NaN
  if (!Number.isFinite(value) || value <= 0) return Date.now() + 90_000
  return value > 1e12 ? value : value * 1000
}
