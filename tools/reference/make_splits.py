#!/usr/bin/env python3
"""Reference fixtures for dpt-sweep's data/ port, produced by CPython's own `random` module (stdlib only).

Writes to test/fixtures/splits/ (or the directory given as the first argument):

- random-sequences.json: for several seeds (0, small, negative, > 2**32, > 2**64), a trace of calls on one
  random.Random instance (random, getrandbits, _randbelow, randint, randrange, uniform, choice, sample in both of
  its branches, shuffle, gauss, normalvariate) with their results, the final getstate(), and a setstate round trip.
- fewshot-<name>.json: small fake datasets in the split_zhou layout (fake relative paths, no images) and the
  few-shot picks of the official protocol for several (shots, seed): random.seed(SEED) on the module generator,
  then Dassl's generate_fewshot_dataset(train, K) and generate_fewshot_dataset(val, min(K, 4)) (train only for the
  ImageNet-like set). Picks are stored as indices into the split lists.
- crop-boxes.json: torchvision's RandomResizedCrop.get_params algorithm and a flip draw per image, driven by
  random.Random(seed) (the calls torchvision <= 0.7 made on Python's random module).

The few-shot code below is written from the behaviour of Dassl's DatasetBase.generate_fewshot_dataset at commit
c61a1b5 (repeat=False): group by label in order of first appearance, random.sample(items, K) per group, or all
items when a group has fewer than K.

Run: python3 tools/reference/make_splits.py   (Python 3.11; the output is deterministic)
"""

import json
import math
import os
import random
import sys
from collections import defaultdict

OUT_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "splits")

SEEDS = [0, 1, 2, 3, 42, -7, 2**32 + 5, 2**64 + 123456789, 12345678901234567890123456789]


def trace_for_seed(seed):
    rng = random.Random(seed)
    ops = []

    def rec(op, args, result):
        ops.append({"op": op, "args": args, "result": result})

    for _ in range(5):
        rec("random", [], rng.random())
    for k in [0, 1, 5, 31, 32, 33, 48, 53, 64, 100, 257]:
        rec("getrandbits", [k], str(rng.getrandbits(k)))
    for n in [1, 2, 3, 7, 100, 2**31, 2**32 + 1, 2**40 + 3, 2**53 - 1]:
        rec("randbelow", [n], rng._randbelow(n))
    for a, b in [(0, 0), (0, 9), (-5, 5), (10**6, 10**9)]:
        rec("randint", [a, b], rng.randint(a, b))
    for args in [(10,), (0, 100, 7), (100, 0, -3), (-20, 20, 4)]:
        rec("randrange", list(args), rng.randrange(*args))
    for _ in range(3):
        rec("uniform", [2.5, 7.5], rng.uniform(2.5, 7.5))
    for _ in range(3):
        rec("choice", ["abcdefg"], rng.choice("abcdefg"))
    # (n, k) pairs on both sides of sample's setsize rule: 21 for k <= 5, 21 + 4**ceil(log4(3k)) above.
    for n, k in [(0, 0), (1, 1), (5, 5), (10, 3), (21, 3), (22, 3), (30, 5), (50, 10), (85, 8), (86, 8),
                 (85, 16), (86, 16), (100, 10), (300, 100), (1000, 300), (200, 16)]:
        rec("sample", [n, k], rng.sample(range(n), k))
    for n in [0, 1, 2, 40]:
        x = list(range(n))
        rng.shuffle(x)
        rec("shuffle", [n], x)
    for _ in range(7):
        rec("gauss", [0.0, 1.0], rng.gauss(0.0, 1.0))
    for _ in range(3):
        rec("gauss", [10.0, 0.5], rng.gauss(10.0, 0.5))
    for _ in range(5):
        rec("normalvariate", [0.0, 1.0], rng.normalvariate(0.0, 1.0))
    rec("random", [], rng.random())

    state = rng.getstate()
    after_state = [rng.random() for _ in range(3)] + [rng.gauss(0.0, 1.0) for _ in range(3)]
    return {
        "seed": str(seed),
        "ops": ops,
        "state": [state[0], list(state[1]), state[2]],
        "afterState": after_state,
    }


def split_dataset_by_label(items):
    out = defaultdict(list)
    for item in items:
        out[item[1]].append(item)
    return out


def generate_fewshot_dataset(items, num_shots):
    dataset = []
    for _label, group in split_dataset_by_label(items).items():
        if len(group) >= num_shots:
            dataset.extend(random.sample(group, num_shots))
        else:
            dataset.extend(group)
    return dataset


