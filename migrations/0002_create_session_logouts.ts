import type { Kysely } from 'kysely'

/**
 * Creates the per-session cutoff written by a single-session logout. A row is
 * needed only until `expires_at`, when every token of the session has expired;
 * the index on it serves the deletion of expired rows.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('session_logouts')
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('session_id', 'text', (column) => column.notNull())
    .addColumn('logged_out_at', 'timestamptz', (column) => column.notNull())
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addPrimaryKeyConstraint('session_logouts_pkey', ['user_id', 'session_id'])
    .execute()

  await db.schema.createIndex('session_logouts_expires_at_idx').on('session_logouts').column('expires_at').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('session_logouts').execute()
}
