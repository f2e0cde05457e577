"""Golden fixture for Geodesic Multi-Modal Mixup (m^2-mix, NeurIPS'23, changdaeoh/multimodal-mixup).

Every number is produced by the reference code itself, read at run time from the git mirror
(default /work/.mirror/changdaeoh+multimodal-mixup/repo, `--ref-git`) with `git show HEAD:<file>` and
executed in a scratch namespace; nothing of it is copied into the project.

- `clip`: loss.py `clip_loss(logits, I)` on the logits main.py builds for the CLIP term,
  `(a @ b.T) * (temperature1 / args.divt)` with temperature1 = 1/tau, divt = 1.
- `m2mix`: main.py's `if args.mmmix:` branch of `do_train` with `--sep_scale` (as scripts/m2mix.sh
  runs it): neg1 = sph_inter(a, b, lam); image/text logits keep the diagonal of a@b.T / b@a.T and take
  a@neg1.T / b@neg1.T off it; both scaled by temperature2 = 1/tau2; loss.py `clip_loss2` (sum of the
  two row-wise mean CEs). `args.mmmix = 1`, so the stored value is the unweighted term.
- `slerp`: `sph_inter(a, b, lam)` from main.py (checked identical to the README's copy); lam is the
  weight of `a` (lam = 1 gives a).
- `align`: loss.py `lalign(a, b)` (alpha = 2); `unif_a`: loss.py `lunif(a)` (t = 2).

The statements run are the real ones: `sph_inter` is taken from main.py and the README by `ast`, and the
per-batch statements of `do_train` (logits, targets, CLIP term, I / I_D, the mmmix branch) are cut out of
main.py by `ast` and executed with a CPU namespace (`image_features = a`, `text_features = b`,
`args` carrying tau, tau2, divt = 1, sep_scale, mmmix = 1, beta2; `random.betavariate` returns lam;
temperature1/2 = torch.ones([]) / args.tau(2), as do_train sets them before its loop).

Textual patches applied before exec, all because the reference assumes a GPU / fp16 training loop:
- main.py: `.to("cuda:0")` -> `.to("cpu")`; the lambda's `.half()` is dropped (the reference stores the
  sampled lambda in fp16; the fixture keeps lam exact so a float32/float64 port can match it).
- loss.py `lunif`: `x.float()` -> `x` so it runs in float64 like everything else (the unpatched float32
  value is computed too and must agree to 1e-5).
The whole computation runs with torch's default dtype set to float64 (main.py's `torch.ones([])` /
`torch.eye` / `torch.Tensor` then follow), from the float32 inputs stored in the fixture. An independent
plain-torch evaluation of the formulas above is asserted to agree to 1e-10.

Run from the repo root: python3 tools/golden/geomix.py  (writes
crates/mixlab-burn/tests/fixtures/geomix.json). Needs numpy, torch, git and the mirror.
"""
import argparse
import ast
import json
import os
import subprocess
import textwrap
import types

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "crates", "mixlab-burn", "tests", "fixtures", "geomix.json")


def git_show(git_dir, path):
    return subprocess.run(["git", "-C", git_dir, "show", f"HEAD:{path}"], check=True,
                          capture_output=True, text=True).stdout


def func_source(src, name):
    for node in ast.parse(src).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(src, node)
    raise SystemExit(f"reference function {name} not found")


def readme_sph_inter(readme):
    block = readme.split("```python", 1)[1].split("```", 1)[0]
    return func_source(block, "sph_inter")


def train_step_source(main_src):
    """The per-batch statements of do_train that make the CLIP term and the mmmix term."""
    tree = ast.parse(main_src)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "do_train")
    loop = next(n for n in fn.body if isinstance(n, ast.For))
    seg = lambda n: ast.get_source_segment(main_src, n)
    wanted = ("logits_per_image =", "logits_per_text ", "targets_orig ", "loss ", "loss +=",
              "I ", "I_R ", "I_D ", "loss_mix =")
    parts, mmmix = [], None
    for st in loop.body:
        s = seg(st)
        if s.startswith(wanted):
            parts.append(s)
        if isinstance(st, ast.If) and "epoch > -1" in seg(st.test):
            for inner in st.body:
                if isinstance(inner, ast.If) and seg(inner.test).strip() == "args.mmmix":
                    mmmix = inner
    if mmmix is None or len(parts) != len(wanted):
        raise SystemExit(f"main.py layout changed: got {len(parts)} statements, mmmix={mmmix}")
    parts.append(textwrap.dedent(seg(mmmix)))
    return "\n".join(parts)


