import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** An error meant for the client: its status, stable `code` and message go out as they are. */
export class HttpError extends Error {
  override name = 'HttpError'
  readonly statusCode: number
  readonly code: string
  readonly headers: Record<string, string>

  constructor(statusCode: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.statusCode = statusCode
    this.code = code
    this.headers = headers
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message)
export const unauthorized = (message = 'authentication required', code = 'UNAUTHORIZED') => new HttpError(401, code, message)
export const forbidden = (message = 'not allowed', code = 'FORBIDDEN') => new HttpError(403, code, message)
export const notFound = (message = 'not found', code = 'NOT_FOUND') => new HttpError(404, code, message)
export const conflict = (code: string, message: string) => new HttpError(409, code, message)
export const tooManyRequests = (retryAfterSeconds: number, message = 'too many requests') =>
  new HttpError(429, 'RATE_LIMITED', message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) })

/** Fastify's own error codes mapped to ours, so framework rejections speak the contract too. */
const frameworkCodes: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION',
  FST_ERR_VALIDATION: 'VALIDATION',
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: 'UNAUTHORIZED',
}

export function errorBody(statusCode: number, code: string, message: string) {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

/**
 * One error handler for every service: validation → 400 VALIDATION, HttpError → its own
 * status and code, anything else → 500 with no internals in the body (the log has them).
 */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
      if (error instanceof HttpError) {
        return reply
          .status(error.statusCode)
          .headers(error.headers)
          .send(errorBody(error.statusCode, error.code, error.message))
      }
      const status = error.statusCode ?? 500
      if ('validation' in error && error.validation) {
        return reply.status(400).send(errorBody(400, 'VALIDATION', error.message))
      }
      if (status >= 400 && status < 500) {
        const code = frameworkCodes[error.code] ?? (status === 429 ? 'RATE_LIMITED' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST')
        return reply.status(status).send(errorBody(status, code, error.message))
      }
      request.log.error({ err: error }, 'unhandled error')
      return reply.status(500).send(errorBody(500, 'INTERNAL', 'internal server error'))
    })
    app.setNotFoundHandler((request, reply) => {
      reply.status(404).send(errorBody(404, 'NOT_FOUND', `route ${request.method} ${request.url.split('?')[0]} not found`))
    })
  },
  { name: 'sm-errors' },
)
