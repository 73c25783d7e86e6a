import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import YAML from 'yaml';
import { DatasetError } from '../../data/errors.ts';
import { ClipLoadError } from '../../dpt/clip/errors.ts';
import { NonFiniteLossError } from '../../dpt/losses.ts';
import { trainsAnything } from '../../dpt/methods/registry.ts';
import { readModelSizes } from '../../dpt/model-sizes.ts';
import { assertTrainable, type ModelSizes } from '../../dpt/trainable.ts';
import { CheckpointError } from '../../dpt/trainer/checkpoint.ts';
import { runTrial, TrialDataError } from '../../dpt/trainer/run-trial.ts';
import type { EpochMetrics, TrialOutcome } from '../../dpt/trainer/types.ts';
import { parseTrialConfig, setPath, type TrialConfig, TrialConfigError } from '../../dpt/trial-config.ts';
import { UserError } from '../errors.ts';
import { collect } from '../options.ts';

interface TrainOptions {
  set: string[];
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train and evaluate ONE trial locally (no Temporal, no database), as a sweep worker would')
    .argument('<trial>', 'trial YAML file (see examples/trial-*.yaml)')
    .option('--set <key=value>', 'override a config key, e.g. --set cavpt.kN=5 (repeatable)', collect, [])
    .option('--json', 'print the machine-readable result (config, per-epoch metrics, accuracies) as JSON on stdout')
    .action(async (file: string, options: TrainOptions) => {
      const config = await loadTrialFile(file, options.set);
      const outcome = await train(config);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ config, ...outcome }, null, 2)}\n`);
        return;
      }
      const lines = outcome.results.map(
        (r) =>
          `${r.evalDataset}${r.classSubset === 'all' ? '' : ` (${r.classSubset} classes)`} ${r.split}: top-1 ${r.top1.toFixed(2)}% (${r.correct}/${r.total})`,
      );
      process.stdout.write(
        `${[...lines, `backend ${outcome.backend}, ${outcome.parameters} trainable parameters`].join('\n')}\n`,
      );
    });
}

/** Read, override and validate a trial file; every problem is a one-line UserError naming the key. */
export async function loadTrialFile(file: string, overrides: string[] = []): Promise<TrialConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read trial file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new UserError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${file} must be a YAML mapping of trial settings`);
  }
  const target = raw as Record<string, unknown>;
  try {
    for (const item of overrides) {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new UserError(`--set ${item}: expected key=value`);
      setPath(target, item.slice(0, eq), YAML.parse(item.slice(eq + 1)));
    }
    const config = parseTrialConfig(target);
    // The sweep planner's rules, so a single trial is refused with the same messages before anything loads.
    assertTrainable(config, await modelSizes(config.model));
    return config;
  } catch (err) {
    if (err instanceof TrialConfigError) throw new UserError(`${file}: ${err.message}`);
    throw err;
  }
}

/** The model's sizes when readable; otherwise loadClip reports the model's problem itself when the trial starts. */
async function modelSizes(dir: string): Promise<ModelSizes | undefined> {
  try {
    return await readModelSizes(dir);
  } catch {
    return undefined;
  }
}

/** Progress goes to stderr (a bar on a terminal, one line per epoch otherwise), so stdout stays the result. */
async function train(config: TrialConfig): Promise<TrialOutcome> {
  const total = trainsAnything(config.method) ? config.optim.epochs : 0;
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: 'epoch {value}/{total} |{bar}| loss {loss} (main {main}, cavpt {cavpt}) lr visual {lrv} text {lrt}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const payload = (m?: EpochMetrics) => ({
    loss: m ? m.loss.toFixed(4) : '-',
    main: m ? m.lossMain.toFixed(4) : '-',
    cavpt: m ? m.lossCavpt.toFixed(4) : '-',
    lrv: m ? m.lrVisual.toExponential(2) : '-',
    lrt: m ? m.lrText.toExponential(2) : '-',
  });
  bar?.start(total, 0, payload());
  try {
    return await runTrial(config, {
      onEpoch: (m) => {
        if (bar) bar.update(m.epoch + 1, payload(m));
        else {
          const p = payload(m);
          process.stderr.write(
            `epoch ${m.epoch + 1}/${total} loss ${p.loss} (main ${p.main}, cavpt ${p.cavpt}) lr visual ${p.lrv} text ${p.lrt} train acc ${m.trainAcc.toFixed(1)}%\n`,
          );
        }
      },
    });
  } catch (err) {
    throw asUserError(err);
  } finally {
    bar?.stop();
  }
}

/** Errors a user can act on (bad data, bad weights, divergence) become one-line UserErrors; bugs stay bugs. */
function asUserError(err: unknown): unknown {
  if (
    err instanceof DatasetError ||
    err instanceof TrialDataError ||
    err instanceof ClipLoadError ||
    err instanceof NonFiniteLossError ||
    err instanceof CheckpointError ||
    err instanceof TrialConfigError
  ) {
    return new UserError(err.message);
  }
  return err;
}