def load_reference(git_dir):
    if not os.path.isdir(git_dir):
        raise SystemExit(f"reference mirror missing: {git_dir}")
    loss_src = git_show(git_dir, "loss.py")
    main_src = git_show(git_dir, "main.py")
    readme = git_show(git_dir, "README.md")

    loss_ns = {}
    exec(compile(loss_src, "multimodal-mixup/loss.py", "exec"), loss_ns)
    lunif_src = func_source(loss_src, "lunif")
    assert "x.float()" in lunif_src
    lunif64_ns = dict(torch=torch)
    exec(compile(lunif_src.replace("x.float()", "x"), "loss.py:lunif(float64)", "exec"), lunif64_ns)

    main_sph_ns, readme_sph_ns = dict(torch=torch), dict(torch=torch)
    exec(compile(func_source(main_src, "sph_inter"), "main.py:sph_inter", "exec"), main_sph_ns)
    exec(compile(readme_sph_inter(readme), "README.md:sph_inter", "exec"), readme_sph_ns)

    step = train_step_source(main_src)
    assert '.to("cuda:0").half()' in step
    step = step.replace('.to("cuda:0")', '.to("cpu")').replace(".half()", "")
    assert "cuda" not in step and ".half" not in step
    return dict(
        clip_loss=loss_ns["clip_loss"], clip_loss2=loss_ns["clip_loss2"],
        lalign=loss_ns["lalign"], lunif32=loss_ns["lunif"], lunif=lunif64_ns["lunif"],
        sph_inter=main_sph_ns["sph_inter"], sph_inter_readme=readme_sph_ns["sph_inter"],
        step=compile(step, "main.py:do_train(step, mmmix branch)", "exec"),
    )


def run_step(ref, a, b, lam, tau, tau2):
    args = types.SimpleNamespace(tau=tau, tau2=tau2, divt=1.0, sep_scale=True, mmmix=1.0, beta2=0.5)
    fake_random = types.SimpleNamespace(betavariate=lambda _a, _b: lam)
    ns = dict(torch=torch, args=args, random=fake_random, device="cpu",
              image_features=a, text_features=b, captions=[None] * a.shape[0],
              clip_loss=ref["clip_loss"], clip_loss2=ref["clip_loss2"], sph_inter=ref["sph_inter"],
              temperature1=torch.ones([]) / args.tau, temperature2=torch.ones([]) / args.tau2)
    exec(ref["step"], ns)
    return float(ns["loss"]), float(ns["loss_mix"])


def independent(a, b, lam, tau, tau2):
    """Plain re-evaluation of the formulas (cross-check only; the fixture stores the reference's)."""
    n = a.shape[0]
    eye = torch.eye(n, dtype=torch.float64)
    ce = lambda lg: -(torch.log_softmax(lg, dim=1) * eye).sum(1).mean()
    clip = 0.5 * (ce(a @ b.T / tau) + ce(b @ a.T / tau))
    th = torch.acos((a * b).sum(1, keepdim=True))
    mix = (torch.sin(lam * th) * a + torch.sin((1 - lam) * th) * b) / torch.sin(th)
    li = ((a @ b.T) * eye + (a @ mix.T) * (1 - eye)) / tau2
    lt = ((b @ a.T) * eye + (b @ mix.T) * (1 - eye)) / tau2
    align = ((a - b) ** 2).sum(1).mean()
    iu = torch.triu_indices(n, n, 1)
    sq = ((a[:, None] - a[None]) ** 2).sum(-1)[iu[0], iu[1]]
    unif = torch.log(torch.exp(-2 * sq).mean())
    return float(clip), float(ce(li) + ce(lt)), mix, float(align), float(unif)


