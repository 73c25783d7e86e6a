import type { Queryable } from './migrate.ts';

/**
 * A normalized description of the public schema (tables, columns, enums, indexes, constraints), ordered so two
 * databases with the same structure give equal snapshots. Used by the drift check: a database built from the
 * migrations must equal one built from schema.prisma.
 */
export interface CatalogSnapshot {
  columns: string[];
  enums: string[];
  indexes: string[];
  constraints: string[];
}

export async function catalogSnapshot(db: Queryable): Promise<CatalogSnapshot> {
  const lines = async (sql: string): Promise<string[]> =>
    (await db.query<{ line: string }>(sql)).rows.map((row) => row.line);
  return {
    columns: await lines(`
      SELECT c.table_name || '.' || c.column_name || ' ' ||
             CASE WHEN c.data_type = 'USER-DEFINED' THEN c.udt_name
                  WHEN c.data_type = 'ARRAY' THEN c.udt_name
                  ELSE c.data_type END ||
             coalesce('(' || c.datetime_precision || ')', '') ||
             CASE WHEN c.is_nullable = 'NO' THEN ' not null' ELSE '' END ||
             coalesce(' default ' || c.column_default, '') AS line
        FROM information_schema.columns c
       WHERE c.table_schema = 'public' AND c.table_name <> '_prisma_migrations'
       ORDER BY 1`),
    enums: await lines(`
      SELECT t.typname || ': ' || string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) AS line
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY 1`),
    indexes: await lines(`
      SELECT indexname || ': ' || indexdef AS line FROM pg_indexes
       WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1`),
    constraints: await lines(`
      SELECT rel.relname || '.' || con.conname || ': ' || pg_get_constraintdef(con.oid) AS line
        FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = rel.relnamespace
       WHERE n.nspname = 'public' AND rel.relname <> '_prisma_migrations' ORDER BY 1`),
  };
}
