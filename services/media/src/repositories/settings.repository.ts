import type { Kysely } from 'kysely'
import type { MediaDatabase } from '../db/database.ts'

/** Stores `value` unless `key` is set already, then returns whichever won (instances may race). */
export async function settingOrInsert(db: Kysely<MediaDatabase>, key: string, value: string): Promise<string> {
  await db
    .insertInto('settings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute()
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow()
  return row.value
}
