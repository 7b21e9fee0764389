import { open } from 'node:fs/promises'

/** The largest `moov` box we read to find a track's size; real ones are far smaller. */
const MAX_MOOV_BYTES = 8 * 1024 * 1024
export const ISO_VIDEO_MIMES: ReadonlySet<string> = new Set(['video/mp4', 'video/quicktime', 'video/x-m4v'])

interface Box {
  type: string
  /** Offset of the box's payload within the buffer. */
  body: number
  end: number
}

function* children(buffer: Buffer, start: number, end: number): Generator<Box> {
  let offset = start
  while (offset + 8 <= end) {
    let size = buffer.readUInt32BE(offset)
    let header = 8
    if (size === 1 && offset + 16 <= end) {
      size = Number(buffer.readBigUInt64BE(offset + 8))
      header = 16
    } else if (size === 0) {
      size = end - offset
    }
    if (size < header || offset + size > end) return
    yield { type: buffer.toString('latin1', offset + 4, offset + 8), body: offset + header, end: offset + size }
    offset += size
  }
}

export interface IsoTracks {
  hasVideo: boolean
  width?: number
  height?: number
}

/** Width and height of the first track with a picture, from its `tkhd` (16.16 fixed point). */
function tracksFromMoov(moov: Buffer): IsoTracks {
  for (const trak of children(moov, 0, moov.length)) {
    if (trak.type !== 'trak') continue
    for (const tkhd of children(moov, trak.body, trak.end)) {
      if (tkhd.type !== 'tkhd') continue
      const version = moov[tkhd.body]
      const at = tkhd.body + 4 + (version === 1 ? 32 : 20) + 52
      if (at + 8 > tkhd.end) continue
      const width = moov.readUInt32BE(at) >>> 16
      const height = moov.readUInt32BE(at + 4) >>> 16
      if (width > 0 && height > 0) return { hasVideo: true, width, height }
    }
  }
  return { hasVideo: false }
}

/**
 * Whether an MP4/QuickTime file has a picture, and its size, read cheaply: hop over the
 * top-level box headers to `moov` (wherever it is: start or end of the file) and look at its
 * tracks' headers only. Undefined when there is no `moov` to read.
 */
export async function isoTracks(path: string): Promise<IsoTracks | undefined> {
  const file = await open(path)
  try {
    const { size } = await file.stat()
    const header = Buffer.alloc(16)
    let offset = 0
    while (offset + 8 <= size) {
      await file.read(header, 0, 16, offset)
      let boxSize = header.readUInt32BE(0)
      let headerLength = 8
      if (boxSize === 1) {
        boxSize = Number(header.readBigUInt64BE(8))
        headerLength = 16
      } else if (boxSize === 0) {
        boxSize = size - offset
      }
      if (boxSize < headerLength) return undefined
      if (header.toString('latin1', 4, 8) === 'moov') {
        const moov = Buffer.alloc(Math.min(boxSize - headerLength, MAX_MOOV_BYTES, size - offset - headerLength))
        await file.read(moov, 0, moov.length, offset + headerLength)
        return tracksFromMoov(moov)
      }
      offset += boxSize
    }
    return undefined
  } finally {
    await file.close()
  }
}
