import { type Migrations, processedEventsMigration } from '@sm/platform'
import * as init from './001-init.ts'
import * as foldedNames from './003-folded-names.ts'
import * as recentPostsKeyset from './004-recent-posts-keyset.ts'

/** In order; names are stored in the schema's migration table, never rename one. */
export const migrations: Migrations = {
  '001-init': init,
  '002-processed-events': processedEventsMigration,
  '003-folded-names': foldedNames,
  '004-recent-posts-keyset': recentPostsKeyset,
}
