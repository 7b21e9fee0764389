import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import * as fixtures from '../fixtures.ts'
import { buildTestApp, eventually, multipart, upload, uploadForm } from '../helper.ts'

const KiB = 1024
const ctx = await buildTestApp(t, {
  MEDIA_MAX_IMAGE_BYTES: String(64 * KiB),
  MEDIA_MAX_DOCUMENT_BYTES: String(32 * KiB),
  MEDIA_MAX_VIDEO_BYTES: String(256 * KiB),
  MEDIA_MAX_AUDIO_BYTES: String(128 * KiB),
})
const { app } = ctx

const post = (user: { headers: Record<string, string> }, form: { payload: Buffer; headers: Record<string, string> }, url = '/media') =>
  app.inject({ method: 'POST', url, headers: { ...user.headers, ...form.headers }, payload: form.payload })

const kinds = [
  { name: 'png', file: fixtures.png(3, 2), mime: 'image/png', kind: 'image', width: 3, height: 2 },
  { name: 'jpeg', file: fixtures.jpeg(5, 4), mime: 'image/jpeg', kind: 'image', width: 5, height: 4 },
  { name: 'gif', file: fixtures.gif(7, 6), mime: 'image/gif', kind: 'image', width: 7, height: 6 },
  { name: 'webp', file: fixtures.webp(9, 8), mime: 'image/webp', kind: 'image', width: 9, height: 8 },
  { name: 'mp4', file: fixtures.mp4(), mime: 'video/mp4', kind: 'video' },
  { name: 'mov', file: fixtures.mov(), mime: 'video/quicktime', kind: 'video' },
  { name: 'voice message (audio-only mp4)', file: fixtures.mp4WithTracks(0, 0), mime: 'audio/mp4', kind: 'audio' },
  { name: 'mp4 with tracks', file: fixtures.mp4WithTracks(1280, 720), mime: 'video/mp4', kind: 'video', width: 1280, height: 720 },
  { name: 'webm', file: fixtures.webm(), mime: 'video/webm', kind: 'video' },
  {
    name: 'webm with video',
    file: fixtures.webmWithTracks({ width: 640, height: 480 }),
    mime: 'video/webm',
    kind: 'video',
    width: 640,
    height: 480,
  },
  { name: 'voice message (audio-only webm)', file: fixtures.webmWithTracks(), mime: 'audio/webm', kind: 'audio' },
  { name: 'mp3', file: fixtures.mp3(), mime: 'audio/mpeg', kind: 'audio' },
  { name: 'ogg', file: fixtures.ogg(), mime: 'audio/ogg', kind: 'audio' },
  { name: 'wav', file: fixtures.wav(), mime: 'audio/wav', kind: 'audio' },
  { name: 'm4a', file: fixtures.m4a(), mime: 'audio/x-m4a', kind: 'audio' },
  { name: 'pdf', file: fixtures.pdf(), mime: 'application/pdf', kind: 'document' },
  { name: 'text', file: fixtures.text(), mime: 'text/plain', kind: 'document' },
  { name: 'zip', file: fixtures.zip({ 'notes.txt': 'hello' }), mime: 'application/zip', kind: 'document' },
  {
    name: 'docx',
    file: fixtures.docx(),
    mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    kind: 'document',
  },
] as const

t.test('every kind uploads, is typed from its bytes, and downloads byte for byte', async (t) => {
  const alice = ctx.newUser()
  for (const sample of kinds) {
    const ref = await upload(app, alice, 'post', sample.file, `file.${sample.name}`)
    t.match(ref, { kind: sample.kind, mime: sample.mime, size: sample.file.length, url: `/media/${ref.id}/content` }, sample.name)
    if ('width' in sample) t.match(ref, { width: sample.width, height: sample.height }, `${sample.name} dimensions`)
    else t.notOk('width' in ref, `${sample.name} has no dimensions`)
    const download = await app.inject({ method: 'GET', url: ref.url })
    t.equal(download.statusCode, 200)
    t.ok(download.rawPayload.equals(sample.file), `${sample.name} comes back identical`)
  }
})

t.test('files land in the purpose directory under random names, never the client name', async (t) => {
  const alice = ctx.newUser()
  const before = new Set(await ctx.files())
  await upload(app, alice, 'avatar', fixtures.png(), '../../../../etc/passwd')
  await upload(app, alice, 'post', fixtures.pdf(), '..\\..\\evil.pdf')
  await upload(app, alice, 'chat', fixtures.text(), '/tmp/x.txt')
  const added = (await ctx.files()).filter((f) => !before.has(f)).sort()
  t.equal(added.length, 3)
  t.match(added, [/^chat-media\/[0-9a-f]{32}$/, /^posts_media\/[0-9a-f]{32}$/, /^profilepics\/[0-9a-f]{32}$/])
})

