import type { MediaRef } from '@sm/contracts'
import { request, startConsumer } from '@sm/platform'
import t from 'tap'
import * as fixtures from './fixtures.ts'
import { buildTestApp, peer, upload } from './helper.ts'

const ctx = await buildTestApp(t)
const { app, namespace } = ctx
const bus = await peer(t, namespace)
const silent = { error() {}, warn() {}, info() {}, debug() {} }

type Items = { items: MediaRef[] }
const claim = (body: unknown) => request<Items>(bus.nc, namespace, 'media.claim', body, 10_000)
const get = (body: unknown) => request<Items>(bus.nc, namespace, 'media.get', body, 10_000)
const release = (body: unknown) => request<{ released: number }>(bus.nc, namespace, 'media.release', body, 10_000)
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code?: string }) => error.code,
  )

const alice = ctx.newUser()
const bob = ctx.newUser()
const carol = ctx.newUser()

t.test('media.claim attaches the owner’s uploads, in order, idempotently', async (t) => {
  const first = await upload(app, alice, 'post', fixtures.png())
  const second = await upload(app, alice, 'post', fixtures.pdf())
  const claimed = await claim({ userId: alice.id, purpose: 'post', ids: [second.id, first.id], ref: 'post:1' })
  t.same(
    claimed.items.map((item) => item.id),
    [second.id, first.id],
    'in the order asked',
  )
  t.same(claimed.items[1], first)
  const again = await claim({ userId: alice.id, purpose: 'post', ids: [first.id, second.id], ref: 'post:1' })
  t.equal(again.items.length, 2, 'a retry with the same ref succeeds')
  t.equal(await failure(claim({ userId: alice.id, purpose: 'post', ids: [first.id], ref: 'post:2' })), 'MEDIA_ALREADY_CLAIMED')
})

t.test('media.claim refuses others’ media, wrong purposes and unknown ids — all or nothing', async (t) => {
  const mine = await upload(app, alice, 'post', fixtures.png())
  const avatar = await upload(app, alice, 'avatar', fixtures.png())
  const bobs = await upload(app, bob, 'post', fixtures.png())
  const unknown = '0190a5c4-0000-7000-8000-000000000000'
  t.equal(await failure(claim({ userId: alice.id, purpose: 'post', ids: [mine.id, bobs.id], ref: 'post:3' })), 'MEDIA_FORBIDDEN')
  t.equal(await failure(claim({ userId: alice.id, purpose: 'post', ids: [mine.id, avatar.id], ref: 'post:3' })), 'MEDIA_WRONG_PURPOSE')
  t.equal(await failure(claim({ userId: alice.id, purpose: 'post', ids: [mine.id, unknown], ref: 'post:3' })), 'MEDIA_NOT_FOUND')
  t.equal(await failure(claim({ userId: alice.id, purpose: 'post', ids: ['nope'], ref: 'post:3' })), 'VALIDATION')
  t.equal(await failure(claim({ userId: alice.id, purpose: 'banner', ids: [mine.id], ref: 'post:3' })), 'VALIDATION')
  // None of the refused claims attached `mine`: another ref can still take it.
  t.equal((await claim({ userId: alice.id, purpose: 'post', ids: [mine.id], ref: 'post:4' })).items.length, 1)
  t.equal(await failure(claim({ userId: bob.id, purpose: 'post', ids: [mine.id], ref: 'post:4' })), 'MEDIA_FORBIDDEN')
})

t.test('two services racing to claim one upload: exactly one wins', async (t) => {
  for (let round = 0; round < 5; round++) {
    const contested = await upload(app, alice, 'post', fixtures.png())
    const outcomes = await Promise.all(
      ['post:race-a', 'post:race-b', 'post:race-c'].map((ref) =>
        failure(claim({ userId: alice.id, purpose: 'post', ids: [contested.id], ref })),
      ),
    )
    t.same(outcomes.sort(), ['MEDIA_ALREADY_CLAIMED', 'MEDIA_ALREADY_CLAIMED', 'resolved'], `round ${round}`)
  }
})

t.test('an avatar can be claimed again for the same ref only', async (t) => {
  const avatar = await upload(app, alice, 'avatar', fixtures.jpeg())
  await claim({ userId: alice.id, purpose: 'avatar', ids: [avatar.id], ref: `avatar:${alice.id}` })
  t.equal((await claim({ userId: alice.id, purpose: 'avatar', ids: [avatar.id], ref: `avatar:${alice.id}` })).items.length, 1)
  t.equal(
    await failure(claim({ userId: alice.id, purpose: 'avatar', ids: [avatar.id], ref: 'avatar:someone-else' })),
    'MEDIA_ALREADY_CLAIMED',
  )
})

