import type { Kysely } from 'kysely'

/** Creates the per-user cutoff written by logout-all. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('user_logouts')
    .addColumn('user_id', 'text', (column) => column.primaryKey())
    .addColumn('logged_out_at', 'timestamptz', (column) => column.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('user_logouts').execute()
}
