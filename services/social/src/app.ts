import { type App, authOptions, authPlugin, buildService, OutboxRelay, openInfrastructure, publicKeysFor } from '@sm/platform'
import type { SocialConfig } from './config.ts'
import { startProfilesConsumer } from './consumers/profiles.consumer.ts'
import { startTimelineConsumer } from './consumers/timeline.consumer.ts'
import type { SocialDatabase } from './db/database.ts'
import { migrations } from './db/migrations/index.ts'
import { Breaker } from './lib/breaker.ts'
import { commentsRoutes } from './routes/comments.routes.ts'
import { feedRoutes } from './routes/feed.routes.ts'
import { postsRoutes } from './routes/posts.routes.ts'
import { usersRoutes } from './routes/users.routes.ts'
import { AnalyticsService } from './services/analytics.service.ts'
import { CommentsService } from './services/comments.service.ts'
import { FeedService } from './services/feed.service.ts'
import { FollowsService } from './services/follows.service.ts'
import { MediaClient } from './services/media.client.ts'
import { PostsService } from './services/posts.service.ts'
import { ProfilesService } from './services/profiles.service.ts'
import { SharesService } from './services/shares.service.ts'
import { TimelineStore } from './services/timeline.store.ts'
import { ViewCounter } from './services/views.service.ts'

export const SCHEMA = 'social'

/**
 * The social service: profiles (from auth's events), follows, posts with hashtags and media,
 * votes, comments, views, shares into DMs, the precomputed home feed, and analytics.
 */
export async function buildApp(config: SocialConfig): Promise<App> {
  // Prepared statements: planning was most of a feed page's Postgres cost (see platform createDb).
  const infra = await openInfrastructure<SocialDatabase>({
    name: 'social',
    schema: SCHEMA,
    migrations,
    config,
    poolSize: config.DATABASE_POOL_SIZE,
    prepared: true,
  })
  const { db, redis, bus } = infra
  let log: { warn(obj: unknown, msg?: string): void } | undefined
  redis.on('error', (err: unknown) => log?.warn({ err }, 'redis connection error'))

  const app = await buildService({
    name: 'social',
    logLevel: config.LOG_LEVEL,
    description: 'Profiles, follows, posts, votes, comments, feed, hashtags and analytics',
    readiness: infra.readiness,
  })

  log = app.log
  const relay = new OutboxRelay(db, bus, app.log)
  relay.start()
  // Redis is optional for reads: when it is down, feeds come from Postgres and views go uncounted.
  const redisBreaker = new Breaker({ isUp: () => redis.status === 'ready' })
  const views = new ViewCounter({ db, redis, log: app.log, intervalMs: config.VIEW_FLUSH_MS, breaker: redisBreaker })
  views.start()
  const timelines = new TimelineStore(redis, { cap: config.TIMELINE_CAP, ttlSeconds: config.TIMELINE_TTL_S })
  const media = new MediaClient({ nc: bus.nc, namespace: config.namespace, timeoutMs: config.MEDIA_TIMEOUT_MS, log: app.log })
  const profiles = new ProfilesService({ db, relay, media })
  const follows = new FollowsService({ db, relay, profiles, fanoutFollowerLimit: config.FANOUT_FOLLOWER_LIMIT })
  const posts = new PostsService({ db, relay, media, profiles, views })
  const shares = new SharesService({ db, relay, profiles })
  const comments = new CommentsService({ db, profiles })
  const feed = new FeedService({ db, timelines, posts, log: app.log, breaker: redisBreaker })
  const analytics = new AnalyticsService({ db, views, posts })

  const consumers = await Promise.all([
    startProfilesConsumer({ bus, db, profiles, relay, log: app.log }),
    startTimelineConsumer({ bus, db, timelines, log: app.log }),
  ])

  await app.register(authPlugin, authOptions(publicKeysFor(config, bus.nc), config))
  await app.register(usersRoutes, { profiles, follows, posts })
  await app.register(postsRoutes, { posts, shares, analytics })
  await app.register(commentsRoutes, { comments })
  await app.register(feedRoutes, { feed, posts, analytics })

  app.addHook('onClose', async () => {
    for (const consumer of consumers) await consumer.stop()
    await views.stop()
    await relay.stop()
    await infra.close(app.log)
  })
  return app
}
