import type { Account, AuthUser, RegisterBody, Session } from '@sm/contracts'
import { conflict, enqueueEvent, newId, notFound, type OutboxRelay, unauthorized } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { AuthDatabase, User } from '../db/database.ts'
import {
  findUserById,
  findUserByLogin,
  findUserForUpdate,
  insertUser,
  uniqueViolation,
  updateUsername,
} from '../repositories/users.repository.ts'
import type { AttemptLimiter } from './attempt-limiter.ts'
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.ts'
import type { TokenService } from './tokens.service.ts'

const PRODUCER = 'auth'

export const toAuthUser = (user: User): AuthUser => ({ id: user.id, username: user.username, email: user.email, nickname: user.nickname })
export const toAccount = (user: User): Account => ({
  id: user.id,
  username: user.username,
  email: user.email,
  createdAt: new Date(user.createdAt).toISOString(),
})

function takenError(error: unknown): never {
  const field = uniqueViolation(error)
  if (field === 'username') throw conflict('USERNAME_TAKEN', 'that username is taken')
  if (field === 'email') throw conflict('EMAIL_TAKEN', 'that email is already registered')
  throw error
}

export interface AccountsDeps {
  db: Kysely<AuthDatabase>
  tokens: TokenService
  relay: OutboxRelay
  /** Failed logins per account name. */
  loginFailures: AttemptLimiter
  bcryptCost: number
}

/** Registration, login, sessions and the account itself; every rule of API.md › Auth lives here. */
export class AccountsService {
  readonly #deps: AccountsDeps

  constructor(deps: AccountsDeps) {
    this.#deps = deps
  }

  async register(body: RegisterBody, requestId: string): Promise<Session> {
    const { db, tokens, relay } = this.#deps
    const passwordHash = await hashPassword(body.password, this.#deps.bcryptCost)
    const session = await db
      .transaction()
      .execute(async (trx) => {
        const user = await insertUser(trx, {
          id: newId(),
          username: body.username,
          email: body.email,
          nickname: body.nickname ?? null,
          passwordHash,
        })
        await enqueueEvent(
          trx,
          PRODUCER,
          'auth.user.registered',
          { userId: user.id, username: user.username, nickname: user.nickname, createdAt: new Date(user.createdAt).toISOString() },
          requestId,
        )
        return { user: toAuthUser(user), ...(await tokens.startSession(trx, user)) }
      })
      .catch(takenError)
    relay.kick()
    return session
  }

  async login(login: string, password: string): Promise<Session> {
    const { db, tokens, loginFailures } = this.#deps
    await loginFailures.assertAllowed(login)
    const user = await findUserByLogin(db, login)
    if (!user) await burnPasswordCheck(password, this.#deps.bcryptCost)
    if (!user || !(await verifyPassword(password, user.passwordHash))) {
      await loginFailures.record(login)
      throw unauthorized('wrong username/email or password', 'INVALID_CREDENTIALS')
    }
    await loginFailures.reset(login)
    return { user: toAuthUser(user), ...(await tokens.startSession(db, user)) }
  }

  async refresh(refreshToken: string) {
    const { db, tokens } = this.#deps
    const rotated = await db.transaction().execute((trx) => tokens.rotate(trx, refreshToken))
    // The revocation has committed; only now is the replay refused.
    if (rotated.reuse) throw unauthorized('refresh token already used; every session of this login was revoked', 'REFRESH_TOKEN_REUSED')
    const user = await findUserById(db, rotated.userId)
    if (!user) throw unauthorized('account no longer exists', 'INVALID_REFRESH_TOKEN')
    return {
      user: toAuthUser(user),
      accessToken: tokens.accessToken(user, rotated.familyId),
      refreshToken: rotated.refreshToken,
      expiresIn: tokens.accessTtlSeconds,
    }
  }

  async logout(refreshToken: string): Promise<void> {
    const { db, tokens } = this.#deps
    await db.transaction().execute((trx) => tokens.endSession(trx, refreshToken))
  }

  async account(userId: string): Promise<User> {
    const user = await findUserById(this.#deps.db, userId)
    if (!user) throw notFound('account not found')
    return user
  }

  async changeUsername(userId: string, username: string, requestId: string): Promise<User> {
    const { db, relay } = this.#deps
    const updated = await db
      .transaction()
      .execute(async (trx) => {
        const current = await findUserForUpdate(trx, userId)
        if (!current) throw notFound('account not found')
        if (current.username === username) return current
        const user = await updateUsername(trx, userId, username)
        await enqueueEvent(
          trx,
          PRODUCER,
          'auth.user.updated',
          { userId, username, previousUsername: current.username, updatedAt: new Date(user.updatedAt).toISOString() },
          requestId,
        )
        return user
      })
      .catch(takenError)
    relay.kick()
    return updated
  }
}
