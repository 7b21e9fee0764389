import { open } from 'node:fs/promises'

/** WebM puts its track list before the first cluster, well within this many bytes. */
const HEAD_BYTES = 64 * 1024

const SEGMENT = 0x18538067
const TRACKS = 0x1654ae6b
const CLUSTER = 0x1f43b675
const TRACK_ENTRY = 0xae
const TRACK_TYPE = 0x83
const VIDEO = 0xe0
const PIXEL_WIDTH = 0xb0
const PIXEL_HEIGHT = 0xba
const VIDEO_TRACK = 1
const AUDIO_TRACK = 2

interface Vint {
  value: number
  length: number
  unknown: boolean
}

/** An EBML variable-length integer: element ids keep their length marker, sizes drop it. */
function readVint(buffer: Buffer, at: number, keepMarker: boolean): Vint | undefined {
  const first = buffer[at]
  if (first === undefined || first === 0) return undefined
  let length = 1
  let marker = 0x80
  while ((first & marker) === 0) {
    marker >>= 1
    length += 1
  }
  if (at + length > buffer.length) return undefined
  let value = keepMarker ? first : first & (marker - 1)
  for (let i = 1; i < length; i++) value = value * 256 + (buffer[at + i] as number)
  const unknown = !keepMarker && value === 2 ** (7 * length) - 1
  return { value, length, unknown }
}

interface Element {
  id: number
  body: number
  end: number
}

function* elements(buffer: Buffer, start: number, end: number): Generator<Element> {
  let at = start
  while (at < end) {
    const id = readVint(buffer, at, true)
    const size = id && readVint(buffer, at + id.length, false)
    if (!id || !size) return
    const body = at + id.length + size.length
    // An unknown size (a live-written Segment) runs to the end of what we have.
    const stop = size.unknown ? end : Math.min(end, body + size.value)
    yield { id: id.value, body, end: stop }
    if (size.unknown) return
    at = body + size.value
  }
}

function readUint(buffer: Buffer, element: Element): number {
  let value = 0
  for (let i = element.body; i < element.end; i++) value = value * 256 + (buffer[i] as number)
  return value
}

export interface WebmTracks {
  hasVideo: boolean
  hasAudio: boolean
  width?: number
  height?: number
}

function readTracks(buffer: Buffer, tracks: Element): WebmTracks {
  const found: WebmTracks = { hasVideo: false, hasAudio: false }
  for (const entry of elements(buffer, tracks.body, tracks.end)) {
    if (entry.id !== TRACK_ENTRY) continue
    for (const field of elements(buffer, entry.body, entry.end)) {
      if (field.id === TRACK_TYPE) {
        const type = readUint(buffer, field)
        if (type === VIDEO_TRACK) found.hasVideo = true
        if (type === AUDIO_TRACK) found.hasAudio = true
      }
      if (field.id === VIDEO && found.width === undefined) {
        for (const setting of elements(buffer, field.body, field.end)) {
          if (setting.id === PIXEL_WIDTH) found.width = readUint(buffer, setting)
          if (setting.id === PIXEL_HEIGHT) found.height = readUint(buffer, setting)
        }
      }
    }
  }
  return found
}

/**
 * The tracks of a WebM file, from its first 64 KiB: whether it has video (a voice message
 * recorded by a browser is audio-only WebM) and the picture size. Undefined when the track
 * list is not there.
 */
export async function webmTracks(path: string): Promise<WebmTracks | undefined> {
  const file = await open(path)
  let buffer: Buffer
  try {
    const head = Buffer.alloc(HEAD_BYTES)
    const { bytesRead } = await file.read(head, 0, HEAD_BYTES, 0)
    buffer = head.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
  for (const top of elements(buffer, 0, buffer.length)) {
    if (top.id !== SEGMENT) continue
    for (const child of elements(buffer, top.body, top.end)) {
      if (child.id === TRACKS) return readTracks(buffer, child)
      if (child.id === CLUSTER) return undefined
    }
  }
  return undefined
}
