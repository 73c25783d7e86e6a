import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { PgliteWireServer } from './embedded-server.ts';

/** prisma/schema.prisma of this checkout. */
export const SCHEMA_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'prisma', 'schema.prisma');

interface DiffResult {
  exitCode: number;
  stdout: string;
}

interface WasmSchemaEngine {
  diff(params: unknown): Promise<DiffResult>;
  free(): void;
}

interface WasmGlue {
  __wbg_set_wasm(exports: Record<string, unknown>): void;
  SchemaEngine: {
    new: (options: unknown, log: (message: string) => void, adapter: object) => Promise<WasmSchemaEngine>;
  };
}

let glue: Promise<WasmGlue> | undefined;

/** The slice of the WebAssembly API used here (the project's lib settings carry no DOM/WebAssembly typings). */
interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const wasmApi = () => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * Prisma's schema engine compiled to WebAssembly (npm `@prisma/schema-engine-wasm`), so SQL is rendered from
 * schema.prisma exactly as `prisma migrate diff` would, without the native engine that cannot be downloaded here.
 * Its package entry imports the .wasm as an ES module, which Node cannot; the glue module is loaded and wired by hand.
 */
function loadGlue(): Promise<WasmGlue> {
  glue ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm'));
    const module = (await import(path.join(dir, 'schema_engine_bg.js'))) as WasmGlue;
    const { instance } = await wasmApi().instantiate(fs.readFileSync(path.join(dir, 'schema_engine_bg.wasm')), {
      './schema_engine_bg.js': module,
    });
    module.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return module;
  })();
  return glue;
}

/**
 * The SQL that creates the schema of `schemaText` in an empty PostgreSQL database. The engine insists on a live
 * connection even for this offline diff; `connectionUrl` may be any PostgreSQL (nothing is written to it).
 */
export function renderSchemaSql(schemaText: string, connectionUrl: string): Promise<string> {
  return renderDiffSql(null, schemaText, connectionUrl);
}

/** The SQL that migrates a database from schema `fromText` (null: empty) to schema `toText`. */
export async function renderDiffSql(fromText: string | null, toText: string, connectionUrl: string): Promise<string> {
  const module = await loadGlue();
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: connectionUrl }));
  const files = (content: string) => [{ path: 'schema.prisma', content }];
  const engine = await module.SchemaEngine.new({ datamodels: [['schema.prisma', toText]] }, () => undefined, adapter);
  try {
    const result = await engine.diff({
      from: fromText === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: files(fromText) },
      to: { tag: 'schemaDatamodel', files: files(toText) },
      script: true,
      shadowDatabaseUrl: null,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.stdout;
  } finally {
    engine.free();
  }
}

/** Runs `fn` against a throwaway in-memory PGlite served on an ephemeral loopback port. */
export async function withScratchDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const db = await PGlite.create();
  const server = new PgliteWireServer(db);
  const port = await server.listen(0);
  try {
    return await fn(`postgres://postgres@127.0.0.1:${port}/postgres`);
  } finally {
    await server.close();
    await db.close();
  }
}
