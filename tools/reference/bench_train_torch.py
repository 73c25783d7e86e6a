"""PyTorch twin of bench/train.ts's ViT-B/32-shaped DPT training step, on this CPU.

Usage: tools/reference/.venv/bin/python tools/reference/bench_train_torch.py [--batch 32] [--classes 10]
           [--threads 2] [--warmup 1] [--reps 3]

What one timed step is, the same sequence as dpt/trainer/step.ts with bench/train.ts's defaults (DPT top-down, text
ctx 16, VPT-deep 10 tokens in blocks 1..11, CAVPT in block 12 with K_N 10 and 10 ctx tokens, α 0.3, β 0.1, epoch 0 of
30 warm-up epochs, so the warm-up loss), built from transformers' CLIP modules with random frozen weights:
  1. zero-shot image features of the batch, no gradient (prompt-free vision tower, 50 tokens);
  2. top-K classes per image from those against the frozen hand-crafted text features (computed once, outside the
     step, as the TF.js ClassContext is);
  3. learned text features: the 12-block text encoder over all classes at 77 tokens, 16 learnable ctx tokens, with
     gradient;
  4. the prompted vision tower with gradient: VPT-deep tokens appended in blocks 1..11, the CAVPT module's K
     class-aware tokens (queries from the selected text features, keys/values the detached block input + 10 ctx
     tokens) in block 12, appended tokens dropped after each block;
  5. loss CE(f0·t) + CE(img·hand) + 0.1·CE(img·t) + 0.3·L_cavpt (the selected rows' C-way CE), backward, and
     SGD (momentum 0.9, weight decay 5e-4) over the trainable tensors only.
Random token ids stand in for the tokenised prompts: the text encoder's cost is the same for any ids. Not a parity
implementation (that is the test suite's job); it exists to time the same work. Prints one JSON object. Thread
settings: as tools/reference/bench_clip_torch.py (bench/train.ts sets OMP/OpenBLAS threads and OMP_WAIT_POLICY).
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn.functional as F
from transformers import CLIPConfig, CLIPModel

N_CTX = 16
VPT_LEN = 10
K_N = 10
CAVPT_CTX = 10
QK_DIM = 32
ALPHA = 0.3
BETA = 0.1


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--classes', type=int, default=10)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--reps', type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    cfg = CLIPConfig(
        text_config=dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, num_hidden_layers=12,
                         max_position_embeddings=77, vocab_size=49408, hidden_act='quick_gelu'),
        vision_config=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                           image_size=224, patch_size=32, hidden_act='quick_gelu'),
        projection_dim=512)
    clip = CLIPModel(cfg).eval()
    for param in clip.parameters():
        param.requires_grad_(False)
    vm, tm = clip.vision_model, clip.text_model
    width, tw, layers = 768, 512, len(vm.encoder.layers)
    c, b = a.classes, a.batch
    k = min(K_N, c)
    scale = math.exp(math.log(100))

    # Trainable tensors, in the trainer's three groups (visual, cavpt, text).
    vpt = (0.02 * torch.randn(layers - 1, VPT_LEN, width)).requires_grad_(True)
    cav = {
        'meta_w': torch.randn(tw, width) / math.sqrt(tw), 'meta_b': torch.zeros(width),
        'q': torch.randn(width, QK_DIM) / math.sqrt(width), 'k': torch.randn(width, QK_DIM) / math.sqrt(width),
        'v': torch.randn(width, width) / math.sqrt(width),
        'ln_g': torch.ones(width), 'ln_b': torch.zeros(width),
        'cls': torch.randn(width, c) / math.sqrt(width),
        'ln2_g': torch.ones(width), 'ln2_b': torch.zeros(width),
        'ctx': 0.02 * torch.randn(CAVPT_CTX, width),
    }
    for t in cav.values():
        t.requires_grad_(True)
    text_ctx = (0.02 * torch.randn(N_CTX, tw)).requires_grad_(True)
    params = [vpt, *cav.values(), text_ctx]
    sgd = torch.optim.SGD([{'params': [vpt]}, {'params': list(cav.values())}, {'params': [text_ctx]}],
                          lr=1e-3, momentum=0.9, weight_decay=5e-4)

    # Frozen prompt parts: "SOS X*16 class-name . EOS pad" as random ids; EOS a few tokens after the ctx.
    ids = torch.randint(1, 49000, (c, 77))
    eot = torch.full((c,), 1 + N_CTX + 3)
    causal = torch.full((77, 77), float('-inf')).triu(1)[None, None]
    with torch.no_grad():
        emb = tm.embeddings.token_embedding(ids)
    prefix, suffix = emb[:, :1], emb[:, 1 + N_CTX:]

    def text_encode(embeddings):
        h = embeddings + tm.embeddings.position_embedding.weight[None]
        h = tm.encoder(inputs_embeds=h, causal_attention_mask=causal.expand(h.shape[0], 1, 77, 77))[0]
        h = tm.final_layer_norm(h)
        return clip.text_projection(h[torch.arange(h.shape[0]), eot])

    with torch.no_grad():
        hand = F.normalize(text_encode(emb), dim=-1)

    def head(x):
        return clip.visual_projection(vm.post_layernorm(x[:, 0]))

    def zero_shot(pixels):
        with torch.no_grad():
            x = vm.pre_layrnorm(vm.embeddings(pixels))
            for layer in vm.encoder.layers:
                x = layer(x, None, None)[0]
            return F.normalize(head(x), dim=-1)

    def cavpt(x_in, t_sel):
        kv = torch.cat([x_in, cav['ctx'].expand(x_in.shape[0], -1, -1)], 1)
        q = t_sel @ cav['meta_w'] + cav['meta_b']
        attn = torch.softmax((q @ cav['q']) @ (kv @ cav['k']).transpose(1, 2) / math.sqrt(QK_DIM), -1)
        o = (attn @ kv) @ cav['v']
        prompts = F.layer_norm(o + q, (width,), cav['ln2_g'], cav['ln2_b'])
        logits = F.layer_norm(o, (width,), cav['ln_g'], cav['ln_b']) @ cav['cls']
        return prompts, logits

    def encode_image(pixels, t_sel):
        x = vm.pre_layrnorm(vm.embeddings(pixels))
        n = x.shape[1]
        layer_logits = None
        for i, layer in enumerate(vm.encoder.layers):
            if i < layers - 1:
                extra = vpt[i].expand(x.shape[0], -1, -1)
            else:
                extra, layer_logits = cavpt(x.detach(), t_sel)
            x = layer(torch.cat([x, extra], 1), None, None)[0][:, :n]
        return head(x), layer_logits

    pixels = torch.randn(b, 3, 224, 224)
    labels = torch.arange(b) % c

    def step():
        f0 = zero_shot(pixels)
        top = (f0 @ hand.T).topk(k, dim=-1).indices  # [B, K]
        mask = (top == labels[:, None]).float()
        t = text_encode(torch.cat([prefix, text_ctx.expand(c, -1, -1), suffix], 1))
        tn = F.normalize(t, dim=-1)
        img, layer_logits = encode_image(pixels, t[top])
        img = F.normalize(img, dim=-1)
        loss = (F.cross_entropy(scale * f0 @ tn.T, labels) + F.cross_entropy(scale * img @ hand.T, labels)
                + BETA * F.cross_entropy(scale * img @ tn.T, labels))
        selected = mask.sum()
        if selected > 0:
            row_ce = F.cross_entropy(layer_logits.reshape(-1, c), labels.repeat_interleave(k), reduction='none')
            loss = loss + ALPHA * (row_ce * mask.reshape(-1)).sum() / selected
        sgd.zero_grad(set_to_none=True)
        loss.backward()
        sgd.step()
        return loss.item()

    def timed():
        t0 = time.perf_counter()
        step()
        return time.perf_counter() - t0

    warm = [timed() for _ in range(a.warmup)]
    times = [timed() for _ in range(a.reps)]
    best = min(times)
    print(json.dumps({
        'model': f'ViT-B/32-shaped DPT step (PyTorch twin), random weights, {c} classes',
        'backend': f'pytorch {torch.__version__} cpu, {a.threads} threads',
        'batch': b,
        'steps': a.reps,
        'imagesPerSecond': round(b / best, 4),
        'secondsPerStep': round(best, 4),
        'secondsPerStepAll': [round(x, 4) for x in times],
        'warmupSeconds': [round(x, 4) for x in warm],
        'maxRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        'trainableParameters': sum(t.numel() for t in params),
    }))


if __name__ == '__main__':
    main()
