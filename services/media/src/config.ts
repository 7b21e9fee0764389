import { loadConfig } from '@sm/platform'
import { Type } from 'typebox'

const MiB = 1024 * 1024
const bytes = (fallback: number) => Type.Integer({ default: fallback, minimum: 1 })

export const mediaConfigSchema = {
  PORT: Type.Integer({ default: 3003, minimum: 0, maximum: 65535 }),
  /** Bytes live under here, in profilepics/, posts_media/ and chat-media/ (created on start). */
  MEDIA_ROOT: Type.String({ default: './data/media', minLength: 1 }),
  /** HMAC key for chat media URLs. Unset: generated on first start and kept in the media schema. */
  MEDIA_URL_SECRET: Type.String({ default: '' }),
  /** Signed URLs expire at the end of the next bucket of this many seconds (valid 1–2 buckets). */
  MEDIA_SIGNED_URL_TTL_S: Type.Integer({ default: 3600, minimum: 60 }),
  MEDIA_MAX_IMAGE_BYTES: bytes(10 * MiB),
  MEDIA_MAX_VIDEO_BYTES: bytes(100 * MiB),
  MEDIA_MAX_AUDIO_BYTES: bytes(100 * MiB),
  MEDIA_MAX_DOCUMENT_BYTES: bytes(25 * MiB),
  /** Uploads never claimed by a post, avatar or message are deleted after this long. */
  MEDIA_UNCLAIMED_TTL_S: Type.Integer({ default: 24 * 3600, minimum: 1 }),
  MEDIA_SWEEP_INTERVAL_S: Type.Integer({ default: 600, minimum: 1 }),
}

export const loadMediaConfig = (env: Record<string, string | undefined> = process.env) => loadConfig(mediaConfigSchema, env)
export type MediaConfig = ReturnType<typeof loadMediaConfig>
