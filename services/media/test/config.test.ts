import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@sm/platform'
import { cleanup, createTestDatabase, dropNamespace, newKeyPair, TEST_NATS_URL, TEST_REDIS_URL } from '@sm/testing'
import t from 'tap'
import { buildApp } from '../src/app.ts'
import { loadMediaConfig } from '../src/config.ts'
import * as fixtures from './fixtures.ts'
import { connectionsClosed, upload } from './helper.ts'

t.test('defaults follow API.md', async (t) => {
  const config = loadMediaConfig({})
  t.match(config, {
    PORT: 3003,
    MEDIA_ROOT: './data/media',
    MEDIA_MAX_IMAGE_BYTES: 10 * 1024 * 1024,
    MEDIA_MAX_VIDEO_BYTES: 100 * 1024 * 1024,
    MEDIA_MAX_AUDIO_BYTES: 100 * 1024 * 1024,
    MEDIA_MAX_DOCUMENT_BYTES: 25 * 1024 * 1024,
    MEDIA_UNCLAIMED_TTL_S: 24 * 3600,
    MEDIA_URL_SECRET: '',
  })
  t.throws(() => loadMediaConfig({ MEDIA_MAX_IMAGE_BYTES: 'lots', MEDIA_UNCLAIMED_TTL_S: '0' }), ConfigError)
})

t.test('a generated URL secret is shared by every instance of a stack; directories are created', async (t) => {
  const db = await createTestDatabase('media')
  const parent = await mkdtemp(join(tmpdir(), 'media-shared-'))
  // Instances share the storage (a volume) and the database, as deployed; the root does not exist yet.
  const root = join(parent, 'nested', 'root')
  const keys = newKeyPair()
  const config = (mediaRoot: string) =>
    loadMediaConfig({
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      REDIS_URL: TEST_REDIS_URL,
      NAMESPACE: db.namespace,
      JWT_PUBLIC_KEY: keys.publicPem,
      MEDIA_ROOT: mediaRoot,
      LOG_LEVEL: 'silent',
    })
  // Two instances starting together: migrations and the secret race safely.
  const [first, second] = await Promise.all([buildApp(config(root)), buildApp(config(root))])
  t.teardown(() =>
    cleanup({
      first: () => first?.close(),
      second: () => second?.close(),
      connections: () => connectionsClosed(db.name),
      database: () => db.drop(),
      namespace: () => dropNamespace(db.namespace),
      files: () => rm(parent, { recursive: true, force: true }),
    }),
  )
  if (!first || !second) throw new Error('apps did not start')
  for (const dir of ['profilepics', 'posts_media', 'chat-media']) await access(join(root, dir))
  const openapi = await first.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(openapi.statusCode, 200)
  t.ok(openapi.json().paths['/media/{id}/content'], 'routes are documented')
  const ready = await first.inject({ method: 'GET', url: '/ready' })
  t.match(ready.json(), { status: 'ready', dependencies: { postgres: 'up', redis: 'up', nats: 'up' } })
  const { signAccessToken } = await import('@sm/testing')
  const owner = { headers: { authorization: `Bearer ${signAccessToken(keys, {})}` } }
  const ref = await upload(first, owner, 'chat', fixtures.png())
  // A URL signed by one instance opens the medium on the other.
  t.equal((await second.inject({ method: 'GET', url: ref.url })).statusCode, 200)
  t.equal((await second.inject({ method: 'GET', url: `/media/${ref.id}/content` })).statusCode, 404)
})
