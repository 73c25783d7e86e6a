"""Generates the CLIP test fixtures under test/fixtures/clip/ (run through tools/reference/setup.sh's venv).

What it writes, and why:
- tokenizer-full/: CLIP's real BPE tokenizer as tokenizer.json.gz (built offline from open_clip's
  bpe_simple_vocab_16e6.txt.gz through transformers' CLIPTokenizerFast converter) and reference ids for a varied
  text list from open_clip's SimpleTokenizer (OpenAI's algorithm, ftfy included) and from the HF fast tokenizer.
- <model>-hf/, <model>-openai/, ...: small random CLIP checkpoints in the Hugging Face layout and the same weights
  renamed to OpenAI / open_clip names (packed attention in_proj), plus fp16 / bf16 copies. The tiny models use a
  reduced CLIP vocabulary (the first merges of the real BPE) so the embedding tables stay small.
- <model>-reference.json: inputs (ids, image files) and the reference outputs from transformers' CLIPModel
  (get_image_features, get_text_features, zero-shot logits).

Usage: tools/reference/.venv/bin/python tools/reference/make_clip_fixtures.py [--out test/fixtures/clip]
"""

import argparse
import gzip
import importlib.util
import json
import math
import os
import shutil
import tempfile

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import CLIPConfig, CLIPModel, CLIPTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '.venv', 'data')
BPE_PATH = os.path.join(DATA, 'open_clip', 'bpe_simple_vocab_16e6.txt.gz')
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)

FULL_TOKENIZER_TEXTS = [
    'a photo of a cat.',
    'A PHOTO OF A DOG, a type of pet.',
    "it's a dog's life; they're here, we've seen I'm sure you'll say he'd go",
    'Hello,   world!!!   (tabs\tand\nnewlines)',
    'numbers 1234567 and 3.14159, 2nd place, 10x faster',
    'punctuation: ?!.,;:-_/\\|@#$%^&*()[]{}<>~`"\'+=',
    'café naïve résumé Zürich São Paulo',
    'Ελληνικά кириллица עברית العربية हिन्दी',
    '日本語のテキストと中文文本 한국어',
    'emoji 🐱🐶🚀 and symbols ©®™ °C ±5',
    'a photo of a golden_retriever, a type of pet.',
    '{} texture.',
    'e-mail: someone@example.com http://example.com/path?x=1&y=2',
    ' leading and trailing spaces ',
    'long ' + ' '.join(f'word{i} and more text' for i in range(60)),
    'He said “hello” and ‘bye’ — fish &amp; chips',
    'ﬁne ｆｕｌｌｗｉｄｔｈ text',
    '',
]

# The tiny models. Widths, heads, layers, patch and image sizes differ between the two on purpose.
MODELS = {
    'tiny-a': dict(
        merges=400,
        text=dict(hidden_size=32, intermediate_size=128, num_attention_heads=4, num_hidden_layers=2,
                  max_position_embeddings=16),
        vision=dict(hidden_size=32, intermediate_size=128, num_attention_heads=2, num_hidden_layers=2,
                    image_size=32, patch_size=8),
        projection_dim=24,
        shard=False,
    ),
    'tiny-b': dict(
        merges=300,
        text=dict(hidden_size=40, intermediate_size=96, num_attention_heads=5, num_hidden_layers=3,
                  max_position_embeddings=12),
        vision=dict(hidden_size=48, intermediate_size=80, num_attention_heads=3, num_hidden_layers=3,
                    image_size=24, patch_size=4),
        projection_dim=16,
        shard=True,
    ),
}

MODEL_TEXTS = [
    'a photo of a cat.',
    'Hello, World!! 42',
    'naïve café — ok?',
    'a very long sentence that will certainly not fit in the tiny context window of these models',
]
CLASSNAMES = ['cat', 'dog', 'golden_retriever', 'airplane', 'sea_turtle']
TEMPLATE = 'a photo of a {}, a type of pet.'


