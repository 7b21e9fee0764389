import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { MediaDatabase } from '../db/database.ts'
import { settingOrInsert } from '../repositories/settings.repository.ts'

export interface Signature {
  exp: number
  sig: string
}

/**
 * HMAC-SHA256 capabilities for private (chat) media URLs: `?exp=<unix s>&sig=<base64url>` over
 * `<id>.<exp>`. The expiry is rounded up to the end of the next time bucket, so every URL
 * issued for one medium within a bucket is identical (browsers and CDNs can cache it) and
 * stays valid for at least one bucket.
 */
export class UrlSigner {
  readonly #secret: Buffer
  readonly bucketSeconds: number

  constructor(secret: string, bucketSeconds: number) {
    this.#secret = Buffer.from(secret, 'utf8')
    this.bucketSeconds = bucketSeconds
  }

  /** MEDIA_URL_SECRET when configured; else one generated on first start, shared through the schema. */
  static async load(db: Kysely<MediaDatabase>, configured: string, bucketSeconds: number): Promise<UrlSigner> {
    const secret = configured || (await settingOrInsert(db, 'url_secret', randomBytes(32).toString('base64url')))
    return new UrlSigner(secret, bucketSeconds)
  }

  #mac(id: string, exp: number): Buffer {
    return createHmac('sha256', this.#secret).update(`${id}.${exp}`).digest()
  }

  sign(id: string, nowMs = Date.now()): Signature {
    const bucket = Math.floor(nowMs / 1000 / this.bucketSeconds)
    const exp = (bucket + 2) * this.bucketSeconds
    return { exp, sig: this.#mac(id, exp).toString('base64url') }
  }

  verify(id: string, exp: number | undefined, sig: string | undefined, nowMs = Date.now()): boolean {
    if (exp === undefined || sig === undefined || exp * 1000 <= nowMs) return false
    // Compared as text: base64url decoding is lenient, and only the exact signature may pass.
    const given = Buffer.from(sig)
    const expected = Buffer.from(this.#mac(id, exp).toString('base64url'))
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}
