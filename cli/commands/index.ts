import type { Command } from 'commander';

/** What every command module under cli/commands/ exports. */
export interface CommandModule {
  register(program: Command): void;
}

interface CommandEntry {
  /** The name and arguments as the top-level help lists them, e.g. `launch <file>`. */
  usage: string;
  aliases?: string[];
  /** One line for the top-level help; the module's own description shows in `dpt-sweep <command> --help`. */
  summary: string;
  load: () => Promise<CommandModule>;
}

/**
 * Every sub-command and the module that defines it. A module is imported only when its command runs (or its own
 * help is asked for): the modules pull in Temporal, Prisma and TensorFlow.js, which take seconds to load, and
 * `--help` or `list` need none of that. test/unit/cli/commands.test.ts checks this table against the modules.
 * Keep it alphabetical; add one entry per command.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  attention: {
    usage: 'attention <sweep>',
    summary: "what trained trials look at: the paper's Figure 1",
    load: () => import('./attention.ts'),
  },
  cancel: { usage: 'cancel <sweep>', summary: 'cancel a running sweep', load: () => import('./sweeps.ts') },
  dashboard: { usage: 'dashboard', summary: 'serve the read-only web dashboard', load: () => import('./dashboard.ts') },
  data: {
    usage: 'data',
    summary: 'inspect benchmark datasets (data check <dataset>)',
    load: () => import('./data.ts'),
  },
  dev: { usage: 'dev', summary: 'run the embedded stack in the foreground', load: () => import('./worker.ts') },
  doctor: { usage: 'doctor', summary: 'backends, GPUs, Temporal and the database', load: () => import('./doctor.ts') },
  embed: { usage: 'embed', summary: 'CLIP features of images and texts', load: () => import('./embed.ts') },
  export: {
    usage: 'export <sweep>',
    summary: 'write every row of a sweep (csv, jsonl)',
    load: () => import('./export.ts'),
  },
  launch: { usage: 'launch <file>', summary: 'launch a sweep file (idempotent)', load: () => import('./sweeps.ts') },
  list: { usage: 'list', summary: 'all sweeps with their trial counts', load: () => import('./list.ts') },
  pause: { usage: 'pause <sweep>', summary: 'stop launching new trials', load: () => import('./sweeps.ts') },
  quickstart: {
    usage: 'quickstart',
    aliases: ['demo'],
    summary: 'run the quick-start sweep, print its tables, serve the dashboard',
    load: () => import('./quickstart.ts'),
  },
  results: {
    usage: 'results <sweep...>',
    summary: 'ablation tables: mean ± std over seeds',
    load: () => import('./results.ts'),
  },
  resume: {
    usage: 'resume <sweep>',
    summary: 'run failed and unfinished trials again',
    load: () => import('./sweeps.ts'),
  },
  'set-parallel': {
    usage: 'set-parallel <sweep> <n>',
    summary: 'change how many trials train at once',
    load: () => import('./sweeps.ts'),
  },
  setup: { usage: 'setup <flavour>', summary: 'build the native TensorFlow backend', load: () => import('./setup.ts') },
  status: { usage: 'status [sweep]', summary: 'trial counts and live progress', load: () => import('./sweeps.ts') },
  train: { usage: 'train <trial>', summary: 'train ONE trial locally', load: () => import('./train.ts') },
  unpause: { usage: 'unpause <sweep>', summary: 'launch trials again after pause', load: () => import('./sweeps.ts') },
  validate: {
    usage: 'validate <file>',
    summary: 'check a sweep file, its expansion and compute',
    load: () => import('./validate.ts'),
  },
  worker: { usage: 'worker', summary: 'run a worker against a cluster', load: () => import('./worker.ts') },
};

/**
 * Registers the command that `args` (the arguments after the script) names — importing only its module — or, when
 * it names none (`--help`, no arguments, a typo), a light entry per command so that help lists them all and commander
 * suggests the nearest name.
 */
export async function registerCommands(program: Command, args: string[]): Promise<void> {
  const entry = requestedCommand(args);
  if (entry !== undefined) {
    (await entry.load()).register(program);
    return;
  }
  for (const [name, { usage, aliases, summary }] of Object.entries(COMMANDS)) {
    const stub = program.command(usage.replace(/^\S+/, name)).summary(summary);
    for (const alias of aliases ?? []) stub.alias(alias);
    // Only reachable if a module stopped defining its command; the table test catches that first.
    stub.action(() => {
      throw new Error(`command ${name} is listed in cli/commands/index.ts but its module does not define it`);
    });
  }
}

/** The table entry of the first argument that is not an option (`help <command>` asks about that command). */
export function requestedCommand(args: string[]): CommandEntry | undefined {
  const words = args.filter((arg) => !arg.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  if (name === undefined) return undefined;
  return Object.values(COMMANDS).find((entry, i) => Object.keys(COMMANDS)[i] === name || entry.aliases?.includes(name));
}
