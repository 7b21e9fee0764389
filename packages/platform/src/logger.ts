import type { FastifyServerOptions } from 'fastify'

/** Pino options shared by every process: secrets never reach the log. */
export function loggerOptions(service: string, level: string): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    base: { service },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.newPassword', '*.otp', '*.refreshToken', '*.accessToken'],
      censor: '[redacted]',
    },
  }
}

/** The slice of a pino logger that platform helpers need; Fastify's `app.log` satisfies it. */
export interface Log {
  error(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  debug(obj: unknown, msg?: string): void
}
