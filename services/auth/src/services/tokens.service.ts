import { createHash, randomBytes } from 'node:crypto'
import { newId, unauthorized } from '@sm/platform'
import { createSigner } from 'fast-jwt'
import type { Kysely } from 'kysely'
import type { AuthDatabase } from '../db/database.ts'
import {
  findRefreshTokenForUpdate,
  insertFamily,
  insertRefreshToken,
  markRefreshTokenUsed,
  revokeFamily,
} from '../repositories/sessions.repository.ts'
import type { SigningKeys } from './signing-keys.ts'

export interface TokenSettings {
  issuer: string
  audience: string
  accessTtlSeconds: number
  refreshTtlSeconds: number
}

export interface TokenPair {
  accessToken: string
  refreshToken: string
  expiresIn: number
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

/**
 * Access tokens: short-lived EdDSA JWTs. Refresh tokens: opaque random strings stored only as
 * hashes, one family per login; each use spends the token and mints the next one, and
 * presenting a spent token revokes the whole family (it was stolen, or leaked and replayed).
 */
export class TokenService {
  readonly #sign: (payload: Record<string, unknown>) => string
  readonly #settings: TokenSettings

  constructor(keys: SigningKeys, settings: TokenSettings) {
    this.#settings = settings
    this.#sign = createSigner({
      key: keys.current.privatePem,
      algorithm: 'EdDSA',
      kid: keys.current.kid,
      iss: settings.issuer,
      aud: settings.audience,
      expiresIn: settings.accessTtlSeconds * 1000,
    })
  }

  get accessTtlSeconds(): number {
    return this.#settings.accessTtlSeconds
  }

  accessToken(user: { id: string; username: string }, familyId: string): string {
    // `sid` names the session (refresh family) so "other sessions" can be told apart.
    return this.#sign({ sub: user.id, username: user.username, typ: 'access', jti: newId(), sid: familyId })
  }

  /** A new session: a family with an absolute expiry and its first refresh token. */
  async startSession(db: Kysely<AuthDatabase>, user: { id: string; username: string }): Promise<TokenPair> {
    const familyId = newId()
    await insertFamily(db, { id: familyId, userId: user.id, expiresAt: new Date(Date.now() + this.#settings.refreshTtlSeconds * 1000) })
    const refreshToken = await this.#mintRefresh(db, familyId, user.id)
    return { accessToken: this.accessToken(user, familyId), refreshToken, expiresIn: this.#settings.accessTtlSeconds }
  }

  async #mintRefresh(db: Kysely<AuthDatabase>, familyId: string, userId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url')
    await insertRefreshToken(db, { tokenHash: hashToken(token), familyId, userId })
    return token
  }

  /**
   * Spends `refreshToken` and returns the next one. Must run in a transaction: the token row
   * is locked, so of two concurrent uses one rotates and the other is treated as a replay.
   * Returns `{ reuse: true }` when a spent token was presented: the caller commits the family
   * revocation, then answers 401.
   */
  async rotate(
    trx: Kysely<AuthDatabase>,
    refreshToken: string,
  ): Promise<{ reuse: true } | { reuse: false; userId: string; familyId: string; refreshToken: string }> {
    const row = await findRefreshTokenForUpdate(trx, hashToken(refreshToken))
    if (!row || row.revokedAt) throw unauthorized('invalid refresh token', 'INVALID_REFRESH_TOKEN')
    if (row.usedAt) {
      await revokeFamily(trx, row.familyId, 'reuse')
      return { reuse: true }
    }
    if (new Date(row.expiresAt).getTime() <= Date.now()) throw unauthorized('refresh token expired', 'INVALID_REFRESH_TOKEN')
    await markRefreshTokenUsed(trx, row.tokenHash)
    const next = await this.#mintRefresh(trx, row.familyId, row.userId)
    return { reuse: false, userId: row.userId, familyId: row.familyId, refreshToken: next }
  }

  /** Ends the session the token belongs to; unknown tokens are ignored (logout is idempotent). */
  async endSession(trx: Kysely<AuthDatabase>, refreshToken: string): Promise<void> {
    const row = await findRefreshTokenForUpdate(trx, hashToken(refreshToken))
    if (row) await revokeFamily(trx, row.familyId, 'logout')
  }
}