def unit_rows(x):
    x = np.asarray(x, dtype=np.float64)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make_inputs(seed, bsz, dim, pair_noise, parallel_row):
    rng = np.random.default_rng(seed)
    a = unit_rows(rng.standard_normal((bsz, dim)))
    b = unit_rows(a + pair_noise * rng.standard_normal((bsz, dim)))
    if parallel_row is not None:
        # b_r = cos(t) a_r + sin(t) u with u a unit vector orthogonal to a_r and cos(t) = 0.999.
        ar = a[parallel_row].astype(np.float64)
        u = rng.standard_normal(dim)
        u -= (u @ ar) / (ar @ ar) * ar
        u /= np.linalg.norm(u)
        t = np.arccos(0.999)
        b[parallel_row] = unit_rows([np.cos(t) * ar + np.sin(t) * u])[0]
    return a, b


# seed, B, D, lam, tau, tau2, pair noise (b = normalise(a + noise * N(0,1))), nearly-parallel row
CASES = [
    (0, 4, 3, 0.5, 0.01, 0.07, 0.8, None),     # paper temperatures, lam = 1/2
    (1, 10, 4, 0.3, 0.01, 0.07, 0.5, None),    # paper temperatures, largest batch
    (2, 6, 5, 0.02, 0.07, 0.07, 1.0, None),    # lam near 0: mix ~ b
    (3, 8, 8, 0.97, 0.5, 0.5, 0.6, None),      # lam near 1: mix ~ a
    (4, 5, 6, 0.7, 0.07, 0.5, 0.7, 2),         # row 2: cos(a_2, b_2) = 0.999
    (8, 3, 2, 0.5, 0.5, 0.01, 0.9, None),      # D = 2, tau2 < tau
    (6, 7, 7, 0.8125, 0.01, 0.5, 2.0, None),   # weakly paired rows
    (7, 9, 3, 0.15, 0.07, 0.01, 0.5, 0),       # row 0 nearly parallel, sharp tau2
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-git", default="/work/.mirror/changdaeoh+multimodal-mixup/repo")
    ap.add_argument("--out", default=OUT)
    opt = ap.parse_args()
    ref = load_reference(opt.ref_git)
    torch.set_default_dtype(torch.float64)

    cases = []
    for seed, bsz, dim, lam, tau, tau2, noise, prow in CASES:
        a32, b32 = make_inputs(seed, bsz, dim, noise, prow)
        a, b = torch.from_numpy(a32).double(), torch.from_numpy(b32).double()
        cos = (a * b).sum(1)
        sin_min = float(torch.sqrt(1 - cos**2).min())
        assert sin_min > 0.04, (seed, sin_min)  # sph_inter divides by sin(theta)

        clip, m2mix = run_step(ref, a, b, lam, tau, tau2)
        slerp = ref["sph_inter"](a, b, lam)
        assert torch.equal(slerp, ref["sph_inter_readme"](a, b, lam))
        align = float(ref["lalign"](a, b))
        unif = float(ref["lunif"](a))
        unif32 = float(ref["lunif32"](a))
        assert abs(unif - unif32) <= 1e-5 * max(1.0, abs(unif)), (unif, unif32)
        assert abs(clip - float(ref["clip_loss"](a @ b.T / tau, torch.eye(bsz)))) <= 1e-12 * max(1, clip)

        i_clip, i_m2, i_mix, i_align, i_unif = independent(a, b, lam, tau, tau2)
        for got, want in ((clip, i_clip), (m2mix, i_m2), (align, i_align), (unif, i_unif)):
            assert abs(got - want) <= 1e-10 * max(1.0, abs(want)), (seed, got, want)
        assert torch.allclose(slerp, i_mix, rtol=0, atol=1e-12)

        cases.append({
            "a": a32.astype(np.float64).tolist(), "b": b32.astype(np.float64).tolist(),
            "lam": lam, "tau": tau, "tau2": tau2,
            "clip": clip, "m2mix": m2mix, "slerp": slerp.tolist(), "align": align, "unif_a": unif,
        })
        print(f"seed={seed} B={bsz} D={dim} lam={lam} tau={tau} tau2={tau2} "
              f"min_cos={float(cos.min()):.4f} max_cos={float(cos.max()):.4f} "
              f"clip={clip:.10g} m2mix={m2mix:.10g} align={align:.10g} unif_a={unif:.10g}")

    os.makedirs(os.path.dirname(opt.out), exist_ok=True)
    with open(opt.out, "w") as f:
        json.dump({"source": "tools/golden/geomix.py", "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(opt.out, ROOT)}")


if __name__ == "__main__":
    main()
