/**
 * `npm run db:migrate`: applies prisma/migrations to `DATABASE_URL`, or to the embedded database when it is unset.
 * Works offline: the SQL files are applied by db/migrate.ts, not by Prisma's native migrate engine.
 */
import { openDatabase } from './client.ts';
import { isDatabaseError } from './errors.ts';
import { applyMigrations, listMigrations } from './migrate.ts';

async function main(): Promise<void> {
  const db = await openDatabase({ migrations: 'skip' });
  try {
    const applied = await applyMigrations(db.pool);
    const total = listMigrations().length;
    console.log(
      applied.length === 0
        ? `${db.where}: all ${total} migrations already applied`
        : `${db.where}: applied ${applied.join(', ')} (${total} in total)`,
    );
  } finally {
    await db.close();
    const { stopEmbeddedServer, embeddedPaths } = await import('./embedded.ts');
    await stopEmbeddedServer(embeddedPaths().dataDir);
  }
}

main().catch((error: unknown) => {
  if (isDatabaseError(error)) {
    console.error(`error: ${error.message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
