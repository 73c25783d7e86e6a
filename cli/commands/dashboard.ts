import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { startDashboard } from '../../dashboards/server.ts';
import { openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { UserError } from '../errors.ts';
import { stateDir } from '../sweeps/stack.ts';

interface DashboardOptions {
  host: string;
  port: string;
  allowHost: string[];
}

/** `dpt-sweep dashboard`: a read-only web app over the results database, until Ctrl-C. */
export function register(program: Command): void {
  program
    .command('dashboard')
    .description('serve a read-only web dashboard of sweeps, trials and ablation charts')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8321')
    .option(
      '--allow-host <name>',
      'also answer requests for this Host name (repeatable; loopback names are always answered, see docs)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .action(async (opts: DashboardOptions) => {
      const port = z.coerce.number().int().min(0).max(65535).safeParse(opts.port);
      if (!port.success) throw new UserError(`--port must be a port number (0-65535), got ${opts.port}`);
      const db = await openDatabase().catch((error: unknown) => {
        throw isDatabaseError(error) ? new UserError(error.message) : error;
      });
      let server: Awaited<ReturnType<typeof startDashboard>>;
      try {
        server = await startDashboard({
          db,
          host: opts.host,
          port: port.data,
          allowedHosts: opts.allowHost,
          temporalUiUrl: temporalUiUrl(),
          temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
        });
      } catch (error) {
        await db.close();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE')
          throw new UserError(`port ${port.data} on ${opts.host} is in use; pick another with --port`);
        throw error;
      }
      process.stdout.write(`dpt-sweep dashboard: ${server.url}/ over ${db.where}. Ctrl-C stops it.\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await db.close();
    });
}

/** TEMPORAL_UI_URL, else the UI of a running `dpt-sweep dev` stack (.dpt-sweep/dev.json). */
function temporalUiUrl(): string | undefined {
  const fromEnv = process.env.TEMPORAL_UI_URL?.trim();
  if (fromEnv) return fromEnv;
  const record = join(stateDir(), 'dev.json');
  if (!existsSync(record)) return undefined;
  const parsed = z.object({ uiUrl: z.string().url().optional() }).safeParse(JSON.parse(readFileSync(record, 'utf8')));
  return parsed.success ? parsed.data.uiUrl : undefined;
}
