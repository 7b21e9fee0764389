import { randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { badRequest, newId } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { AuthDatabase, OtpCodesTable } from '../db/database.ts'
import { findLiveOtpForUpdate, markOtpUsed, recordFailedAttempt, replaceOtp } from '../repositories/otp.repository.ts'

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>

type Purpose = OtpCodesTable['purpose']

/** `salt.hash`, both base64url: a leaked table does not hand out live codes. */
async function hashCode(code: string, salt = randomBytes(16)): Promise<string> {
  const derived = await scryptAsync(code, salt, 32)
  return `${salt.toString('base64url')}.${derived.toString('base64url')}`
}

async function codeMatches(code: string, stored: string): Promise<boolean> {
  const [salt, expected] = stored.split('.')
  if (!salt || !expected) return false
  const actual = await scryptAsync(code, Buffer.from(salt, 'base64url'), 32)
  return timingSafeEqual(actual, Buffer.from(expected, 'base64url'))
}

export const invalidCode = () => badRequest('INVALID_OTP', 'the code is wrong, expired or already used')

/** Six-digit one-time codes: hashed, expiring, single use, dead after too many wrong tries. */
export class OtpService {
  readonly #ttlSeconds: number
  readonly #maxAttempts: number

  constructor(settings: { ttlSeconds: number; maxAttempts: number }) {
    this.#ttlSeconds = settings.ttlSeconds
    this.#maxAttempts = settings.maxAttempts
  }

  async issue(db: Kysely<AuthDatabase>, userId: string, purpose: Purpose): Promise<string> {
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0')
    await replaceOtp(db, {
      id: newId(),
      userId,
      purpose,
      codeHash: await hashCode(code),
      expiresAt: new Date(Date.now() + this.#ttlSeconds * 1000),
    })
    return code
  }

  /** Costs the same as `issue`, for requests about unknown accounts (no timing oracle). */
  async burn(): Promise<void> {
    await hashCode('000000')
  }

  /**
   * Spends the live code if `code` matches; otherwise counts a wrong try (the limit-th kills
   * it). Runs in the caller's transaction, so the spend commits with the password change. On
   * `false` the caller must still commit (the counted try) and then answer `invalidCode()`.
   */
  async consume(trx: Kysely<AuthDatabase>, userId: string, purpose: Purpose, code: string): Promise<boolean> {
    const live = await findLiveOtpForUpdate(trx, userId, purpose)
    if (!live || new Date(live.expiresAt).getTime() <= Date.now()) return false
    if (!(await codeMatches(code, live.codeHash))) {
      await recordFailedAttempt(trx, live.id, this.#maxAttempts)
      return false
    }
    await markOtpUsed(trx, live.id)
    return true
  }
}