t.test('the type comes from the bytes, not the name or declared type', async (t) => {
  const alice = ctx.newUser()
  const disguised = await upload(app, alice, 'post', fixtures.png(), 'holiday.mp4', 'video/mp4')
  t.match(disguised, { kind: 'image', mime: 'image/png' })
  const served = await app.inject({ method: 'GET', url: disguised.url })
  t.equal(served.headers['content-type'], 'image/png')
})

t.test('scripts, markup and executables are refused with 415 and leave nothing behind', async (t) => {
  const alice = ctx.newUser()
  const before = await ctx.files()
  const refused = {
    'script named .jpg': [fixtures.script(), 'photo.jpg', 'image/jpeg'],
    'shell script named .jpg': [fixtures.shellScript(), 'photo.jpg', 'image/jpeg'],
    svg: [fixtures.svg(), 'logo.svg', 'image/svg+xml'],
    'svg with an xml prolog': [fixtures.svgWithProlog(), 'logo.png', 'image/png'],
    html: [fixtures.html(), 'page.txt', 'text/plain'],
    executable: [fixtures.elf(), 'song.mp3', 'audio/mpeg'],
    'binary junk': [Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0]), 'data.txt', 'text/plain'],
  } as const
  for (const [name, [file, filename, type]] of Object.entries(refused)) {
    const response = await post(alice, uploadForm('post', file, filename, type))
    t.equal(response.statusCode, 415, name)
    t.match(response.json(), { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' }, name)
  }
  t.same(await ctx.files(), before)
})

t.test('avatars must be images', async (t) => {
  const alice = ctx.newUser()
  const response = await post(alice, uploadForm('avatar', fixtures.pdf(), 'me.png', 'image/png'))
  t.equal(response.statusCode, 415)
  t.match(response.json().message, /not accepted here/)
  t.match(await upload(app, alice, 'avatar', fixtures.jpeg()), { kind: 'image' })
})

t.test('an upload over its kind limit gets 413 and leaves no partial file', async (t) => {
  const alice = ctx.newUser()
  const before = await ctx.files()
  // A PNG header then 70 KiB: the image limit here is 64 KiB, video's 256 KiB would allow it.
  const bigImage = Buffer.concat([fixtures.png(), Buffer.alloc(70 * KiB, 1)])
  const image = await post(alice, uploadForm('post', bigImage))
  t.equal(image.statusCode, 413)
  t.match(image.json(), { code: 'PAYLOAD_TOO_LARGE' })
  t.match(image.json().message, /image/)
  t.equal(image.headers.connection, 'close', 'the client is told to stop sending')
  // Over every limit: refused while still streaming.
  const huge = await post(alice, uploadForm('post', Buffer.concat([fixtures.mp4(), Buffer.alloc(300 * KiB)])))
  t.equal(huge.statusCode, 413)
  // A document within the image limit but over its own.
  const pdf = await post(alice, uploadForm('post', Buffer.concat([fixtures.pdf(), Buffer.alloc(40 * KiB, 32)])))
  t.equal(pdf.statusCode, 413)
  // Streamed as WebM video (256 KiB allowed), found to be audio only (128 KiB) once stored.
  const voice = await post(alice, uploadForm('chat', Buffer.concat([fixtures.webmWithTracks(), Buffer.alloc(150 * KiB)])))
  t.equal(voice.statusCode, 413)
  t.match(voice.json().message, /audio/)
  t.same(await ctx.files(), before)
})

t.test('purpose: before the file, or as ?purpose=, and nothing else', async (t) => {
  const alice = ctx.newUser()
  const late = multipart([
    { name: 'file', value: fixtures.png(), filename: 'a.png' },
    { name: 'purpose', value: 'post' },
  ])
  const refused = await post(alice, late)
  t.equal(refused.statusCode, 400)
  t.match(refused.json(), { code: 'PURPOSE_REQUIRED' })
  const viaQuery = await post(alice, late, '/media?purpose=post')
  t.equal(viaQuery.statusCode, 201)
  const bad = await post(alice, uploadForm('banner', fixtures.png()))
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'VALIDATION' })
  const badQuery = await post(alice, late, '/media?purpose=banner')
  t.equal(badQuery.statusCode, 400)
  const twice = multipart([
    { name: 'purpose', value: 'post' },
    { name: 'purpose', value: 'chat' },
    { name: 'file', value: fixtures.png(), filename: 'a.png' },
  ])
  t.equal((await post(alice, twice)).statusCode, 400)
})

