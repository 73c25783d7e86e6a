import { coop } from './coop.ts';
import { dpt } from './dpt.ts';
import type { MethodDef } from './method.ts';
import { TRIAL_SETTINGS, type TrialSetting } from './settings.ts';
import { vlp } from './vlp.ts';
import { vpt } from './vpt.ts';
import { zeroshot } from './zeroshot.ts';

/**
 * The methods a trial can run. Adding one is its module (see dpt/methods/method.ts) and one line in each of the two
 * lists below; the sweep axes, factors, expansion's reset of unread settings and the trainer's checks follow from
 * what the module declares. Pure at run time (the modules import TF.js types only).
 */
export const METHODS = ['zeroshot', 'coop', 'vpt', 'vlp', 'dpt'] as const;
export type Method = (typeof METHODS)[number];

const REGISTRY: { readonly [M in Method]: MethodDef } = { zeroshot, coop, vpt, vlp, dpt };

export function methodDef(method: Method): MethodDef {
  return REGISTRY[method];
}

export function readsSetting(method: Method, setting: TrialSetting): boolean {
  return REGISTRY[method].reads.includes(setting);
}

/** The methods that read a setting, in METHODS order. */
export function methodsReading(setting: TrialSetting): Method[] {
  return METHODS.filter((method) => readsSetting(method, setting));
}

/** Whether the method trains anything (zero-shot CLIP does not). */
export function trainsAnything(method: Method): boolean {
  return REGISTRY[method].trains.length > 0;
}

/**
 * The settings the method does not read, which sweep expansion resets to their defaults: a group the method reads
 * nothing of (`loss` for CoOp) as one path, so the reset copies it whole, as it always has.
 */
export function unreadSettings(method: Method): string[] {
  const unread = TRIAL_SETTINGS.filter((setting) => !readsSetting(method, setting));
  const groupOf = (setting: string) => setting.slice(0, setting.indexOf('.'));
  const whole = (group: string) => TRIAL_SETTINGS.every((s) => groupOf(s) !== group || unread.includes(s));
  const paths: string[] = [];
  for (const setting of unread) {
    const group = groupOf(setting);
    const path = whole(group) ? group : setting;
    if (!paths.includes(path)) paths.push(path);
  }
  return paths;
}
