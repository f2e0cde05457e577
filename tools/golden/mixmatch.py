"""Golden fixture for MixMatch's label guessing and interleave grouping (google-research/mixmatch @ 77bf67dd).

Both come from the reference code itself, read at run time from the git mirror
(default /work/.mirror/google-research+mixmatch/repo, `--ref-git`) with `git show 77bf67dd:<file>` and
executed in a scratch namespace; nothing of it is copied into the project:
- `MixMatch.guess_label(y, classifier, T)` from mixmatch.py, run with a classifier that returns fixed logits for
  each of the K augmentations and a NumPy stand-in for the five TensorFlow calls it makes (`concat`, `reshape`,
  `nn.softmax`, `reduce_mean`, `pow`, `reduce_sum(keep_dims=True)`; TensorFlow 1 is not installable here);
- `interleave_offsets(batch, nu)` from libml/layers.py, plain Python.

Run from the repo root: python3 tools/golden/mixmatch.py (writes crates/mixlab-core/tests/fixtures/
mixmatch_golden.json). Needs numpy, git and the mirror.
"""
import argparse
import ast
import json
import os
import subprocess
import textwrap
import types

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "crates", "mixlab-core", "tests", "fixtures", "mixmatch_golden.json")
AT = "77bf67dd"


def git_show(git_dir, path):
    return subprocess.run(["git", "-C", git_dir, "show", f"{AT}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def function(src, name, cls=None):
    body = ast.parse(src).body
    if cls is not None:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == cls).body
    node = next(n for n in body if isinstance(n, ast.FunctionDef) and n.name == name)
    return textwrap.dedent(ast.get_source_segment(src, node))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


TF = types.SimpleNamespace(
    concat=lambda xs, axis: np.concatenate(xs, axis=axis),
    reshape=lambda x, shape: np.reshape(x, shape),
    nn=types.SimpleNamespace(softmax=softmax),
    reduce_mean=lambda x, axis: x.mean(axis=axis),
    pow=np.power,
    reduce_sum=lambda x, axis, keep_dims: x.sum(axis=axis, keepdims=keep_dims),
)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", default="/work/.mirror/google-research+mixmatch/repo")
    args = ap.parse_args()
    mm = git_show(args.ref_git, "mixmatch.py")
    layers = git_show(args.ref_git, "libml/layers.py")
    ns = dict(tf=TF, EasyDict=lambda **kw: kw)
    exec(compile(function(mm, "guess_label", "MixMatch"), "mixmatch.py:guess_label", "exec"), ns)
    exec(compile(function(layers, "interleave_offsets"), "layers.py:interleave_offsets", "exec"), ns)
    rng = np.random.default_rng(5)
    k, n, c, t = 2, 3, 4, 0.5
    logits = rng.standard_normal((k, n, c)).astype(np.float32)
    outputs = iter(logits.astype(np.float64))
    this = types.SimpleNamespace(nclass=c)
    guess = ns["guess_label"](this, [None] * k, lambda _yi, training: next(outputs), t)
    out = dict(
        k=k, n=n, classes=c, temperature=t,
        logits=" ".join(map(repr, logits.ravel().tolist())),
        p_model=np.asarray(guess["p_model"]).ravel().tolist(),
        p_target=np.asarray(guess["p_target"]).ravel().tolist(),
        interleave=[[b, nu, ns["interleave_offsets"](b, nu)] for b, nu in [(64, 2), (100, 2), (10, 3), (7, 1)]],
    )
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