t.test('malformed requests get clear 4xx answers', async (t) => {
  const alice = ctx.newUser()
  const anonymous = await app.inject({ method: 'POST', url: '/media', ...uploadForm('post', fixtures.png()) })
  t.equal(anonymous.statusCode, 401)
  const json = await app.inject({ method: 'POST', url: '/media', headers: alice.headers, payload: { purpose: 'post' } })
  t.equal(json.statusCode, 415)
  t.match(json.json(), { code: 'UNSUPPORTED_MEDIA_TYPE' })
  const noFile = await post(alice, multipart([{ name: 'purpose', value: 'post' }]))
  t.equal(noFile.statusCode, 400)
  t.match(noFile.json(), { code: 'FILE_REQUIRED' })
  const empty = await post(alice, uploadForm('post', Buffer.alloc(0)))
  t.equal(empty.statusCode, 400)
  t.match(empty.json(), { code: 'EMPTY_FILE' })
  const twoFiles = multipart([
    { name: 'purpose', value: 'post' },
    { name: 'file', value: fixtures.png(), filename: 'a.png' },
    { name: 'file', value: fixtures.png(), filename: 'b.png' },
  ])
  t.equal((await post(alice, twoFiles)).statusCode, 201, 'the first file is taken, the rest ignored')
  const manyFields = multipart([
    ...Array.from({ length: 6 }, (_, i) => ({ name: `extra${i}`, value: 'x' })),
    { name: 'purpose', value: 'post' },
    { name: 'file', value: fixtures.png(), filename: 'a.png' },
  ])
  const flooded = await post(alice, manyFields)
  t.equal(flooded.statusCode, 413)
  t.match(flooded.json(), { code: 'PAYLOAD_TOO_LARGE' })
  const garbage = await app.inject({
    method: 'POST',
    url: '/media',
    headers: { ...alice.headers, 'content-type': 'multipart/form-data; boundary=abc' },
    payload: '--abc\r\nContent-Disposition: form-data; name="purpose"\r\n\r\npost',
  })
  t.equal(garbage.statusCode, 400)
  t.match(garbage.json(), { code: 'UPLOAD_INCOMPLETE' })
  const noBoundary = await app.inject({
    method: 'POST',
    url: '/media',
    headers: { ...alice.headers, 'content-type': 'multipart/form-data' },
    payload: 'whatever',
  })
  t.equal(noBoundary.statusCode, 400)
  const unknownQuery = await post(alice, uploadForm('post', fixtures.png()), '/media?colour=red')
  t.equal(unknownQuery.statusCode, 400)
})

t.test('a truncated multipart body leaves nothing behind', async (t) => {
  const alice = ctx.newUser()
  const before = await ctx.files()
  const form = uploadForm('post', Buffer.concat([fixtures.mp4(), Buffer.alloc(20 * KiB, 3)]))
  const cut = form.payload.subarray(0, form.payload.length - 5 * KiB)
  const response = await app.inject({ method: 'POST', url: '/media', headers: { ...alice.headers, ...form.headers }, payload: cut })
  t.equal(response.statusCode, 400)
  t.match(response.json(), { code: 'UPLOAD_INCOMPLETE' })
  t.same(await ctx.files(), before)
})

t.test('a client that disconnects mid-upload leaves nothing behind', async (t) => {
  const alice = ctx.newUser()
  const before = await ctx.files()
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const form = uploadForm('post', Buffer.concat([fixtures.mp4(), Buffer.alloc(200 * KiB, 3)]))
  const sent = new Promise<void>((resolve) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/media',
      headers: { ...alice.headers, ...form.headers, 'content-length': String(form.payload.length) },
    })
    req.on('error', () => resolve())
    req.write(form.payload.subarray(0, 100 * KiB), () => {
      // Give the server a moment to start streaming to disk, then vanish.
      setTimeout(() => {
        req.destroy()
        resolve()
      }, 100)
    })
  })
  await sent
  const files = await eventually(async () => {
    const now = await ctx.files()
    return now.length === before.length ? now : undefined
  })
  t.same(files, before)
})
