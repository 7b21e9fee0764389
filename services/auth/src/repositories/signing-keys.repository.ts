import type { Kysely } from 'kysely'
import type { AuthDatabase } from '../db/database.ts'

type Db = Kysely<AuthDatabase>

export async function listSigningKeys(db: Db) {
  return db.selectFrom('signingKeys').selectAll().orderBy('createdAt', 'desc').execute()
}

/** Inserts unless a key with that id exists (several instances may race on first start). */
export async function insertSigningKey(db: Db, key: { kid: string; privatePem: string; publicJwk: unknown }): Promise<void> {
  await db
    .insertInto('signingKeys')
    .values({ ...key, publicJwk: JSON.stringify(key.publicJwk) })
    .onConflict((oc) => oc.column('kid').doNothing())
    .execute()
}
