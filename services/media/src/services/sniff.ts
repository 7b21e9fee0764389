import type { MediaKind } from '@sm/contracts'
import { fileTypeFromBuffer, fileTypeFromFile } from 'file-type'

/** Bytes inspected before the kind (and so the size limit) is known. */
export const HEAD_BYTES = 4100

/**
 * Every type we store, by the mime sniffed from the bytes. Anything else (SVG, HTML, XML,
 * executables, archives other than zip, …) is refused: SVG and HTML would be stored XSS.
 */
const ALLOWED: Record<string, MediaKind> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/webp': 'image',
  'image/gif': 'image',
  'video/mp4': 'video',
  'video/webm': 'video',
  'video/quicktime': 'video',
  'video/x-m4v': 'video',
  'audio/mpeg': 'audio',
  'audio/ogg': 'audio',
  'audio/ogg; codecs=opus': 'audio',
  'audio/opus': 'audio',
  'audio/wav': 'audio',
  'audio/x-m4a': 'audio',
  'audio/mp4': 'audio',
  'audio/aac': 'audio',
  'audio/webm': 'audio',
  'audio/flac': 'audio',
  'application/pdf': 'document',
  'text/plain': 'document',
  'application/zip': 'document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'document',
  'application/vnd.oasis.opendocument.text': 'document',
  'application/vnd.oasis.opendocument.spreadsheet': 'document',
  'application/vnd.oasis.opendocument.presentation': 'document',
  'application/rtf': 'document',
  'application/epub+zip': 'document',
}

/** File extensions for documents, which download under `<id>.<ext>`. */
const DOCUMENT_EXTENSIONS: Record<string, string> = {
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'application/zip': 'zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.oasis.opendocument.presentation': 'odp',
  'application/rtf': 'rtf',
  'application/epub+zip': 'epub',
}

/** `<id>.<ext>` for a download; just `<id>` when the type has no known extension. */
export const downloadName = (id: string, mime: string): string => (DOCUMENT_EXTENSIONS[mime] ? `${id}.${DOCUMENT_EXTENSIONS[mime]}` : id)

export interface Sniffed {
  mime: string
  kind: MediaKind
}

export type SniffResult = Sniffed | { refused: string }

// Markup a browser could render as a page or an SVG if it were ever served inline.
const MARKUP = /<\s*(!doctype|html|svg|\?xml|script|body|head|iframe|object|embed|meta)\b/i

/**
 * Plain text has no magic number: accept the head as text only if it is valid UTF-8 (a
 * multi-byte character cut at the end of the head is fine), has no NUL and no control bytes
 * other than whitespace, is not markup, and is not a `#!` script.
 */
function looksLikePlainText(head: Buffer, complete: boolean): boolean {
  if (head.length === 0) return false
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !complete })
  } catch {
    return false
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: binary control bytes are exactly what we look for
  if (/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text)) return false
  if (text.startsWith('#!')) return false
  return !MARKUP.test(text)
}

/** The type of an upload from its first bytes; `complete` when the head is the whole file. */
export async function sniffHead(head: Buffer, complete: boolean): Promise<SniffResult> {
  const detected = await fileTypeFromBuffer(head)
  if (detected) {
    const kind = ALLOWED[detected.mime]
    return kind ? { mime: detected.mime, kind } : { refused: `${detected.mime} is not accepted` }
  }
  if (looksLikePlainText(head, complete)) return { mime: 'text/plain', kind: 'document' }
  return { refused: 'unrecognised, markup or script content is not accepted' }
}

/**
 * Zip containers are told apart (docx, xlsx, pptx, odt, epub, or a plain zip) by their
 * entries, which may lie past the head: look again at the stored file.
 */
export async function refineFromFile(path: string, sniffed: Sniffed): Promise<Sniffed> {
  if (sniffed.mime !== 'application/zip') return sniffed
  const detected = await fileTypeFromFile(path)
  const kind = detected ? ALLOWED[detected.mime] : undefined
  return detected && kind ? { mime: detected.mime, kind } : sniffed
}
