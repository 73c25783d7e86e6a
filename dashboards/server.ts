import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { PoolingError } from '../db/ablation.ts';
import type { Database } from '../db/client.ts';
import type { Queryable } from '../db/migrate.ts';
import { ResultsError } from '../db/results/query.ts';
import { searchKindOf, searchReport } from '../db/results/search.ts';
import { METHOD_ORDER } from '../db/results/views.ts';
import { sharedReads } from '../db/shared-reads.ts';
import { sourcePath } from '../source-root.ts';
import { coverageMap } from './coverage.ts';
import { hostChecker } from './host-check.ts';
import {
  FILTER_COLUMNS,
  findSweep,
  learningCurve,
  listSweeps,
  PARALLEL_LINE_LIMIT,
  parallelCoordinates,
  type SweepSummary,
  sweepFactorValues,
  tableFactors,
  trialPage,
  trialPageSchema,
} from './queries.ts';
import { commonViews, differingSettings, resultTables, sweepSpecs } from './tables.ts';
import { trialDetail } from './trial.ts';
import { availableViews, computeView, VIEW_NAMES, ViewError, type ViewName } from './views.ts';

export interface DashboardOptions {
  db: Database;
  host?: string;
  port?: number;
  /** Temporal Web UI base URL; sweeps with a workflow id link to it. */
  temporalUiUrl?: string | undefined;
  temporalNamespace?: string;
  /** Extra Host names to answer (a DNS name of this machine); see host-check.ts for the defaults. */
  allowedHosts?: string[];
}

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Files the front-end may load: a fixed table, so no request path ever reaches the file system. */
const here = (relative: string) => sourcePath('dashboards', relative);
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: here('./static/index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: here('./static/app.js'), type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: here('./static/charts.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: here('./static/style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/echarts.js': {
    file: here('../node_modules/echarts/dist/echarts.esm.min.mjs'),
    type: 'text/javascript; charset=utf-8',
  },
};

const pageQuerySchema = z
  .object({
    page: z.string().optional(),
    pageSize: z.string().optional(),
    sort: z.string().optional(),
    dir: z.string().optional(),
    error: z.string().optional(),
  })
  .catchall(z.array(z.string()));

const trialIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'trial id must be an id');

/** ?sweep=a&sweep=b[&sweep=c]: 2 to COMPARE_LIMIT distinct sweeps, by name or id. */
const COMPARE_LIMIT = 8;
const compareSchema = z
  .array(z.string().min(1, 'sweep: a name or id').max(200, 'sweep: a name or id'))
  .refine((list) => new Set(list).size === list.length, 'sweep: each sweep may be given once')
  .refine((list) => list.length >= 2, 'sweep: compare needs at least 2 sweeps (?sweep=a&sweep=b)')
  .refine((list) => list.length <= COMPARE_LIMIT, `sweep: compare takes at most ${COMPARE_LIMIT} sweeps`);

