import { describe, expect, it } from 'vitest';
import { stallMessage, stallWatch } from '../../../activities/stall-watch.ts';
import { describeTrainerExit, lastErrorLine } from '../../../activities/trainer-exit.ts';

const BACKEND_NOTICE = 'dpt-sweep: TF.js backend tensorflow (native libtensorflow 2.19, cpu only)';

describe('a trainer that ended without a result', () => {
  it('is reported with the signal that killed it, not with the backend notice', () => {
    expect(describeTrainerExit({ exitSignal: 'SIGKILL', code: null, stderrTail: BACKEND_NOTICE })).toBe(
      'trainer process killed by SIGKILL without a result',
    );
  });

  it('is reported with its exit code and its last error line, skipping stack frames and notices', () => {
    const stderr = [
      BACKEND_NOTICE,
      '/work/dpt/trainer/step.ts:40',
      '    throw new RangeError("bad shape");',
      '    ^',
      '',
      'RangeError: bad shape',
      '    at trainBatch (/work/dpt/trainer/step.ts:40:11)',
      '    at runTrial (/work/dpt/trainer/run-trial.ts:120:5)',
      '',
      'Node.js v20.20.2',
    ].join('\n');
    expect(describeTrainerExit({ exitSignal: null, code: 1, stderrTail: stderr })).toBe(
      'trainer process exited with code 1 without a result: RangeError: bad shape',
    );
  });

  it('skips TensorFlow info and warning log lines but keeps its fatal ones', () => {
    const info = '2026-12-01 12:00:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:210] This TensorFlow...';
    const fatal = '2026-12-01 12:00:01.000000: F tensorflow/core/framework/tensor.cc:850] Check failed: dtype()';
    expect(lastErrorLine(`${BACKEND_NOTICE}\n${info}`)).toBeUndefined();
    expect(lastErrorLine(`${BACKEND_NOTICE}\n${fatal}\n${info}`)).toBe(fatal);
    expect(describeTrainerExit({ exitSignal: 'SIGABRT', code: null, stderrTail: `${fatal}\n${info}` })).toBe(
      `trainer process killed by SIGABRT without a result: ${fatal}`,
    );
  });
});

describe('the stall watch', () => {
  it('stays fresh while the trainer reports, and goes stale after the limit', () => {
    const t0 = 1_000_000;
    const watch = stallWatch(4_000, t0);
    // Until its first batch a trainer gets the load allowance (node, tsx, libtensorflow, CLIP weights, data).
    expect(watch.fresh(t0 + 30_000)).toBe(true);
    expect(watch.fresh(t0 + 61_000)).toBe(false);
    watch.alive(false, t0 + 30_000);
    expect(watch.fresh(t0 + 80_000)).toBe(true);
    const now = t0 + 50_000;
    watch.alive(true, now);
    expect(watch.fresh(now + 4_000)).toBe(true);
    expect(watch.fresh(now + 4_001)).toBe(false);
    expect(watch.silentSeconds(now + 6_400)).toBe(6);
    expect(stallMessage(6)).toBe('trainer made no progress for 6 s; killed');
  });
});
