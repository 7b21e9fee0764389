import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { webmTracks } from '../../src/services/webm.ts'
import * as fixtures from '../fixtures.ts'

const dir = await mkdtemp(join(tmpdir(), 'webm-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const tracksOf = async (bytes: Buffer) => {
  const path = join(dir, `${Math.random()}`)
  await writeFile(path, bytes)
  return webmTracks(path)
}

t.test('audio-only and video WebM are told apart by their track list', async (t) => {
  t.same(await tracksOf(fixtures.webmWithTracks()), { hasVideo: false, hasAudio: true })
  t.same(await tracksOf(fixtures.webmWithTracks({ width: 1280, height: 720 })), {
    hasVideo: true,
    hasAudio: true,
    width: 1280,
    height: 720,
  })
})

t.test('no track list before the first cluster, or none at all: unknown', async (t) => {
  t.equal(await tracksOf(fixtures.webm()), undefined)
  const clusterFirst = Buffer.concat([
    fixtures.webm().subarray(0, 36),
    Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x43, 0xb6, 0x75, 0x81, 0x00]),
  ])
  t.equal(await tracksOf(clusterFirst), undefined)
  t.equal(await tracksOf(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x00])), undefined, 'a broken size')
})
