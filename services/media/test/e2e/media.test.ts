import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiError, Client } from '@sm/client'
import { connectBus, request } from '@sm/platform'
import { startStack, TEST_NATS_URL } from '@sm/testing'
import t from 'tap'
import * as fixtures from '../fixtures.ts'

// The real system: auth, media and the gateway as their own processes, driven with the SDK.
const mediaRoot = await mkdtemp(join(tmpdir(), 'media-e2e-'))
const stack = await startStack({
  services: ['auth', 'media'],
  env: { MEDIA_ROOT: mediaRoot, BCRYPT_COST: '4', MEDIA_MAX_IMAGE_BYTES: String(1024 * 1024) },
})
t.teardown(async () => {
  // On failure, what the processes said is the first thing to look at.
  if (!t.passing()) {
    for (const process of [stack.gateway, stack.services.media, stack.services.auth]) {
      if (process) t.comment(`--- ${process.name} ---\n${process.output.join('').slice(-4000)}`)
    }
  }
  await stack.stop()
  await rm(mediaRoot, { recursive: true, force: true })
})

const status = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (error: unknown) => (error instanceof ApiError ? error.status : Promise.reject(error)),
  )

async function files(): Promise<string[]> {
  const entries = await readdir(mediaRoot, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

async function user(name: string): Promise<Client> {
  const client = new Client({ baseUrl: stack.url })
  await client.auth.register({ username: name, email: `${name}@e2e.test`, password: 'media e2e password' })
  return client
}

const alice = await user('alice_media')
const bob = await user('bob_media')
const anonymous = new Client({ baseUrl: stack.url })

t.test('every kind goes up and comes back byte for byte through the gateway', async (t) => {
  const samples = {
    png: fixtures.png(40, 30),
    jpeg: fixtures.jpeg(),
    gif: fixtures.gif(),
    webp: fixtures.webp(),
    mp4: fixtures.mp4WithTracks(640, 360),
    mov: fixtures.mov(),
    webm: fixtures.webm(),
    mp3: fixtures.mp3(),
    ogg: fixtures.ogg(),
    wav: fixtures.wav(),
    m4a: fixtures.m4a(),
    pdf: fixtures.pdf(),
    zip: fixtures.zip({ 'a.txt': 'a' }),
    docx: fixtures.docx(),
    text: fixtures.text(),
  }
  for (const [name, bytes] of Object.entries(samples)) {
    const ref = await alice.media.upload('post', new Blob([bytes]), { filename: `x.${name}` })
    const response = await anonymous.media.download(ref)
    t.equal(response.headers.get('content-type')?.split(';')[0], ref.mime, name)
    t.equal(response.headers.get('x-content-type-options'), 'nosniff')
    t.ok(Buffer.from(await response.arrayBuffer()).equals(bytes), `${name} identical`)
  }
  const image = await alice.media.upload('avatar', fixtures.png(40, 30), { filename: 'me.mp4', contentType: 'video/mp4' })
  t.match(image, { kind: 'image', mime: 'image/png', width: 40, height: 30 })
  t.same(await alice.media.get(image.id), image)
})

t.test('path-traversal names and a truncated body leave nothing outside, and nothing behind', async (t) => {
  const before = await files()
  await alice.media.upload('post', fixtures.png(), { filename: '../../../../../tmp/owned.png' })
  const added = (await files()).filter((f) => !before.includes(f))
  t.equal(added.length, 1)
  t.match(added[0], new RegExp(`^${mediaRoot}/posts_media/[0-9a-f]{32}$`))

  const boundary = 'cut-here'
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\npost\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n`
  const truncated = Buffer.concat([Buffer.from(head), fixtures.mp4(64 * 1024)])
  const response = await fetch(`${stack.url}/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: truncated,
  })
  t.equal(response.status, 400)
  t.match(await response.json(), { code: 'UPLOAD_INCOMPLETE' })
  t.equal((await files()).length, before.length + 1, 'no partial file')
})

t.test("someone else's upload cannot be claimed (media.claim over the stack's NATS)", async (t) => {
  const bus = await connectBus({ url: TEST_NATS_URL, namespace: stack.namespace, name: 'e2e-peer' })
  t.teardown(() => bus.nc.close())
  const ref = await alice.media.upload('post', fixtures.png())
  const bobId = (await bob.auth.me()).id
  const aliceId = (await alice.auth.me()).id
  const refused = await request(
    bus.nc,
    stack.namespace,
    'media.claim',
    { userId: bobId, purpose: 'post', ids: [ref.id], ref: 'post:bob' },
    10_000,
  ).catch((error: { code?: string }) => error.code)
  t.equal(refused, 'MEDIA_FORBIDDEN')
  const claimed = await request<{ items: Array<{ id: string }> }>(
    bus.nc,
    stack.namespace,
    'media.claim',
    { userId: aliceId, purpose: 'post', ids: [ref.id], ref: 'post:alice' },
    10_000,
  )
  t.same(
    claimed.items.map((item) => item.id),
    [ref.id],
  )
})

