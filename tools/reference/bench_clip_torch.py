"""PyTorch reference for bench/clip.ts: ViT-B/32 vision tower (transformers' CLIP modules, random frozen weights),
forward and forward + backward to prompt tokens appended before every layer, on this CPU.

Usage: tools/reference/.venv/bin/python tools/reference/bench_clip_torch.py [--batch 32] [--threads 2]
           [--prompts 10] [--warmup 1] [--reps 3]

Same method as bench/clip.ts: `--warmup` forward passes and `--warmup` forward+backward passes at the timed batch
(a warm-up at batch 1 leaves the allocator's growth and the backward's first call inside the timing), then the best
of `--reps` timings of each. Weights are frozen, so the backward computes gradients for the prompts only. Prints one
JSON object. Set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS to `--threads` too, and OMP_WAIT_POLICY=PASSIVE on a shared
machine (bench/clip.ts does both, see bench/harness.ts torchEnv): Debian's torch runs its matrix products in OpenBLAS,
whose thread pool torch.set_num_threads does not size, and spinning OpenMP workers collapse when other work holds a core.
"""
import argparse
import json
import resource
import time

import torch
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--prompts', type=int, default=10)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--reps', type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
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

    def forward():
        with torch.no_grad():
            encode(pixels)

    def forward_backward():
        prompts.grad = None
        encode(pixels).sum().backward()

    def timed(fn):
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    n = 512
    ma, mb = torch.randn(n, n), torch.randn(n, n)
    ma @ mb
    t = time.perf_counter()
    for _ in range(20):
        ma @ mb
    gflops = 2 * n ** 3 * 20 / (time.perf_counter() - t) / 1e9

    t = time.perf_counter()
    for _ in range(a.warmup):
        forward()
        forward_backward()
    warmup_seconds = time.perf_counter() - t
    fwd = [timed(forward) for _ in range(a.reps)]
    fb = [timed(forward_backward) for _ in range(a.reps)]
    print(json.dumps({
        'backend': f'pytorch {torch.__version__} cpu, {a.threads} threads',
        'batch': a.batch,
        'prompt_tokens_per_layer': a.prompts,
        'matmul_512_gflops': round(gflops, 2),
        'forward_seconds': round(min(fwd), 4),
        'forward_img_per_s': round(a.batch / min(fwd), 4),
        'forward_backward_seconds': round(min(fb), 4),
        'forward_backward_img_per_s': round(a.batch / min(fb), 4),
        'forward_seconds_all': [round(x, 4) for x in fwd],
        'forward_backward_seconds_all': [round(x, 4) for x in fb],
        'warmup_seconds': round(warmup_seconds, 3),
        'max_rss_bytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }, indent=2))


if __name__ == '__main__':
    main()
