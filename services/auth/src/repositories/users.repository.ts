import { type Kysely, sql } from 'kysely'
import type { AuthDatabase, NewUser, User } from '../db/database.ts'

type Db = Kysely<AuthDatabase>

export async function insertUser(db: Db, user: NewUser): Promise<User> {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow()
}

export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
}

/** `login` is a username or an email, both matched case-insensitively. */
export async function findUserByLogin(db: Db, login: string): Promise<User | undefined> {
  const needle = login.toLowerCase()
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb(sql`lower(username)`, '=', needle), eb(sql`lower(email)`, '=', needle)]))
    .executeTakeFirst()
}

export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst()
}

/** Locks the row so a concurrent rename of the same account waits for ours. */
export async function findUserForUpdate(db: Db, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export async function updateUsername(db: Db, id: string, username: string): Promise<User> {
  return db.updateTable('users').set({ username, updatedAt: sql`now()` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

export async function updatePasswordHash(db: Db, id: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ passwordHash, updatedAt: sql`now()` }).where('id', '=', id).execute()
}

/** Which unique index a 23505 violation came from: the 409's `code` depends on it. */
export function uniqueViolation(error: unknown): 'username' | 'email' | undefined {
  const e = error as { code?: string; constraint?: string }
  if (e.code !== '23505') return undefined
  if (e.constraint === 'users_username_lower') return 'username'
  if (e.constraint === 'users_email_lower') return 'email'
  return undefined
}
