import { type Migrations, outboxMigration, processedEventsMigration } from '@sm/platform'
import * as init from './001-init.ts'

/** In order; names are stored in the schema's migration table, never rename one. */
export const migrations: Migrations = {
  '001-init': init,
  '002-outbox': outboxMigration,
  '003-processed-events': processedEventsMigration,
}
