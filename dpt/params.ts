import * as tf from '@tensorflow/tfjs';

/** Which optimizer a trainable tensor belongs to (docs/method.md §11: ctx_learner, extractor, prompt_learner). */
export type ParamGroupName = 'visual' | 'cavpt' | 'text';
export const PARAM_GROUPS: readonly ParamGroupName[] = ['visual', 'cavpt', 'text'];

export interface Param {
  /** stable logical name, used in checkpoints and optimizer state (e.g. `cavpt.0.meta.weight`) */
  key: string;
  group: ParamGroupName;
  variable: tf.Variable;
}

let storeCounter = 0;

/**
 * The trainable tensors of one model. TF.js registers variables by a process-wide unique name, so each store prefixes
 * its own id; everything outside (checkpoints, optimizer) talks in logical keys.
 */
export class ParamStore {
  private readonly params = new Map<string, Param>();
  private readonly byEngineName = new Map<string, Param>();
  private readonly prefix = `dpt${++storeCounter}`;

  add(key: string, group: ParamGroupName, initial: tf.Tensor): tf.Variable {
    if (this.params.has(key)) throw new Error(`parameter ${key} defined twice`);
    const variable = tf.variable(initial, true, `${this.prefix}/${key}`, 'float32');
    initial.dispose();
    const param = { key, group, variable };
    this.params.set(key, param);
    this.byEngineName.set(variable.name, param);
    return variable;
  }

  get(key: string): tf.Variable {
    const p = this.params.get(key);
    if (!p) throw new Error(`unknown parameter ${key}`);
    return p.variable;
  }

  has(key: string): boolean {
    return this.params.has(key);
  }

  list(): Param[] {
    return [...this.params.values()];
  }

  inGroup(group: ParamGroupName): Param[] {
    return this.list().filter((p) => p.group === group);
  }

  /** Map TF.js `variableGrads` output (keyed by engine names) to logical keys. */
  keyOf(engineName: string): string | undefined {
    return this.byEngineName.get(engineName)?.key;
  }

  count(): number {
    return this.list().reduce((n, p) => n + p.variable.size, 0);
  }

  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
    this.byEngineName.clear();
  }
}