export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const { db } = options;
  const namespace = options.temporalNamespace ?? 'default';
  const workflowUrl = (sweep: SweepSummary) =>
    options.temporalUiUrl && sweep.workflowId
      ? `${options.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(sweep.workflowId)}`
      : null;

  const sweepOr404 = async (reads: Queryable, nameOrId: string) => {
    const sweep = await findSweep(reads, nameOrId);
    if (sweep !== null) return sweep;
    const names = (await listSweeps(reads)).map((entry) => entry.name).sort();
    throw new HttpError(404, `unknown sweep ${nameOrId}; known sweeps: ${names.join(', ') || '(none)'}`, {
      sweeps: names,
    });
  };

  /**
   * GET /api/sweeps, /api/sweeps/:nameOrId (with its supported views and the method order), its /trials, /parallel,
   * /missing-cells, /views/:view (chart data), /tables (the CLI's tables) and /search (a search's rungs, configurations
   * and axis importance); /api/trials/:id (one trial in full) and
   * its /curve; /api/compare?sweep=a&sweep=b (settings, common views and tables of 2 or more sweeps).
   */
  async function api(path: string[], search: URLSearchParams): Promise<unknown> {
    const [resource, id, sub, subId, ...rest] = path;
    if (rest.length > 0) throw new HttpError(404, 'no such API path');
    // One request's statements that repeat (the same factor values for the view list and for each table) run once.
    const reads = sharedReads(db.pool);
    if (resource === 'sweeps' && id === undefined) {
      return (await listSweeps(reads)).map((sweep) => ({ ...sweep, temporalUrl: workflowUrl(sweep) }));
    }
    if (resource === 'sweeps' && id !== undefined && sub === undefined) {
      const sweep = await sweepOr404(reads, id);
      return {
        ...sweep,
        temporalUrl: workflowUrl(sweep),
        views: await availableViews(reads, sweep.id),
        factors: tableFactors(await sweepFactorValues(reads, sweep.id)),
        // The paper's method order (the method registry), so that a method keeps its colour across views and sweeps.
        methodOrder: METHOD_ORDER,
        search: await searchKindOf(db.pool, sweep.id),
      };
    }
    if (resource === 'sweeps' && id !== undefined && sub === 'search' && subId === undefined) {
      onlyParameters(search, []);
      const sweep = await sweepOr404(reads, id);
      const report = await searchReport(db.pool, sweep.id);
      if (report === null) throw new HttpError(404, `sweep ${sweep.name} is not a search (its file has no search:)`);
      return report;
    }
    if (resource === 'sweeps' && id !== undefined && sub === 'tables' && subId === undefined) {
      onlyParameters(search, []);
      const sweep = await sweepOr404(reads, id);
      return { tables: await resultTables(reads, [sweep.id], availableViews(reads, sweep.id)) };
    }
    if (resource === 'compare' && id === undefined) {
      onlyParameters(search, ['sweep']);
      const parsed = compareSchema.safeParse(search.getAll('sweep'));
      if (!parsed.success) throw new HttpError(400, parsed.error.issues[0]?.message ?? 'bad sweep list');
      const sweeps = [];
      for (const nameOrId of parsed.data) {
        const sweep = await findSweep(reads, nameOrId);
        if (sweep === null) {
          const names = (await listSweeps(reads)).map((entry) => entry.name).sort();
          throw new HttpError(400, `unknown sweep ${nameOrId}; known sweeps: ${names.join(', ') || '(none)'}`);
        }
        sweeps.push(sweep);
      }
      const ids = sweeps.map((sweep) => sweep.id);
      if (new Set(ids).size !== ids.length) throw new HttpError(400, 'sweep: each sweep may be given once');
      const views = await commonViews(reads, ids);
      return {
        sweeps: sweeps.map(({ id, name, status, total }) => ({ id, name, status, total })),
        settings: differingSettings(await sweepSpecs(reads, ids)),
        views,
        tables: await resultTables(reads, ids, views, true),
      };
    }
    if (resource === 'sweeps' && id !== undefined && sub === 'trials' && subId === undefined) {
      const sweep = await sweepOr404(reads, id);
      return trialPage(reads, sweep.id, parseTrialQuery(search));
    }
    if (resource === 'sweeps' && id !== undefined && sub === 'parallel' && subId === undefined) {
      const limit = parseLimit(search);
      const sweep = await sweepOr404(reads, id);
      return parallelCoordinates(reads, sweep.id, limit);
    }
    if (resource === 'sweeps' && id !== undefined && sub === 'missing-cells' && subId === undefined) {
      onlyParameters(search, []);
      const sweep = await sweepOr404(reads, id);
      return coverageMap(reads, sweep.id);
    }
    if (resource === 'sweeps' && id !== undefined && sub === 'views' && subId !== undefined) {
      const view = z.enum(VIEW_NAMES as [ViewName, ...ViewName[]]).safeParse(subId);
      if (!view.success) throw new HttpError(404, `unknown view ${subId}; views: ${VIEW_NAMES.join(', ')}`);
      const sweep = await sweepOr404(reads, id);
      try {
        return await computeView(reads, sweep.id, view.data);
      } catch (error) {
        if (error instanceof ViewError) throw new HttpError(400, error.message);
        throw error;
      }
    }
    if (resource === 'trials' && id !== undefined && sub === undefined) {
      onlyParameters(search, []);
      const trialId = trialIdSchema.safeParse(id);
      if (!trialId.success) throw new HttpError(400, trialId.error.issues[0]?.message ?? 'bad trial id');
      const detail = await trialDetail(reads, trialId.data);
      if (detail === null) throw new HttpError(404, `unknown trial ${trialId.data}`);
      return detail;
    }
    if (resource === 'trials' && id !== undefined && sub === 'curve' && subId === undefined) {
      const trialId = trialIdSchema.safeParse(id);
      if (!trialId.success) throw new HttpError(400, trialId.error.issues[0]?.message ?? 'bad trial id');
      const curve = await learningCurve(reads, trialId.data);
      if (curve === null) throw new HttpError(404, `unknown trial ${trialId.data}`);
      return { trialId: trialId.data, epochs: curve };
    }
    throw new HttpError(404, 'no such API path');
  }

  const host = options.host ?? '127.0.0.1';
  const hostAllowed = hostChecker(host, options.allowedHosts);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) {
      throw new HttpError(421, `Host ${req.headers.host ?? '(none)'} is not a name of this dashboard; use ${host}`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, `method ${req.method} not allowed: the dashboard is read-only`);
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (url.pathname.startsWith('/api/')) {
      const path = url.pathname.slice(5).split('/').filter(Boolean).map(decodeSegment);
      send(res, 200, await api(path, url.searchParams));
      return;
    }
    const file = STATIC[url.pathname];
    if (file === undefined) throw new HttpError(404, `no such page ${url.pathname}`);
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file.file));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) send(res, error.status, { error: error.message, ...error.extra });
      else if (error instanceof PoolingError || error instanceof ResultsError) send(res, 400, { error: error.message });
      else if (error instanceof z.ZodError) send(res, 400, { error: error.issues.map(formatIssue).join('; ') });
      else {
        process.stderr.write(`dashboard: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
        send(res, 500, { error: 'internal error, see the server log' });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8321, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const formatIssue = (issue: z.core.$ZodIssue) => `${issue.path.join('.') || 'query'}: ${issue.message}`;

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** A path segment as written by the user; a malformed escape (`%`, `%E0%A4%A`) is their error, not ours. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in path segment ${JSON.stringify(segment)}`);
  }
}

