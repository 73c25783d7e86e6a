"""PyTorch reference for bench/clip.ts: ViT-B/32 vision tower (transformers' CLIP modules, random frozen weights),
forward and forward + backward to prompt tokens injected before every layer, batch 32, on this CPU.

Usage: tools/reference/.venv/bin/python tools/reference/bench_clip_torch.py [--batch 32] [--threads 2]
"""
import argparse
import json
import time

import torch
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--prompts', type=int, default=10)
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cfg = CLIPVisionConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                           image_size=224, patch_size=32, projection_dim=512, hidden_act='quick_gelu')
    model = CLIPVisionModelWithProjection(cfg).eval()
    for param in model.parameters():
        param.requires_grad_(False)
    vm = model.vision_model
    pixels = torch.randn(a.batch, 3, 224, 224)
    prompts = (0.02 * torch.randn(a.batch, a.prompts, 768)).requires_grad_(True)

    def encode(x_pixels):
        x = vm.pre_layrnorm(vm.embeddings(x_pixels))
        n = x.shape[1]
        for layer in vm.encoder.layers:
            x = layer(torch.cat([x, prompts[: x.shape[0]]], 1), None, None)[0][:, :n]
        return model.visual_projection(vm.post_layernorm(x[:, 0]))

    n = 512
    ma, mb = torch.randn(n, n), torch.randn(n, n)
    ma @ mb
    t = time.perf_counter()
    for _ in range(20):
        ma @ mb
    gflops = 2 * n ** 3 * 20 / (time.perf_counter() - t) / 1e9

    with torch.no_grad():
        encode(pixels[:1])
        t = time.perf_counter()
        encode(pixels)
        fwd = time.perf_counter() - t
    t = time.perf_counter()
    encode(pixels).sum().backward()
    fb = time.perf_counter() - t
    print(json.dumps({'backend': f'pytorch {torch.__version__} cpu, {a.threads} threads', 'batch': a.batch,
                      'prompt_tokens_per_layer': a.prompts, 'matmul_512_gflops': round(gflops, 2),
                      'forward_img_per_s': round(a.batch / fwd, 3),
                      'forward_backward_img_per_s': round(a.batch / fb, 3)}, indent=2))


if __name__ == '__main__':
    main()