def make_split_list(counts, builder):
    """Items [relpath, label, classname] for the given per-class counts, in a shuffled order (so first appearance
    order differs from label order), paths unique within the list."""
    labels = [label for label, n in enumerate(counts) for _ in range(n)]
    builder.shuffle(labels)
    return labels


def fewshot_fixture(name, train_labels, val_labels, shots_list, seeds, with_val=True):
    def items(split, labels):
        return [[f"class_{lab:03d}/{split}_{i:05d}.jpg", lab, f"class_{lab:03d}"] for i, lab in enumerate(labels)]

    train = items("train", train_labels)
    val = items("val", val_labels)
    index = {tuple(it[:2]): i for i, it in enumerate(train)}
    vindex = {tuple(it[:2]): i for i, it in enumerate(val)}
    cases = []
    for shots in shots_list:
        for seed in seeds:
            random.seed(seed)
            picked_train = generate_fewshot_dataset(train, shots)
            picked_val = generate_fewshot_dataset(val, min(shots, 4)) if with_val else []
            cases.append({
                "shots": shots,
                "seed": seed,
                "train": [index[tuple(it[:2])] for it in picked_train],
                "val": [vindex[tuple(it[:2])] for it in picked_val],
            })
    return {
        "name": name,
        "withVal": with_val,
        "pathRule": "class_{label:03d}/{split}_{index:05d}.jpg; classname class_{label:03d}",
        "trainLabels": train_labels,
        "valLabels": val_labels,
        "cases": cases,
    }


def crop_boxes():
    """torchvision's RandomResizedCrop.get_params + RandomHorizontalFlip on Python's generator."""
    def get_params(rng, width, height, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0)):
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                top = rng.randint(0, height - h)
                left = rng.randint(0, width - w)
                return [left, top, w, h]
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w = width
            h = int(round(w / min(ratio)))
        elif in_ratio > max(ratio):
            h = height
            w = int(round(h * max(ratio)))
        else:
            w = width
            h = height
        return [(width - w) // 2, (height - h) // 2, w, h]

    sizes = [(224, 224), (500, 375), (375, 500), (32, 32), (1, 1), (3, 200), (200, 3), (4000, 10), (7, 9)]
    out = []
    for seed in [1, 2, 3]:
        rng = random.Random(seed)
        draws = []
        for _ in range(4):
            for width, height in sizes:
                box = get_params(rng, width, height)
                flip = rng.random() < 0.5
                draws.append({"width": width, "height": height, "box": box, "flip": flip})
        # Narrow scale so the fallback is reached on extreme aspect ratios.
        for width, height in [(4000, 10), (10, 4000), (300, 100)]:
            box = get_params(rng, width, height, scale=(0.9, 1.0))
            draws.append({"width": width, "height": height, "scale": [0.9, 1.0], "box": box, "flip": None})
        out.append({"seed": seed, "draws": draws, "nextRandom": rng.random()})
    return out


def write(name, data):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def main():
    meta = {"python": sys.version.split()[0]}
    write("random-sequences.json", {**meta, "traces": [trace_for_seed(s) for s in SEEDS]})

    builder = random.Random(20240601)
    # Small: 5 classes, some with fewer items than the larger shot counts.
    small_train = make_split_list([1, 3, 8, 20, 40], builder)
    small_val = make_split_list([1, 2, 4, 6, 10], builder)
    write("fewshot-small.json", {**meta, **fewshot_fixture(
        "small", small_train, small_val, [1, 2, 4, 8, 16], [1, 2, 3])})

    # Many classes (SUN397-sized), uneven: many groups below 16, a few large enough (> 85) for sample's set branch.
    counts = [builder.randint(1, 30) for _ in range(397)]
    for c in builder.sample(range(397), 12):
        counts[c] = builder.randint(86, 220)
    val_counts = [builder.randint(0, 8) for _ in range(397)]
    many_train = make_split_list(counts, builder)
    many_val = make_split_list(val_counts, builder)
    write("fewshot-many.json", {**meta, **fewshot_fixture(
        "many", many_train, many_val, [1, 4, 16], [1, 2, 3])})

    # ImageNet-like: no val is sampled; large groups in label order like the folder reader produces.
    inet_train = [lab for lab in range(40) for _ in range(150 + 7 * lab)]
    write("fewshot-imagenet-like.json", {**meta, **fewshot_fixture(
        "imagenet-like", inet_train, [], [1, 16], [1, 3], with_val=False)})

    write("crop-boxes.json", {**meta, "seeds": crop_boxes()})


if __name__ == "__main__":
    main()
