import type { MediaKind } from '@sm/contracts'
import { imageSizeFromFile } from 'image-size/fromFile'
import { tooLarge, unsupported } from './receive.ts'
import { refineFromFile, type Sniffed } from './sniff.ts'
import { ISO_VIDEO_MIMES, isoTracks } from './video-size.ts'
import { webmTracks } from './webm.ts'

export interface Inspected extends Sniffed {
  width?: number
  height?: number
}

/**
 * What the head could not tell, read from the stored file: which zip container it is
 * (docx, xlsx, …), whether a WebM or MP4 is audio only (a voice message), and the picture
 * size where that is cheap (images, MP4/QuickTime and WebM headers).
 */
export async function inspectStored(path: string, sniffed: Sniffed): Promise<Inspected> {
  const refined = await refineFromFile(path, sniffed)
  if (refined.kind === 'image') {
    const size = await imageSizeFromFile(path).catch(() => undefined)
    return { ...refined, width: size?.width, height: size?.height }
  }
  if (ISO_VIDEO_MIMES.has(refined.mime)) {
    const tracks = await isoTracks(path).catch(() => undefined)
    // Phones record voice messages as MP4 with a sound track only.
    if (tracks && !tracks.hasVideo) return { mime: 'audio/mp4', kind: 'audio' }
    return { ...refined, width: tracks?.width, height: tracks?.height }
  }
  if (refined.mime === 'video/webm') {
    const tracks = await webmTracks(path).catch(() => undefined)
    if (tracks && !tracks.hasVideo && tracks.hasAudio) return { mime: 'audio/webm', kind: 'audio' }
    return { ...refined, width: tracks?.width, height: tracks?.height }
  }
  return refined
}

/** The refined kind must still be accepted here and within its own limit. */
export function checkRefined(inspected: Inspected, size: number, kinds: readonly MediaKind[], limits: Record<MediaKind, number>): void {
  if (!kinds.includes(inspected.kind)) throw unsupported(`${inspected.mime} is not accepted here (allowed: ${kinds.join(', ')})`)
  if (size > limits[inspected.kind]) throw tooLarge(`${inspected.kind} files are limited to ${limits[inspected.kind]} bytes`)
}
