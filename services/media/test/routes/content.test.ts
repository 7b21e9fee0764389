import { request } from '@sm/platform'
import t from 'tap'
import * as fixtures from '../fixtures.ts'
import { buildTestApp, peer, upload } from '../helper.ts'

const ctx = await buildTestApp(t, { MEDIA_URL_SECRET: 'a-configured-secret-for-tests' })
const { app } = ctx
const bus = await peer(t, ctx.namespace)
const claim = (body: unknown) => request<{ items: Array<{ id: string; url: string }> }>(bus.nc, ctx.namespace, 'media.claim', body, 10_000)

const alice = ctx.newUser()
const bob = ctx.newUser()
const carol = ctx.newUser()

t.test('public media are served with the right headers', async (t) => {
  const image = await upload(app, alice, 'post', fixtures.png())
  const response = await app.inject({ method: 'GET', url: image.url })
  t.equal(response.statusCode, 200)
  t.match(response.headers, {
    'content-type': 'image/png',
    'x-content-type-options': 'nosniff',
    'cache-control': 'public, max-age=31536000, immutable',
    'accept-ranges': 'bytes',
    etag: `"${image.id}"`,
    'content-disposition': 'inline',
    'content-length': String(image.size),
    'content-security-policy': "default-src 'none'; sandbox",
  })
  const document = await upload(app, alice, 'post', fixtures.pdf())
  const pdf = await app.inject({ method: 'GET', url: document.url })
  t.match(pdf.headers, { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${document.id}.pdf"` })
  const note = await upload(app, alice, 'post', fixtures.text())
  t.equal((await app.inject({ method: 'GET', url: note.url })).headers['content-type'], 'text/plain; charset=utf-8')

  const cached = await app.inject({ method: 'GET', url: image.url, headers: { 'if-none-match': `"${image.id}"` } })
  t.equal(cached.statusCode, 304)
  t.equal(cached.headers.etag, `"${image.id}"`)
  t.equal(cached.rawPayload.length, 0)

  const head = await app.inject({ method: 'HEAD', url: image.url })
  t.equal(head.statusCode, 200)
  t.equal(head.headers['content-length'], String(image.size))
  t.equal(head.rawPayload.length, 0)
})

t.test('range requests: 206 with the slice, 416 past the end, whole file otherwise', async (t) => {
  const audio = fixtures.wav(4000)
  const ref = await upload(app, alice, 'post', audio)
  const size = audio.length
  const get = (range: string, extra: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: ref.url, headers: { range, ...extra } })

  const first = await get('bytes=0-99')
  t.equal(first.statusCode, 206)
  t.equal(first.headers['content-range'], `bytes 0-99/${size}`)
  t.equal(first.headers['content-length'], '100')
  t.ok(first.rawPayload.equals(audio.subarray(0, 100)))

  const open = await get('bytes=4000-')
  t.equal(open.statusCode, 206)
  t.ok(open.rawPayload.equals(audio.subarray(4000)))

  const suffix = await get('bytes=-10')
  t.equal(suffix.headers['content-range'], `bytes ${size - 10}-${size - 1}/${size}`)
  t.ok(suffix.rawPayload.equals(audio.subarray(size - 10)))

  const clamped = await get(`bytes=${size - 5}-${size + 1000}`)
  t.equal(clamped.statusCode, 206)
  t.equal(clamped.rawPayload.length, 5)

  const past = await get(`bytes=${size}-`)
  t.equal(past.statusCode, 416)
  t.equal(past.headers['content-range'], `bytes */${size}`)
  t.match(past.json(), { statusCode: 416, code: 'RANGE_NOT_SATISFIABLE' })
  t.match(past.headers['content-type'], /^application\/json/)

  for (const ignored of ['bytes=0-1,5-6', 'items=0-5', 'bytes=9-3', 'bytes=-']) {
    const whole = await get(ignored)
    t.equal(whole.statusCode, 200, ignored)
    t.equal(whole.rawPayload.length, size)
  }
  t.equal((await get('bytes=0-9', { 'if-range': `"${ref.id}"` })).statusCode, 206, 'If-Range that matches')
  t.equal((await get('bytes=0-9', { 'if-range': '"stale"' })).statusCode, 200, 'If-Range that does not')
})

t.test('chat media: only the owner, conversation members or a signed URL', async (t) => {
  const ref = await upload(app, alice, 'chat', fixtures.jpeg())
  const plain = `/media/${ref.id}/content`
  t.match(ref.url, new RegExp(`^${plain}\\?exp=\\d+&sig=[\\w-]+$`), 'the owner gets a signed URL')
  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers })

  t.equal((await get(plain)).statusCode, 404, 'no credential')
  t.equal((await get(plain, bob.headers)).statusCode, 404, 'before the claim only the owner may read it')
  const owner = await get(plain, alice.headers)
  t.equal(owner.statusCode, 200)
  t.equal(owner.headers['cache-control'], 'private, max-age=3600')
  t.equal((await get(ref.url)).statusCode, 200, 'the signed URL works without a token')
  t.equal((await get(plain, { authorization: 'Bearer not-a-token' })).statusCode, 401)

  const url = new URL(ref.url, 'http://x')
  const sig = url.searchParams.get('sig') as string
  const exp = Number(url.searchParams.get('exp'))
  const tampered = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`
  t.equal((await get(`${plain}?exp=${exp}&sig=${tampered}`)).statusCode, 404, 'a tampered signature')
  t.equal((await get(`${plain}?exp=${exp + 3600}&sig=${sig}`)).statusCode, 404, 'a stretched expiry')
  const other = await upload(app, alice, 'chat', fixtures.gif())
  t.equal((await get(`/media/${other.id}/content?exp=${exp}&sig=${sig}`)).statusCode, 404, "another medium's signature")

  const claimed = await claim({ userId: alice.id, purpose: 'chat', ids: [ref.id], ref: 'chat:conv-1', audience: [alice.id, bob.id] })
  t.match(claimed.items[0]?.url, /\?exp=\d+&sig=/)
  t.equal((await get(plain, bob.headers)).statusCode, 200, 'a member reads it with their token')
  t.equal((await get(plain, carol.headers)).statusCode, 404, 'a non-member does not')
  t.equal((await get(plain)).statusCode, 404)

  const describedForBob = await app.inject({ method: 'GET', url: `/media/${ref.id}`, headers: bob.headers })
  t.equal(describedForBob.statusCode, 200)
  t.equal((await get(describedForBob.json().url)).statusCode, 200, "bob's signed URL works")
  t.equal((await app.inject({ method: 'GET', url: `/media/${ref.id}`, headers: carol.headers })).statusCode, 404)
})

t.test('an expired signature no longer opens chat media', async (t) => {
  const ref = await upload(app, alice, 'chat', fixtures.png())
  const { UrlSigner } = await import('../../src/services/url-signer.ts')
  // The same secret, signing as of two hours ago (one-hour buckets: expired by now).
  const old = new UrlSigner('a-configured-secret-for-tests', 3600).sign(ref.id, Date.now() - 2 * 3600_000)
  const response = await app.inject({ method: 'GET', url: `/media/${ref.id}/content?exp=${old.exp}&sig=${old.sig}` })
  t.equal(response.statusCode, 404)
  const fresh = new UrlSigner('a-configured-secret-for-tests', 3600).sign(ref.id)
  t.equal((await app.inject({ method: 'GET', url: `/media/${ref.id}/content?exp=${fresh.exp}&sig=${fresh.sig}` })).statusCode, 200)
})

t.test('GET /media/:id: the owner, or a reader of chat media', async (t) => {
  const ref = await upload(app, alice, 'post', fixtures.png())
  const mine = await app.inject({ method: 'GET', url: `/media/${ref.id}`, headers: alice.headers })
  t.equal(mine.statusCode, 200)
  t.same(mine.json(), ref)
  t.equal((await app.inject({ method: 'GET', url: `/media/${ref.id}`, headers: bob.headers })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: `/media/${ref.id}` })).statusCode, 401)
  const missing = await app.inject({ method: 'GET', url: '/media/0190a5c4-0000-7000-8000-000000000000', headers: alice.headers })
  t.match(missing.json(), { statusCode: 404, code: 'MEDIA_NOT_FOUND' })
  t.equal((await app.inject({ method: 'GET', url: '/media/not-a-uuid', headers: alice.headers })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/media/not-a-uuid/content' })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/media/0190a5c4-0000-7000-8000-000000000000/content' })).statusCode, 404)
})

t.test('DELETE /media/:id: owner only; the bytes go', async (t) => {
  const post = await upload(app, alice, 'post', fixtures.png())
  const chat = await upload(app, alice, 'chat', fixtures.png())
  const before = await ctx.files()

  const othersPublic = await app.inject({ method: 'DELETE', url: `/media/${post.id}`, headers: bob.headers })
  t.equal(othersPublic.statusCode, 403)
  t.match(othersPublic.json(), { code: 'MEDIA_FORBIDDEN' })
  const othersChat = await app.inject({ method: 'DELETE', url: `/media/${chat.id}`, headers: bob.headers })
  t.equal(othersChat.statusCode, 404, 'chat media does not admit it exists')
  t.equal((await app.inject({ method: 'DELETE', url: `/media/${post.id}` })).statusCode, 401)
  t.same(await ctx.files(), before, 'nothing changed')

  t.equal((await app.inject({ method: 'DELETE', url: `/media/${post.id}`, headers: alice.headers })).statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: post.url })).statusCode, 404)
  t.equal((await ctx.files()).length, before.length - 1)
  t.equal((await app.inject({ method: 'DELETE', url: `/media/${post.id}`, headers: alice.headers })).statusCode, 404, 'twice')
})

t.test('a row whose file vanished answers 404, not 500', async (t) => {
  const ref = await upload(app, alice, 'post', fixtures.png())
  const { rm } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const added = (await ctx.files()).filter((f) => f.startsWith('posts_media/'))
  for (const file of added) await rm(join(ctx.mediaRoot, file))
  const response = await app.inject({ method: 'GET', url: ref.url })
  t.equal(response.statusCode, 404)
  t.match(response.headers['content-type'], /^application\/json/)
  t.match(response.json(), { code: 'MEDIA_NOT_FOUND' })
})
