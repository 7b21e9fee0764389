import multipart from '@fastify/multipart'
import { type App, authOptions, authPlugin, buildService, OutboxRelay, openInfrastructure, publicKeysFor } from '@sm/platform'
import type { MediaConfig } from './config.ts'
import type { MediaDatabase } from './db/database.ts'
import { migrations } from './db/migrations/index.ts'
import { contentRoutes } from './routes/content.routes.ts'
import { mediaRoutes } from './routes/media.routes.ts'
import { serveMediaRequests } from './rpc/media.requests.ts'
import { ClaimsService } from './services/claims.service.ts'
import { MediaService } from './services/media.service.ts'
import { MediaStorage } from './services/storage.ts'
import { UnclaimedSweeper } from './services/sweeper.ts'
import { UrlSigner } from './services/url-signer.ts'

export const SCHEMA = 'media'

/**
 * The media service: uploads streamed to disk and sniffed from their bytes, serving with
 * ranges, private chat media behind signed URLs, and claims by the other services over NATS.
 */
export async function buildApp(config: MediaConfig): Promise<App> {
  const infra = await openInfrastructure<MediaDatabase>({ name: 'media', schema: SCHEMA, migrations, config })
  const { db, bus } = infra
  const storage = await MediaStorage.open(config.MEDIA_ROOT)
  const signer = await UrlSigner.load(db, config.MEDIA_URL_SECRET, config.MEDIA_SIGNED_URL_TTL_S)

  const app = await buildService({
    name: 'media',
    logLevel: config.LOG_LEVEL,
    description: 'Uploads, storage, serving and privacy of media',
    readiness: infra.readiness,
  })

  const relay = new OutboxRelay(db, bus, app.log)
  relay.start()
  const media = new MediaService({
    db,
    storage,
    signer,
    relay,
    log: app.log,
    limits: {
      image: config.MEDIA_MAX_IMAGE_BYTES,
      video: config.MEDIA_MAX_VIDEO_BYTES,
      audio: config.MEDIA_MAX_AUDIO_BYTES,
      document: config.MEDIA_MAX_DOCUMENT_BYTES,
    },
  })
  const claims = new ClaimsService({ db, media, relay })
  const responders = serveMediaRequests(bus, { media, claims, log: app.log })
  const sweeper = new UnclaimedSweeper(
    { db, media, storage, relay, log: app.log },
    { ttlSeconds: config.MEDIA_UNCLAIMED_TTL_S, intervalSeconds: config.MEDIA_SWEEP_INTERVAL_S },
  )
  sweeper.start()

  await app.register(authPlugin, authOptions(publicKeysFor(config, bus.nc), config))
  await app.register(multipart)
  await app.register(mediaRoutes, { media })
  await app.register(contentRoutes, { media, storage, signer })

  app.addHook('onClose', async () => {
    for (const responder of responders) responder.unsubscribe()
    await sweeper.stop()
    await relay.stop()
    await infra.close(app.log)
  })
  return app
}