t.test('range requests pass through the gateway', async (t) => {
  const audio = fixtures.wav(5000)
  const ref = await alice.media.upload('post', audio)
  const partial = await anonymous.media.download(ref, { range: 'bytes=100-199' })
  t.equal(partial.status, 206)
  t.equal(partial.headers.get('content-range'), `bytes 100-199/${audio.length}`)
  t.ok(Buffer.from(await partial.arrayBuffer()).equals(audio.subarray(100, 200)))
  t.equal(await status(anonymous.media.download(ref, { range: `bytes=${audio.length}-` })), 416)
})

t.test('refused uploads: SVG, scripts, oversize — 4xx and no file left', async (t) => {
  const before = await files()
  t.equal(await status(alice.media.upload('post', fixtures.svg(), { filename: 'a.svg', contentType: 'image/svg+xml' })), 415)
  t.equal(await status(alice.media.upload('post', fixtures.script(), { filename: 'cat.jpg', contentType: 'image/jpeg' })), 415)
  const big = Buffer.concat([fixtures.png(), Buffer.alloc(2 * 1024 * 1024, 9)])
  t.equal(await status(alice.media.upload('post', big)), 413)
  t.equal(await status(anonymous.media.upload('post', fixtures.png())), 401)
  t.same(await files(), before)
})

t.test("chat media are private; others' media cannot be read, deleted or fetched", async (t) => {
  const ref = await alice.media.upload('chat', fixtures.jpeg())
  const plain = `/media/${ref.id}/content`
  t.equal(await status(anonymous.media.download(plain)), 404)
  t.equal(await status(bob.media.download(plain)), 404)
  t.equal(await status(bob.media.get(ref.id)), 404)
  t.equal(await status(alice.media.download(plain)), 200)
  t.equal(await status(anonymous.media.download(ref.url, { anonymous: true })), 200, 'the signed URL works on its own')
  t.equal(await status(bob.media.delete(ref.id)), 404)

  const post = await alice.media.upload('post', fixtures.png())
  t.equal(await status(bob.media.delete(post.id)), 403)
  await alice.media.delete(post.id)
  t.equal(await status(anonymous.media.download(post)), 404)
})

/** VmRSS of a process in bytes. */
async function rss(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1])
  return kb * 1024
}

t.test('a 50 MB upload and download stream through the gateway within a memory bound', async (t) => {
  const total = 50 * 1024 * 1024
  const chunk = Buffer.alloc(256 * 1024)
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 255
  const header = fixtures.mp4(0)
  const sentHash = createHash('sha256')
  let sent = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close()
      const piece =
        sent === 0 ? Buffer.concat([header, chunk.subarray(header.length)]) : chunk.subarray(0, Math.min(chunk.length, total - sent))
      sent += piece.length
      sentHash.update(piece)
      controller.enqueue(new Uint8Array(piece))
    },
  })

  const pids = { gateway: stack.gateway.process.pid, media: stack.services.media?.process.pid }
  const baseline = { gateway: await rss(pids.gateway), media: await rss(pids.media) }
  const peak = { ...baseline }
  const sampler = setInterval(async () => {
    peak.gateway = Math.max(peak.gateway, await rss(pids.gateway))
    peak.media = Math.max(peak.media, await rss(pids.media))
  }, 20)
  try {
    const ref = await alice.media.upload('post', body, { filename: 'big.mp4' })
    t.match(ref, { kind: 'video', mime: 'video/mp4', size: total })

    const response = await anonymous.media.download(ref)
    const receivedHash = createHash('sha256')
    let received = 0
    for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
      received += piece.length
      receivedHash.update(piece)
    }
    t.equal(received, total)
    t.equal(receivedHash.digest('hex'), sentHash.digest('hex'), 'the same 50 MB came back')
  } finally {
    clearInterval(sampler)
  }
  // V8 frees Buffers' memory lazily: a collection is forced only after ~64 MiB of new
  // off-heap allocations, so a process that streams 50 MB still shows up to ~64 MiB of
  // garbage. One that held the body would add the 50 MB it keeps (and its copies) on top.
  const bound = 96 * 1024 * 1024
  t.ok(peak.gateway - baseline.gateway < bound, `gateway grew ${((peak.gateway - baseline.gateway) / 2 ** 20).toFixed(1)} MiB`)
  t.ok(peak.media - baseline.media < bound, `media grew ${((peak.media - baseline.media) / 2 ** 20).toFixed(1)} MiB`)
})
