import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { isoTracks } from '../../src/services/video-size.ts'
import * as fixtures from '../fixtures.ts'

const dir = await mkdtemp(join(tmpdir(), 'video-size-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const sizeOf = async (bytes: Buffer) => {
  const path = join(dir, `${Math.random()}`)
  await writeFile(path, bytes)
  return isoTracks(path)
}

t.test('the picture size comes from the video track header, wherever moov is', async (t) => {
  t.same(await sizeOf(fixtures.mp4WithTracks(1280, 720)), { hasVideo: true, width: 1280, height: 720 })
  t.same(await sizeOf(fixtures.mp4WithTracks(640, 480, true)), { hasVideo: true, width: 640, height: 480 })
})

t.test('a sound track only: no video', async (t) => {
  t.same(await sizeOf(fixtures.mp4WithTracks(0, 0)), { hasVideo: false })
})

t.test('no moov, a broken box or a 64-bit size: no dimensions, no error', async (t) => {
  t.equal(await sizeOf(fixtures.mp4()), undefined)
  const broken = Buffer.concat([fixtures.mp4(0).subarray(0, 24), Buffer.from([0, 0, 0, 4, 0x6d, 0x6f, 0x6f, 0x76])])
  t.equal(await sizeOf(broken), undefined)
  // A 64-bit mdat size (size field 1) is skipped correctly.
  const large = Buffer.alloc(16 + 32)
  large.writeUInt32BE(1, 0)
  large.write('mdat', 4, 'ascii')
  large.writeBigUInt64BE(48n, 8)
  const withLarge = Buffer.concat([fixtures.mp4(0).subarray(0, 24), large, fixtures.mp4WithTracks(320, 240, true).subarray(24)])
  t.same(await sizeOf(withLarge), { hasVideo: true, width: 320, height: 240 })
  // An mdat whose size is 0 runs to the end of the file: nothing after it to find.
  const open = Buffer.concat([fixtures.mp4(0).subarray(0, 24), Buffer.from([0, 0, 0, 0, 0x6d, 0x64, 0x61, 0x74, 1, 2, 3])])
  t.equal(await sizeOf(open), undefined)
})

t.test('a version-1 track header (64-bit times) is read at its own offsets', async (t) => {
  const body = Buffer.alloc(4 + 32 + 52 + 8)
  body[0] = 1
  body.writeUInt32BE(1920 * 65536, 88)
  body.writeUInt32BE(1080 * 65536, 92)
  const tkhd = Buffer.concat([Buffer.from([0, 0, 0, 8 + body.length]), Buffer.from('tkhd'), body])
  const trak = Buffer.concat([Buffer.from([0, 0, 0, 8 + tkhd.length]), Buffer.from('trak'), tkhd])
  const moov = Buffer.concat([Buffer.from([0, 0, 0, 8 + trak.length]), Buffer.from('moov'), trak])
  t.same(await sizeOf(Buffer.concat([fixtures.mp4(0).subarray(0, 24), moov])), { hasVideo: true, width: 1920, height: 1080 })
})
