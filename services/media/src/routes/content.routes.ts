import { open } from 'node:fs/promises'
import { IdParams, MediaContentQuery } from '@sm/contracts'
import { type App, errorBody, notFound } from '@sm/platform'
import type { Media } from '../db/database.ts'
import type { MediaService } from '../services/media.service.ts'
import { parseRange } from '../services/range.ts'
import { downloadName } from '../services/sniff.ts'
import type { MediaStorage } from '../services/storage.ts'
import type { UrlSigner } from '../services/url-signer.ts'

const PUBLIC_CACHE = 'public, max-age=31536000, immutable'
const PRIVATE_CACHE = 'private, max-age=3600'

function headersFor(media: Media, cacheControl: string): Record<string, string> {
  const mime = media.mime === 'text/plain' ? 'text/plain; charset=utf-8' : media.mime
  return {
    'content-type': mime,
    'x-content-type-options': 'nosniff',
    // Even if a browser rendered it, nothing could run or load.
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': cacheControl,
    etag: `"${media.id}"`,
    'last-modified': media.createdAt.toUTCString(),
    'accept-ranges': 'bytes',
    // Documents download; images, audio and video play inline.
    'content-disposition': media.kind === 'document' ? `attachment; filename="${downloadName(media.id, media.mime)}"` : 'inline',
  }
}

/**
 * The bytes behind MediaRef.url. Avatar and post media are public. Chat media need a valid
 * signature (from a MediaRef) or the bearer token of its owner or a reader; anyone else gets
 * the same 404 as for an id that does not exist. Files are streamed, ranges honoured.
 */
export async function contentRoutes(app: App, deps: { media: MediaService; storage: MediaStorage; signer: UrlSigner }) {
  const { media, storage, signer } = deps

  app.get(
    '/media/:id/content',
    { onRequest: app.identify, schema: { tags: ['media'], params: IdParams, querystring: MediaContentQuery } },
    async (request, reply) => {
      const { id } = request.params
      const row = await media.find(id)
      const isPublic = row !== undefined && row.purpose !== 'chat'
      const allowed =
        row !== undefined &&
        (isPublic ||
          signer.verify(id, request.query.exp, request.query.sig) ||
          (request.user && (await media.visibleTo(row, request.user.id))))
      if (!row || !allowed) throw notFound('no such media', 'MEDIA_NOT_FOUND')

      const validator = `"${row.id}"`
      const cacheControl = isPublic ? PUBLIC_CACHE : PRIVATE_CACHE
      if (request.headers['if-none-match']?.split(',').some((tag) => tag.trim() === validator || tag.trim() === '*')) {
        return reply.status(304).headers({ etag: validator, 'cache-control': cacheControl }).send()
      }
      const ifRange = request.headers['if-range']
      const range = ifRange && ifRange !== validator ? { type: 'full' as const } : parseRange(request.headers.range, row.size)
      if (range.type === 'unsatisfiable') {
        return reply
          .status(416)
          .headers({ 'content-range': `bytes */${row.size}`, 'accept-ranges': 'bytes' })
          .send(errorBody(416, 'RANGE_NOT_SATISFIABLE', `the file has ${row.size} bytes`))
      }
      // Opened before any media header is set, so a missing file is a plain JSON 404.
      const handle = await open(storage.path(row.storageKey)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw notFound('no such media', 'MEDIA_NOT_FOUND')
        throw error
      })
      const start = range.type === 'partial' ? range.start : 0
      const end = range.type === 'partial' ? range.end : row.size - 1
      reply.headers({ ...headersFor(row, cacheControl), 'content-length': String(end - start + 1) })
      if (range.type === 'partial') reply.status(206).header('content-range', `bytes ${start}-${end}/${row.size}`)
      return reply.send(handle.createReadStream({ start, end }))
    },
  )
}