t.test('media.get: unknown and invisible ids are left out; chat URLs are signed for readers', async (t) => {
  const post = await upload(app, alice, 'post', fixtures.png())
  const unclaimed = await upload(app, alice, 'post', fixtures.gif())
  const chat = await upload(app, alice, 'chat', fixtures.mp3())
  await claim({ userId: alice.id, purpose: 'post', ids: [post.id], ref: 'post:9' })
  await claim({ userId: alice.id, purpose: 'chat', ids: [chat.id], ref: 'chat:c9', audience: [bob.id] })
  const unknown = '0190a5c4-0000-7000-8000-000000000001'
  const ids = [chat.id, unknown, unclaimed.id, post.id]

  const anonymous = await get({ ids })
  t.same(
    anonymous.items.map((i) => i.id),
    [post.id],
    'without a viewer: claimed public media only',
  )
  const forBob = await get({ ids, viewerId: bob.id })
  t.same(
    forBob.items.map((i) => i.id),
    [chat.id, post.id],
  )
  t.match(forBob.items[0]?.url, /\?exp=\d+&sig=/)
  const forCarol = await get({ ids, viewerId: carol.id })
  t.same(
    forCarol.items.map((i) => i.id),
    [post.id],
  )
  const forAlice = await get({ ids, viewerId: alice.id })
  t.same(
    forAlice.items.map((i) => i.id),
    [chat.id, unclaimed.id, post.id],
    'the owner sees her unclaimed upload too',
  )
  t.equal(await failure(get({ ids: 'x' })), 'VALIDATION')
  t.same(await get({ ids: [] }), { items: [] })
})

t.test('media.release deletes only what that ref claimed', async (t) => {
  const a = await upload(app, alice, 'post', fixtures.png())
  const b = await upload(app, alice, 'post', fixtures.png())
  await claim({ userId: alice.id, purpose: 'post', ids: [a.id], ref: 'post:r1' })
  await claim({ userId: alice.id, purpose: 'post', ids: [b.id], ref: 'post:r2' })
  const filesBefore = (await ctx.files()).length
  t.same(await release({ ids: [a.id, b.id], ref: 'post:r1' }), { released: 1 })
  t.equal((await app.inject({ method: 'GET', url: a.url })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: b.url })).statusCode, 200)
  t.equal((await ctx.files()).length, filesBefore - 1, 'the bytes are gone')
  t.same(await release({ ids: [a.id], ref: 'post:r1' }), { released: 0 }, 'a repeat is harmless')
  t.equal(await failure(release({ ids: [a.id] })), 'VALIDATION')
  t.same(await release({ ids: [], ref: 'post:r1' }), { released: 0 })
  t.same(await claim({ userId: alice.id, purpose: 'post', ids: [], ref: 'post:r3' }), { items: [] })
})

t.test('uploads and deletions are published as events', async (t) => {
  const uploaded = await upload(app, carol, 'post', fixtures.png())
  const requestId = 'delete-req-7'
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/media/${uploaded.id}`, headers: { ...carol.headers, 'x-request-id': requestId } }))
      .statusCode,
    204,
  )
  const seen: Array<{ type: string; data: Record<string, unknown> }> = []
  const headers: Array<string | undefined> = []
  await new Promise<void>((resolve) => {
    void startConsumer({
      bus,
      durable: 'test-media-events',
      types: ['media.uploaded', 'media.deleted'],
      log: silent,
      handler: async (event, meta) => {
        if ((event.data as { mediaId?: string }).mediaId !== uploaded.id) return
        seen.push(event as never)
        headers.push(meta.requestId)
        if (seen.length === 2) resolve()
      },
    }).then((consumer) => t.teardown(() => consumer.stop()))
  })
  t.match(seen[0], {
    type: 'media.uploaded',
    data: { mediaId: uploaded.id, ownerId: carol.id, purpose: 'post', kind: 'image', mime: 'image/png', size: uploaded.size },
  })
  t.match(seen[1], { type: 'media.deleted', data: { mediaId: uploaded.id, ownerId: carol.id, purpose: 'post', reason: 'owner' } })
  t.equal(headers[1], requestId)
})
