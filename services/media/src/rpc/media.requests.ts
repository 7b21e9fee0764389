import { MediaClaimRequest, MediaGetRequest, MediaReleaseRequest } from '@sm/contracts'
import { type Bus, badRequest, firstError, type Log, serveRequests, validatorFor } from '@sm/platform'
import type { TSchema } from 'typebox'
import type { ClaimsService } from '../services/claims.service.ts'
import type { MediaService } from '../services/media.service.ts'

function validated<T>(schema: TSchema, body: unknown): T {
  if (!validatorFor(schema).Check(body)) throw badRequest('VALIDATION', `invalid request: ${firstError(schema, body)}`)
  return body as T
}

/** `media.claim`, `media.get`, `media.release` for the other services (docs/events.md). */
export function serveMediaRequests(
  bus: Bus,
  deps: { media: MediaService; claims: ClaimsService; log: Log },
): Array<ReturnType<typeof serveRequests>> {
  const { media, claims, log } = deps
  return [
    serveRequests(bus.nc, bus.namespace, 'media.claim', async (body) => claims.claim(validated(MediaClaimRequest, body)), log),
    serveRequests(
      bus.nc,
      bus.namespace,
      'media.get',
      async (body) => {
        const { ids, viewerId } = validated<{ ids: string[]; viewerId?: string }>(MediaGetRequest, body)
        return { items: await media.refsFor(ids, viewerId) }
      },
      log,
    ),
    serveRequests(
      bus.nc,
      bus.namespace,
      'media.release',
      async (body) => {
        const { ids, ref } = validated<{ ids: string[]; ref: string }>(MediaReleaseRequest, body)
        return claims.release(ids, ref)
      },
      log,
    ),
  ]
}
