/**
 * Seeded CLIP initialisation in canonical (OpenAI) names, with the normal scales of OpenAI CLIP's
 * `initialize_parameters` (applied to both towers, as open_clip does for its text tower and the vision tower's
 * embeddings): token embedding 0.02, text positions 0.01, attention in-projection width^-1/2, residual-branch outputs
 * width^-1/2 · (2·layers)^-1/2, MLP input (2·width)^-1/2, projections width^-1/2, class/patch-position embeddings
 * width^-1/2; LayerNorm gains 1, biases 0; patch convolution PyTorch's default U(±1/√fan_in); logit scale ln(1/0.07).
 */
import { PythonRandom } from '../../data/python-random.ts';
import type { ClipConfig } from '../../dpt/clip/config.ts';
import { type CanonicalWeights, expectedOpenAi } from '../../dpt/clip/weights.ts';

export const INITIAL_LOG_SCALE = Math.log(1 / 0.07);

export function initialWeights(config: ClipConfig, seed: number): CanonicalWeights {
  const rng = new PythonRandom(seed);
  const out: CanonicalWeights = new Map();
  const { vision: v, text: t } = config;
  for (const [name, shape] of expectedOpenAi(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const normal = (std: number) => {
      for (let i = 0; i < n; i++) data[i] = rng.gauss(0, std);
    };
    const isVision = name.startsWith('visual.');
    const width = isVision ? v.width : t.width;
    const layers = isVision ? v.layers : t.layers;
    if (name === 'logit_scale') data[0] = INITIAL_LOG_SCALE;
    else if (/(ln_\w+|ln_final)\.weight$/.test(name)) data.fill(1);
    else if (name.endsWith('bias')) data.fill(0);
    else if (name === 'token_embedding.weight') normal(0.02);
    else if (name === 'positional_embedding') normal(0.01);
    else if (name === 'visual.conv1.weight') {
      const bound = 1 / Math.sqrt(3 * v.patchSize * v.patchSize);
      for (let i = 0; i < n; i++) data[i] = rng.uniform(-bound, bound);
    } else if (name === 'visual.class_embedding' || name === 'visual.positional_embedding' || name === 'visual.proj')
      normal(v.width ** -0.5);
    else if (name === 'text_projection') normal(t.width ** -0.5);
    else if (name.endsWith('attn.in_proj_weight')) normal(width ** -0.5);
    else if (name.endsWith('attn.out_proj.weight') || name.endsWith('mlp.c_proj.weight'))
      normal(width ** -0.5 * (2 * layers) ** -0.5);
    else if (name.endsWith('mlp.c_fc.weight')) normal((2 * width) ** -0.5);
    else throw new Error(`no initialisation rule for ${name}`);
    out.set(name, { shape, data });
  }
  return out;
}
