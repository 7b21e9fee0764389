import { ErrorBody, IdParams, MediaPurpose, MediaRef, MediaUploadQuery } from '@sm/contracts'
import { type App, badRequest, discardRest, HttpError, validatorFor } from '@sm/platform'
import type { FastifyRequest } from 'fastify'
import type { MediaService } from '../services/media.service.ts'

const secured = [{ bearer: [] }]
const errors = { 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody }

/** `purpose` from the form field(s) sent before the file, else from the query string. */
function purposeOf(fields: unknown[], query: MediaUploadQuery): MediaPurpose {
  if (fields.length > 1) throw badRequest('VALIDATION', 'send one purpose')
  const value = fields[0] ?? query.purpose
  if (value === undefined) throw badRequest('PURPOSE_REQUIRED', 'send the purpose field before the file, or ?purpose=')
  if (!validatorFor(MediaPurpose).Check(value)) throw badRequest('VALIDATION', 'purpose must be avatar, post or chat')
  return value
}

/** The multipart parser's own refusals, in the contract's shape. */
function multipartError(error: { statusCode?: number }): never {
  if (error.statusCode === 413) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', 'too many parts or fields', { connection: 'close' })
  throw badRequest('UPLOAD_INCOMPLETE', 'the multipart body is malformed or ended early')
}

export async function mediaRoutes(app: App, { media }: { media: MediaService }) {
  app.post(
    '/media',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['media'],
        security: secured,
        consumes: ['multipart/form-data'],
        querystring: MediaUploadQuery,
        response: { 201: MediaRef, ...errors },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data with a file part')
      const ref = await receiveUpload(request, media).catch(async (error: unknown) => {
        // A refusal that closes the connection reads the rest of the body first (platform's discardRest).
        if (error instanceof HttpError && error.headers.connection === 'close') await discardRest(request.raw)
        throw error
      })
      return reply.status(201).send(ref)
    },
  )

  app.get(
    '/media/:id',
    {
      onRequest: app.authenticate,
      schema: { tags: ['media'], security: secured, params: IdParams, response: { 200: MediaRef, 404: ErrorBody } },
    },
    async (request) => media.describe(request.params.id, request.user.id),
  )

  app.delete(
    '/media/:id',
    {
      onRequest: app.authenticate,
      schema: { tags: ['media'], security: secured, params: IdParams },
    },
    async (request, reply) => {
      await media.deleteByOwner(request.params.id, request.user.id, request.id)
      return reply.status(204).send()
    },
  )
}

type UploadRequest = Pick<FastifyRequest, 'parts' | 'id'> & { query: MediaUploadQuery; user: { id: string } }

/** The form's file, stored: `purpose` fields count only when sent before it (parts arrive in order). */
async function receiveUpload(request: UploadRequest, media: MediaService) {
  const parts = request.parts({
    limits: { fileSize: media.maxUploadBytes + 1, files: 1, fields: 4, fieldSize: 64, parts: 5, headerPairs: 50 },
  })
  const purposes: unknown[] = []
  for (;;) {
    const next = await parts.next().catch(multipartError)
    if (next.done) throw badRequest('FILE_REQUIRED', 'the form has no file part')
    const part = next.value
    if (part.type === 'field') {
      if (part.fieldname === 'purpose') purposes.push(part.value)
      continue
    }
    let purpose: MediaPurpose
    try {
      purpose = purposeOf(purposes, request.query)
    } catch (error) {
      part.file.resume()
      throw error
    }
    return media.upload(request.user.id, purpose, part.file, request.id)
  }
}
