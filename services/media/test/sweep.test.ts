import { utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request, startConsumer } from '@sm/platform'
import t from 'tap'
import * as fixtures from './fixtures.ts'
import { buildTestApp, eventually, peer, upload } from './helper.ts'

// Uploads left unclaimed for over a second are swept, checked every second.
const ctx = await buildTestApp(t, { MEDIA_UNCLAIMED_TTL_S: '1', MEDIA_SWEEP_INTERVAL_S: '1' })
const { app, namespace } = ctx
const bus = await peer(t, namespace)

t.test('unclaimed uploads are swept, bytes and rows; claimed ones stay', async (t) => {
  const alice = ctx.newUser()
  const abandoned = await upload(app, alice, 'chat', fixtures.png())
  const kept = await upload(app, alice, 'post', fixtures.png())
  await request(bus.nc, namespace, 'media.claim', { userId: alice.id, purpose: 'post', ids: [kept.id], ref: 'post:kept' }, 10_000)
  // A temp file a crashed upload left behind, an hour old.
  const stale = join(ctx.mediaRoot, 'posts_media', '.upload-deadbeef')
  await writeFile(stale, 'partial')
  const anHourAgo = new Date(Date.now() - 3600_000)
  await utimes(stale, anHourAgo, anHourAgo)

  const deleted = new Promise<Record<string, unknown>>((resolve) => {
    void startConsumer({
      bus,
      durable: 'test-sweep',
      types: ['media.deleted'],
      log: { error() {}, warn() {}, info() {}, debug() {} },
      handler: async (event) => resolve(event.data as Record<string, unknown>),
    }).then((consumer) => t.teardown(() => consumer.stop()))
  })
  t.match(await deleted, { mediaId: abandoned.id, ownerId: alice.id, purpose: 'chat', reason: 'unclaimed' })
  const files = await eventually(async () => {
    const now = await ctx.files()
    return now.length === 1 ? now : undefined
  })
  t.match(files, [/^posts_media\/[0-9a-f]{32}$/], 'only the claimed file and no temp file remain')
  t.equal((await app.inject({ method: 'GET', url: `/media/${abandoned.id}`, headers: alice.headers })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: kept.url })).statusCode, 200)
})
