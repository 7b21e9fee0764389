import type { Log as Logger } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { AuthDatabase } from '../db/database.ts'
import { revokeUserFamilies } from '../repositories/sessions.repository.ts'
import { findUserByEmail, findUserById, updatePasswordHash } from '../repositories/users.repository.ts'
import type { AttemptLimiter } from './attempt-limiter.ts'
import type { Mailer } from './mailer.ts'
import { invalidCode, type OtpService } from './otp.service.ts'
import { hashPassword } from './passwords.ts'

export interface PasswordFlowDeps {
  db: Kysely<AuthDatabase>
  otp: OtpService
  mailer: Mailer
  log: Logger
  bcryptCost: number
  otpTtlSeconds: number
  /** Code requests per email address (forgot) or account (change). */
  codeRequests: AttemptLimiter
  /** Code submissions per email address or account: bounds guessing across re-issued codes. */
  codeAttempts: AttemptLimiter
}

/** Forgot/reset and change-password, both proven by a code mailed to the account's address. */
export class PasswordFlows {
  readonly #deps: PasswordFlowDeps

  constructor(deps: PasswordFlowDeps) {
    this.#deps = deps
  }

  #mailCode(to: string, code: string, purpose: 'reset' | 'change'): void {
    const minutes = Math.round(this.#deps.otpTtlSeconds / 60)
    const subject = purpose === 'reset' ? 'Your password reset code' : 'Your password change code'
    const text = `Your code is ${code}\n\nIt expires in ${minutes} minutes and works once. If you did not ask for it, ignore this mail.`
    // Not awaited: the answer must not wait on (or reveal anything through) the mail server.
    this.#deps.mailer.send({ to, subject, text }).catch((error) => this.#deps.log.error({ err: error }, 'sending the OTP mail failed'))
  }

  /** Always "accepted": an unknown address costs the same work and sends nothing. */
  async forgot(email: string): Promise<void> {
    const { db, otp, codeRequests } = this.#deps
    await codeRequests.consume(email)
    const user = await findUserByEmail(db, email)
    if (!user) {
      await otp.burn()
      return
    }
    const code = await otp.issue(db, user.id, 'reset')
    this.#mailCode(user.email, code, 'reset')
  }

  async reset(email: string, code: string, newPassword: string): Promise<void> {
    const { db, otp, codeAttempts } = this.#deps
    await codeAttempts.consume(email)
    const user = await findUserByEmail(db, email)
    if (!user) {
      await otp.burn()
      throw invalidCode()
    }
    // Hash only once the code has proven right: a wrong guess must not cost a bcrypt run.
    const changed = await db.transaction().execute(async (trx) => {
      if (!(await otp.consume(trx, user.id, 'reset', code))) return false
      await updatePasswordHash(trx, user.id, await hashPassword(newPassword, this.#deps.bcryptCost))
      await revokeUserFamilies(trx, user.id, 'password-reset')
      return true
    })
    if (!changed) throw invalidCode()
  }

  async requestChange(userId: string): Promise<void> {
    const { db, otp, codeRequests } = this.#deps
    await codeRequests.consume(userId)
    const user = await findUserById(db, userId)
    if (!user) return
    const code = await otp.issue(db, user.id, 'change')
    this.#mailCode(user.email, code, 'change')
  }

  /** Keeps the session that asked (its `sid`) and revokes every other one. */
  async change(userId: string, sessionId: string | undefined, code: string, newPassword: string): Promise<void> {
    const { db, otp, codeAttempts } = this.#deps
    await codeAttempts.consume(userId)
    const changed = await db.transaction().execute(async (trx) => {
      if (!(await otp.consume(trx, userId, 'change', code))) return false
      await updatePasswordHash(trx, userId, await hashPassword(newPassword, this.#deps.bcryptCost))
      await revokeUserFamilies(trx, userId, 'password-change', sessionId)
      return true
    })
    if (!changed) throw invalidCode()
  }
}