function onlyParameters(search: URLSearchParams, known: string[]): void {
  const unknown = [...new Set(search.keys())].filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new HttpError(400, `unknown query parameter ${unknown.join(', ')}; known: ${known.join(', ') || '(none)'}`);
  }
}

const limitSchema = z.coerce.number().int().min(1).max(PARALLEL_LINE_LIMIT).default(PARALLEL_LINE_LIMIT);

/** ?limit=N caps the parallel-coordinates lines (at most PARALLEL_LINE_LIMIT). */
function parseLimit(search: URLSearchParams): number {
  onlyParameters(search, ['limit']);
  const values = search.getAll('limit');
  if (values.length > 1) throw new HttpError(400, 'limit may be given once');
  const parsed = limitSchema.safeParse(values[0]);
  if (!parsed.success) throw new HttpError(400, `limit: an integer from 1 to ${PARALLEL_LINE_LIMIT}`);
  return parsed.data;
}

/** ?page=2&sort=top1&dir=desc&status=failed&dataset=eurosat&dataset=dtd&error=oom */
function parseTrialQuery(search: URLSearchParams) {
  // A Map, not an object: keys such as `constructor` or `__proto__` would otherwise find Object.prototype's members.
  const grouped = new Map<string, string[]>();
  for (const [key, value] of search) grouped.set(key, [...(grouped.get(key) ?? []), value]);
  const single = (key: string) => {
    const values = grouped.get(key);
    if (values === undefined) return undefined;
    if (values.length !== 1) throw new HttpError(400, `${key} may be given once`);
    return values[0];
  };
  const known = new Set<string>(['page', 'pageSize', 'sort', 'dir', 'error', ...FILTER_COLUMNS]);
  const unknown = [...grouped.keys()].filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new HttpError(400, `unknown query parameter ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  }
  const parsed = pageQuerySchema.parse({
    page: single('page'),
    pageSize: single('pageSize'),
    sort: single('sort'),
    dir: single('dir'),
    error: single('error'),
  });
  const filters = Object.fromEntries(
    FILTER_COLUMNS.filter((column) => grouped.has(column)).map((column) => [column, grouped.get(column)]),
  );
  return trialPageSchema.parse({ ...parsed, filters });
}
