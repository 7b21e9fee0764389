import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  // Local copy of the user summaries chat shows, fed by auth and social events.
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text')
    .addColumn('avatar_url', 'text')
    .addColumn('profile_version', 'integer', (c) => c.notNull().defaultTo(0))
    // false for rows made up from a shared post before auth's event arrived.
    .addColumn('known', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  // One per pair of users: user_a < user_b, so the pair is unique whoever writes first.
  await db.schema
    .createTable('conversations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_a', 'uuid', (c) => c.notNull())
    .addColumn('user_b', 'uuid', (c) => c.notNull())
    .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('conversations_pair', ['user_a', 'user_b'])
    .addCheckConstraint('conversations_ordered_pair', sql`user_a < user_b`)
    .execute()

  // Per member cursors: read, delivered (by the peer's messages) and cleared ("clear chat").
  await db.schema
    .createTable('members')
    .addColumn('conversation_id', 'uuid', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('peer_id', 'uuid', (c) => c.notNull())
    .addColumn('read_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('read_at', 'timestamptz')
    .addColumn('delivered_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('cleared_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('members_pk', ['conversation_id', 'user_id'])
    .execute()
  await db.schema.createIndex('members_user').on('members').columns(['user_id', 'peer_id']).execute()

  await db.schema
    .createTable('messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('conversation_id', 'uuid', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('sender_id', 'uuid', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('media_id', 'uuid')
    .addColumn('media', 'jsonb')
    .addColumn('post', 'jsonb')
    .addColumn('reply_to_id', 'uuid')
    .addColumn('reply_to', 'jsonb')
    .addColumn('quote_id', 'uuid')
    .addColumn('quote', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('edited_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    // Receipts of the recipient (the member who is not the sender).
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('read_at', 'timestamptz')
    .addUniqueConstraint('messages_conversation_seq', ['conversation_id', 'seq'])
    .addUniqueConstraint('messages_sender_client_id', ['sender_id', 'client_id'])
    .execute()

  // Edit history: the text each edit replaced, and when.
  await db.schema
    .createTable('message_edits')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('message_id', 'uuid', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('previous_text', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('edited_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('message_edits_message').on('message_edits').column('message_id').execute()

  await db.schema
    .createTable('reactions')
    .addColumn('message_id', 'uuid', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('reactions_pk', ['message_id', 'user_id', 'emoji'])
    .execute()

  // "Delete for me".
  await db.schema
    .createTable('hidden_messages')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('message_id', 'uuid', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('hidden_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('hidden_messages_pk', ['user_id', 'message_id'])
    .execute()

  // Per-user event log behind sync. `seq` comes from event_counters, whose row lock
  // serialises a user's writers, so readers always see a gap-free prefix.
  await db.schema
    .createTable('event_counters')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey())
    .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema
    .createTable('events')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('events_pk', ['user_id', 'seq'])
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'events',
    'event_counters',
    'hidden_messages',
    'reactions',
    'message_edits',
    'messages',
    'members',
    'conversations',
    'users',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