def load_open_clip_tokenizer_module():
    """open_clip's tokenizer.py is self-contained; load it by path so open_clip's heavy package init is skipped."""
    spec = importlib.util.spec_from_file_location('open_clip_tokenizer', os.path.join(DATA, 'open_clip', 'tokenizer.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_vocab_files(simple, workdir):
    """vocab.json + merges.txt (HF names for the special tokens) from an open_clip SimpleTokenizer."""
    inverse = {i: t for t, i in simple.encoder.items()}
    vocab = {}
    for i in range(len(inverse)):
        token = inverse[i]
        if i == simple.sot_token_id:
            token = '<|startoftext|>'
        elif i == simple.eot_token_id:
            token = '<|endoftext|>'
        vocab[token] = i
    merges = sorted(simple.bpe_ranks.items(), key=lambda kv: kv[1])
    vocab_path = os.path.join(workdir, 'vocab.json')
    merges_path = os.path.join(workdir, 'merges.txt')
    with open(vocab_path, 'w', encoding='utf-8') as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(merges_path, 'w', encoding='utf-8') as f:
        f.write('#version: 0.2\n')
        for (a, b), _ in merges:
            f.write(f'{a} {b}\n')
    return vocab_path, merges_path


def build_hf_tokenizer(simple, workdir):
    vocab_path, merges_path = write_vocab_files(simple, workdir)
    fast = CLIPTokenizerFast(vocab_file=vocab_path, merges_file=merges_path)
    fast.save_pretrained(workdir)
    return fast, os.path.join(workdir, 'tokenizer.json')


def hf_ids(fast, text, ctx):
    """HF fast ids with OpenAI's truncation rule (keep the first ctx tokens, last one forced to EOT) and 0 padding."""
    ids = fast(text)['input_ids']
    if len(ids) > ctx:
        ids = ids[:ctx]
        ids[-1] = fast.eos_token_id
    return ids + [0] * (ctx - len(ids))


def small_bpe_file(n_merges, path):
    lines = gzip.open(BPE_PATH).read().decode('utf-8').split('\n')
    with gzip.open(path, 'wt', encoding='utf-8') as f:
        f.write('\n'.join(lines[: 1 + n_merges]))


def make_full_tokenizer(tok_module, out):
    target = os.path.join(out, 'tokenizer-full')
    os.makedirs(target, exist_ok=True)
    simple = tok_module.SimpleTokenizer(bpe_path=BPE_PATH)
    with tempfile.TemporaryDirectory() as work:
        fast, tokenizer_json = build_hf_tokenizer(simple, work)
        with open(tokenizer_json, 'rb') as src, gzip.open(os.path.join(target, 'tokenizer.json.gz'), 'wb', 9) as dst:
            shutil.copyfileobj(src, dst)
    reference = simple(FULL_TOKENIZER_TEXTS, context_length=77).tolist()
    hf = [hf_ids(fast, t, 77) for t in FULL_TOKENIZER_TEXTS]
    cases = [
        {'text': t, 'open_clip_ids': trim_pad(r), 'hf_fast_ids': trim_pad(h)}
        for t, r, h in zip(FULL_TOKENIZER_TEXTS, reference, hf)
    ]
    write_json(os.path.join(target, 'reference.json'), {'context_length': 77, 'cases': cases})
    mismatches = [c['text'] for c in cases if c['open_clip_ids'] != c['hf_fast_ids']]
    print(f'full tokenizer: {len(cases)} texts, HF fast differs from open_clip on {len(mismatches)}: {mismatches}')


def trim_pad(ids):
    """Stored without the trailing zero padding to keep fixtures short; the context length is stored alongside."""
    ids = list(ids)
    while ids and ids[-1] == 0:
        ids.pop()
    return ids


def randomise(model, seed):
    """HF's init leaves LayerNorms at 1/0 and biases at 0; randomise everything so every tensor matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == 'logit_scale':
                p.fill_(math.log(1 / 0.07) + 0.1)
            elif 'layer_norm' in name or 'layrnorm' in name or 'layernorm' in name:
                base = 1.0 if name.endswith('weight') else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[-1] if p.dim() > 1 else 16
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


def openai_state_dict(model, cfg):
    """The same weights under OpenAI / open_clip names: packed q,k,v, projections as x @ P."""
    sd = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith('position_ids')}
    out = {}

    def tower(hf_prefix, oa_prefix, layers):
        for i in range(layers):
            h = f'{hf_prefix}.encoder.layers.{i}.'
            o = f'{oa_prefix}resblocks.{i}.'
            out[o + 'attn.in_proj_weight'] = torch.cat(
                [sd[h + f'self_attn.{n}_proj.weight'] for n in ('q', 'k', 'v')], 0)
            out[o + 'attn.in_proj_bias'] = torch.cat([sd[h + f'self_attn.{n}_proj.bias'] for n in ('q', 'k', 'v')], 0)
            out[o + 'attn.out_proj.weight'] = sd[h + 'self_attn.out_proj.weight']
            out[o + 'attn.out_proj.bias'] = sd[h + 'self_attn.out_proj.bias']
            for a, b in (('ln_1', 'layer_norm1'), ('ln_2', 'layer_norm2'), ('mlp.c_fc', 'mlp.fc1'),
                         ('mlp.c_proj', 'mlp.fc2')):
                out[o + a + '.weight'] = sd[h + b + '.weight']
                out[o + a + '.bias'] = sd[h + b + '.bias']

    tower('vision_model', 'visual.transformer.', cfg['vision']['num_hidden_layers'])
    tower('text_model', 'transformer.', cfg['text']['num_hidden_layers'])
    out['visual.conv1.weight'] = sd['vision_model.embeddings.patch_embedding.weight']
    out['visual.class_embedding'] = sd['vision_model.embeddings.class_embedding']
    out['visual.positional_embedding'] = sd['vision_model.embeddings.position_embedding.weight']
    for a, b in (('ln_pre', 'pre_layrnorm'), ('ln_post', 'post_layernorm')):
        out[f'visual.{a}.weight'] = sd[f'vision_model.{b}.weight']
        out[f'visual.{a}.bias'] = sd[f'vision_model.{b}.bias']
    out['visual.proj'] = sd['visual_projection.weight'].t()
    out['token_embedding.weight'] = sd['text_model.embeddings.token_embedding.weight']
    out['positional_embedding'] = sd['text_model.embeddings.position_embedding.weight']
    out['ln_final.weight'] = sd['text_model.final_layer_norm.weight']
    out['ln_final.bias'] = sd['text_model.final_layer_norm.bias']
    out['text_projection'] = sd['text_projection.weight'].t()
    out['logit_scale'] = sd['logit_scale']
    return {k: v.contiguous() for k, v in out.items()}


def open_clip_config(cfg, vocab_size):
    v, t = cfg['vision'], cfg['text']
    return {'model_cfg': {
        'embed_dim': cfg['projection_dim'],
        'vision_cfg': {'image_size': v['image_size'], 'layers': v['num_hidden_layers'], 'width': v['hidden_size'],
                       'patch_size': v['patch_size'], 'head_width': v['hidden_size'] // v['num_attention_heads'],
                       'mlp_ratio': v['intermediate_size'] / v['hidden_size']},
        'text_cfg': {'context_length': t['max_position_embeddings'], 'vocab_size': vocab_size,
                     'width': t['hidden_size'], 'heads': t['num_attention_heads'], 'layers': t['num_hidden_layers'],
                     'mlp_ratio': t['intermediate_size'] / t['hidden_size']},
    }}


def reference_outputs(model, pixels, ids, eot_id, classname_ids):
    with torch.no_grad():
        ids_t = torch.tensor(ids, dtype=torch.long)
        image = model.get_image_features(pixel_values=torch.from_numpy(pixels))
        text = model.get_text_features(input_ids=ids_t)
        cls = model.get_text_features(input_ids=torch.tensor(classname_ids, dtype=torch.long))
        img_n = image / image.norm(dim=-1, keepdim=True)
        cls_n = cls / cls.norm(dim=-1, keepdim=True)
        scale = model.logit_scale.exp()
        logits = scale * img_n @ cls_n.t()
    assert all(row.index(eot_id) >= 0 for row in ids)
    return {'image_embeds': image.tolist(), 'text_embeds': text.tolist(), 'zero_shot_logits': logits.tolist(),
            'logit_scale': float(scale)}


def rounded_copy(model, dtype):
    clone = CLIPModel(model.config)
    clone.load_state_dict(model.state_dict())
    with torch.no_grad():
        for p in clone.parameters():
            p.copy_(p.to(dtype).to(torch.float32))
    return clone.eval()


def make_model(name, spec, tok_module, out, seed):
    with tempfile.TemporaryDirectory() as work:
        bpe = os.path.join(work, 'bpe.txt.gz')
        small_bpe_file(spec['merges'], bpe)
        simple = tok_module.SimpleTokenizer(bpe_path=bpe)
        fast, tokenizer_json = build_hf_tokenizer(simple, work)
        with open(tokenizer_json, encoding='utf-8') as f:
            tokenizer_text = f.read()
    vocab_size = len(simple.encoder)
    ctx = spec['text']['max_position_embeddings']
    cfg = CLIPConfig(
        text_config=dict(spec['text'], vocab_size=vocab_size, hidden_act='quick_gelu', layer_norm_eps=1e-5,
                         bos_token_id=simple.sot_token_id, eos_token_id=simple.eot_token_id, pad_token_id=0),
        vision_config=dict(spec['vision'], hidden_act='quick_gelu', layer_norm_eps=1e-5, num_channels=3),
        projection_dim=spec['projection_dim'],
    )
    torch.manual_seed(seed)
    model = CLIPModel(cfg).eval()
    randomise(model, seed)

    # Inputs: random images at exactly the model's image size (no resampling in the comparison) and a smooth one.
    rng = np.random.default_rng(seed)
    size = spec['vision']['image_size']
    images = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(2)]
    yy, xx = np.mgrid[0:size, 0:size]
    images.append(np.stack([xx * 255 // (size - 1), yy * 255 // (size - 1), (xx + yy) * 127 // (size - 1)],
                           -1).astype(np.uint8))
    inputs_dir = os.path.join(out, f'{name}-inputs')
    os.makedirs(inputs_dir, exist_ok=True)
    image_files = []
    for i, img in enumerate(images):
        fname = f'image{i}.png'
        Image.fromarray(img, 'RGB').save(os.path.join(inputs_dir, fname))
        image_files.append(f'{name}-inputs/{fname}')
    # Re-read through PIL exactly as CLIP's pipeline does (convert RGB, /255, mean/std), NCHW for torch.
    pixels = np.stack([
        ((np.asarray(Image.open(os.path.join(out, f)).convert('RGB'), dtype=np.float32) / 255.0 - MEAN) / STD)
        for f in image_files
    ]).transpose(0, 3, 1, 2).copy()

    ids = simple(MODEL_TEXTS, context_length=ctx).tolist()
    prompts = [TEMPLATE.format(c.replace('_', ' ')) for c in CLASSNAMES]
    class_ids = simple(prompts, context_length=ctx).tolist()
    hf_check = [hf_ids(fast, t, ctx) for t in MODEL_TEXTS + prompts]
    if hf_check != ids + class_ids:
        print(f'{name}: note: HF fast ids differ from open_clip ids on the model texts')

    base = {
        'texts': MODEL_TEXTS, 'ids': ids, 'classnames': CLASSNAMES, 'template': TEMPLATE, 'prompt_ids': class_ids,
        'images': image_files, 'context_length': ctx, 'vocab_size': vocab_size,
    }
    variants = {}

    def save_hf(dirname, m, dtype):
        d = os.path.join(out, dirname)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        if dtype != torch.float32:
            m = m.to(dtype)
        m.save_pretrained(d, safe_serialization=True, max_shard_size='150KB' if spec['shard'] else '1GB')
        with open(os.path.join(d, 'tokenizer.json'), 'w', encoding='utf-8') as f:
            f.write(tokenizer_text)

    def save_openai(dirname, m, dtype):
        d = os.path.join(out, dirname)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        sd = {k: v.to(dtype) for k, v in openai_state_dict(m, spec).items()}
        save_file(sd, os.path.join(d, 'open_clip_model.safetensors'))
        write_json(os.path.join(d, 'open_clip_config.json'), open_clip_config(spec, vocab_size))
        with open(os.path.join(d, 'tokenizer.json'), 'w', encoding='utf-8') as f:
            f.write(tokenizer_text)

    fp32_ref = reference_outputs(model, pixels, ids, simple.eot_token_id, class_ids)
    save_hf(f'{name}-hf', model, torch.float32)
    save_openai(f'{name}-openai', model, torch.float32)
    variants['fp32'] = {'dirs': [f'{name}-hf', f'{name}-openai'], **fp32_ref}
    if name == 'tiny-a':
        # Reduced-precision copies: the reference runs the fp32 model with weights rounded through that dtype.
        save_openai(f'{name}-openai-fp16', model, torch.float16)
        variants['fp16'] = {'dirs': [f'{name}-openai-fp16'],
                            **reference_outputs(rounded_copy(model, torch.float16), pixels, ids,
                                                simple.eot_token_id, class_ids)}
        save_hf(f'{name}-hf-bf16', rounded_copy(model, torch.bfloat16), torch.bfloat16)
        variants['bf16'] = {'dirs': [f'{name}-hf-bf16'],
                            **reference_outputs(rounded_copy(model, torch.bfloat16), pixels, ids,
                                                simple.eot_token_id, class_ids)}
    write_json(os.path.join(out, f'{name}-reference.json'), {**base, 'variants': variants})
    print(f'{name}: vocab {vocab_size}, ctx {ctx}, variants {list(variants)}')


def write_json(path, obj):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, ensure_ascii=False)
        f.write('\n')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--out', default=os.path.join(HERE, '..', '..', 'test', 'fixtures', 'clip'))
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    tok_module = load_open_clip_tokenizer_module()
    make_full_tokenizer(tok_module, out)
    for i, (name, spec) in enumerate(MODELS.items()):
        make_model(name, spec, tok_module, out, seed=1234 + i)


if __name__ == '__main__':
    main()
