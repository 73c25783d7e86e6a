import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledEntry, ENTRY, STAMP, sourceMtimes } from '../../../bin/compiled.js';
import { COMMANDS, type CommandModule, requestedCommand } from '../../../cli/commands/index.ts';
import { SOURCE_ROOT } from '../../../source-root.ts';

const run = promisify(execFile);
const BIN = join(SOURCE_ROOT, 'bin', 'dpt-sweep.js');
const RECORDER = join(SOURCE_ROOT, 'test', 'fixtures', 'import-recorder', 'register.mjs');
/** Packages that take seconds to load; none is needed to print help or list sweeps. */
const HEAVY = ['@temporalio/', '@tensorflow/', '@prisma/', '/node_modules/pg/', '@electric-sql/', 'sharp'];
const scratch = mkdtempSync(join(tmpdir(), 'dpt-startup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the real CLI and returns the module URLs it loaded. */
async function importsOf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const file = join(scratch, `imports-${args.join('_')}.txt`);
  await run(process.execPath, ['--import', RECORDER, BIN, ...args], {
    env: { ...process.env, ...env, DPT_RECORD_IMPORTS: file },
    cwd: SOURCE_ROOT,
  });
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

describe('CLI start-up', () => {
  it('lists every command that the modules define, with the same arguments and aliases', async () => {
    const modules = new Set(Object.values(COMMANDS).map((entry) => entry.load));
    const defined = new Map<string, Command>();
    for (const load of modules) {
      const program = new Command();
      ((await load()) as CommandModule).register(program);
      for (const command of program.commands) defined.set(command.name(), command);
    }
    expect([...defined.keys()].sort()).toEqual(Object.keys(COMMANDS).sort());
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const command = defined.get(name)!;
      const args = command.registeredArguments.map((a) => {
        const word = `${a.name()}${a.variadic ? '...' : ''}`;
        return a.required ? `<${word}>` : `[${word}]`;
      });
      expect(entry.usage, name).toBe([name, ...args].join(' '));
      expect(entry.aliases ?? [], name).toEqual(command.aliases());
      // Each command's module is where it is loaded from: its own help and action come from there.
      expect((await entry.load()) === (await requestedCommand([name])!.load()), name).toBe(true);
    }
    expect(requestedCommand(['help', 'demo'])).toBe(COMMANDS.quickstart);
    expect(requestedCommand(['--help'])).toBeUndefined();
  });

  it('--help loads no Temporal, TensorFlow.js, Prisma or pg module', async () => {
    const urls = await importsOf(['--help']);
    expect(urls.some((url) => url.includes('commander'))).toBe(true);
    expect(urls.filter((url) => HEAVY.some((h) => url.includes(h)))).toEqual([]);
  });

  it('list loads the database client but no Temporal or TensorFlow.js', async () => {
    // The embedded database of a scratch home serves the list (a shared server may hold no migrated tables).
    const urls = await importsOf(['list'], { DATABASE_URL: '', DPT_HOME: join(scratch, 'home') });
    expect(urls.some((url) => url.includes('/pg/') || url.includes('@electric-sql/'))).toBe(true);
    expect(urls.filter((url) => ['@temporalio/', '@tensorflow/', 'sharp'].some((h) => url.includes(h)))).toEqual([]);
    // The compiled CLI runs exactly when dist/ is fresh; otherwise the sources do, through tsx.
    const compiled = compiledEntry(SOURCE_ROOT) !== undefined;
    expect(urls.some((url) => url.endsWith('/dist/cli/main.js'))).toBe(compiled);
    expect(urls.some((url) => url.endsWith('/cli/main.ts'))).toBe(!compiled);
  }, 120_000);
});

describe('compiled CLI freshness (bin/compiled.js)', () => {
  /** A fake checkout: one source file and, optionally, a compiled entry with its stamp. */
  function checkout(): { root: string; source: string; stamp: (builtAt: number) => void } {
    const root = mkdtempSync(join(scratch, 'checkout-'));
    mkdirSync(join(root, 'cli'), { recursive: true });
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    const source = join(root, 'cli', 'main.ts');
    writeFileSync(source, 'export {};\n');
    utimesSync(source, 1_000, 1_000);
    writeFileSync(join(root, ENTRY), 'export {};\n');
    return {
      root,
      source,
      stamp: (builtAt) =>
        writeFileSync(join(root, STAMP), JSON.stringify({ builtAt, files: sourceMtimes(root).length })),
    };
  }

  it('uses dist/ only when it was built after every source, from the same set of files', () => {
    const { root, source, stamp } = checkout();
    expect(compiledEntry(root)).toBeUndefined(); // never built
    stamp(2_000_000);
    expect(compiledEntry(root)).toBe(join(root, ENTRY));
    utimesSync(source, 3_000, 3_000); // edited after the build
    expect(compiledEntry(root)).toBeUndefined();
    utimesSync(source, 1_000, 1_000);
    writeFileSync(join(root, 'cli', 'new.ts'), 'export {};\n');
    utimesSync(join(root, 'cli', 'new.ts'), 1_000, 1_000); // a file added with an old mtime
    expect(compiledEntry(root)).toBeUndefined();
    rmSync(join(root, 'cli', 'new.ts'));
    expect(compiledEntry(root)).toBe(join(root, ENTRY));
    rmSync(join(root, ENTRY)); // stamp without output
    expect(compiledEntry(root)).toBeUndefined();
  });

  it('DPT_NO_DIST forces the sources', () => {
    const { root, stamp } = checkout();
    stamp(2_000_000);
    process.env.DPT_NO_DIST = '1';
    try {
      expect(compiledEntry(root)).toBeUndefined();
    } finally {
      delete process.env.DPT_NO_DIST;
    }
  });
});
