"""Writes PIL's CLIP eval transform (Resize shorter side, bicubic; CenterCrop) of real photographs, as raw RGB8,
for tools/reference/compare_resize.ts. Photos: scikit-image 0.22's bundled data images (extracted by setup.sh).

Usage: tools/reference/.venv/bin/python tools/reference/pil_eval_images.py OUT_DIR [SIZE ...]
"""
import json
import os
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = ['astronaut.png', 'coffee.png', 'chelsea.png', 'rocket.jpg', 'motorcycle_left.png', 'hubble_deep_field.jpg',
          'retina.jpg', 'brick.png']


def eval_transform(img, size):
    w, h = img.size
    # torchvision Resize(size): shorter side to size, longer side int(size * long / short).
    ow, oh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    img = img.resize((ow, oh), Image.BICUBIC)
    # torchvision CenterCrop: int(round((dim - size) / 2)).
    left, top = int(round((ow - size) / 2.0)), int(round((oh - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def main():
    out = sys.argv[1]
    sizes = [int(s) for s in sys.argv[2:]] or [224]
    os.makedirs(out, exist_ok=True)
    manifest = []
    for name in PHOTOS:
        path = os.path.join(HERE, '.venv', 'data', 'skimage', 'data', name)
        img = Image.open(path).convert('RGB')
        for size in sizes:
            raw = os.path.join(out, f'{name}.{size}.rgb')
            with open(raw, 'wb') as f:
                f.write(eval_transform(img, size).tobytes())
            manifest.append({'photo': path, 'size': size, 'pil_rgb': raw, 'source_size': list(img.size)})
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
