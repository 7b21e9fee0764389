import { loadConfig } from '@sm/platform'
import { Type } from 'typebox'

export const authConfigSchema = {
  PORT: Type.Integer({ default: 3001, minimum: 0, maximum: 65535 }),
  /** Unset: mails are logged (OTP visible in the log). Set: sent over SMTP. */
  SMTP_URL: Type.String({ default: '' }),
  MAIL_FROM: Type.String({ default: 'Social <no-reply@socialmedia.local>' }),
  /** bcrypt work factor; 12 or more in production. */
  BCRYPT_COST: Type.Integer({ default: 12, minimum: 4, maximum: 15 }),
  ACCESS_TOKEN_TTL_S: Type.Integer({ default: 900, minimum: 30 }),
  /** Absolute lifetime of a refresh-token family: rotation never extends it. */
  REFRESH_TOKEN_TTL_S: Type.Integer({ default: 30 * 24 * 3600, minimum: 60 }),
  OTP_TTL_S: Type.Integer({ default: 600, minimum: 30 }),
  OTP_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1 }),
  /** Per email/account within OTP_LIMIT_WINDOW_S: codes requested, and codes submitted. */
  OTP_MAX_REQUESTS: Type.Integer({ default: 5, minimum: 1 }),
  OTP_MAX_SUBMISSIONS: Type.Integer({ default: 15, minimum: 1 }),
  OTP_LIMIT_WINDOW_S: Type.Integer({ default: 3600, minimum: 1 }),
  /** Failed logins per account within LOGIN_LOCK_WINDOW_S before 429. */
  LOGIN_MAX_FAILURES: Type.Integer({ default: 10, minimum: 1 }),
  LOGIN_LOCK_WINDOW_S: Type.Integer({ default: 900, minimum: 1 }),
  /** PEM of an Ed25519 private key. Unset: one is generated on first start and kept in the database. */
  JWT_PRIVATE_KEY: Type.String({ default: '' }),
}

export const loadAuthConfig = (env: Record<string, string | undefined> = process.env) => loadConfig(authConfigSchema, env)
export type AuthConfig = ReturnType<typeof loadAuthConfig>
