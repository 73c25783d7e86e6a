#!/usr/bin/env bash
# Builds the Python reference environment in tools/reference/.venv (git-ignored). Needs root for apt and network
# access to Debian's mirror and PyPI only. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  apt-get update
  apt-get install -y python3-torch libopenblas0-pthread python3-venv python3-pil python3-numpy
fi
if [ ! -x "$here/.venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$here/.venv"
fi
"$here/.venv/bin/pip" install --quiet -r "$here/requirements.txt"
# Wheels used only as data sources: open_clip ships CLIP's real BPE file (and its reference tokenizer),
# scikit-image ships a few real photographs. Neither is imported as a package.
mkdir -p "$here/.venv/wheels"
"$here/.venv/bin/pip" download --quiet --no-deps --only-binary=:all: -d "$here/.venv/wheels" \
  open_clip_torch==2.24.0 scikit-image==0.22.0
"$here/.venv/bin/python" - "$here/.venv" <<'PY'
import sys, zipfile, glob, os
venv = sys.argv[1]
out = os.path.join(venv, 'data')
os.makedirs(out, exist_ok=True)
for whl in glob.glob(os.path.join(venv, 'wheels', '*.whl')):
    with zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            if name.endswith(('bpe_simple_vocab_16e6.txt.gz', 'open_clip/tokenizer.py')) or (
                name.startswith('skimage/data/') and name.endswith(('.png', '.jpg'))):
                target = os.path.join(out, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, 'wb') as f:
                    f.write(z.read(name))
PY
echo "reference env ready: $here/.venv/bin/python"
