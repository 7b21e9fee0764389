import type { OutboxTable } from '@sm/platform'
import type { Generated, Insertable, Selectable } from 'kysely'

export interface UsersTable {
  id: string
  username: string
  email: string
  nickname: string | null
  passwordHash: string
  createdAt: Generated<Date>
  updatedAt: Generated<Date>
}

/** One login session: every refresh token minted from it shares its absolute expiry. */
export interface RefreshFamiliesTable {
  id: string
  userId: string
  createdAt: Generated<Date>
  expiresAt: Date
  revokedAt: Date | null
  revokedReason: string | null
}

export interface RefreshTokensTable {
  /** sha256 of the opaque token: the token itself is never stored. */
  tokenHash: string
  familyId: string
  userId: string
  createdAt: Generated<Date>
  usedAt: Date | null
}

export interface OtpCodesTable {
  id: string
  userId: string
  purpose: 'reset' | 'change'
  codeHash: string
  expiresAt: Date
  attempts: Generated<number>
  usedAt: Date | null
  createdAt: Generated<Date>
}

export interface SigningKeysTable {
  kid: string
  privatePem: string
  publicJwk: unknown
  createdAt: Generated<Date>
}

export interface AuthDatabase {
  users: UsersTable
  refreshFamilies: RefreshFamiliesTable
  refreshTokens: RefreshTokensTable
  otpCodes: OtpCodesTable
  signingKeys: SigningKeysTable
  outbox: OutboxTable
}

export type User = Selectable<UsersTable>
export type NewUser = Insertable<UsersTable>
