"""Reference attention maps for the tiny CLIP fixtures: test/fixtures/clip/<model>-attention.json.

For each fixture image (the <model>-reference.json list) and each vision block, the class token's attention over the
image patches, mean over heads, from transformers' CLIPVisionModel with output_attentions (eager attention), the
quantity dpt-sweep's attention maps show (docs/attention.md).

Usage: tools/reference/.venv/bin/python tools/reference/make_attention_fixture.py [--fixtures test/fixtures/clip]
"""

import argparse
import json
import os

import numpy as np
import torch
from PIL import Image
from transformers import CLIPModel

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def attention_maps(fixtures, name):
    with open(os.path.join(fixtures, f'{name}-reference.json'), encoding='utf-8') as f:
        reference = json.load(f)
    model = CLIPModel.from_pretrained(os.path.join(fixtures, f'{name}-hf'), attn_implementation='eager').eval()
    # The fixture images are at the model's own size: no resampling, as in the CLIP fixtures.
    pixels = np.stack([
        (np.asarray(Image.open(os.path.join(fixtures, p)).convert('RGB'), dtype=np.float32) / 255.0 - MEAN) / STD
        for p in reference['images']
    ]).transpose(0, 3, 1, 2).copy()
    with torch.no_grad():
        out = model.vision_model(pixel_values=torch.from_numpy(pixels), output_attentions=True)
    # attentions[layer]: [B, heads, tokens, tokens]; row 0 is the class token, columns 1.. the patches.
    per_layer = [a.mean(dim=1)[:, 0, 1:].tolist() for a in out.attentions]
    return {'images': reference['images'], 'class_token_patch_attention': per_layer}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--fixtures', default=os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'clip'))
    args = parser.parse_args()
    for name in ('tiny-a', 'tiny-b'):
        path = os.path.join(args.fixtures, f'{name}-attention.json')
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(attention_maps(args.fixtures, name), f)
            f.write('\n')
        print(f'wrote {path}')


if __name__ == '__main__':
    main()
