"""Golden fixture for M3CoL's contrastive terms and CM3's calibrated uniformity with spherical fusion.

Every number comes from the reference code itself, read at run time from the git mirrors with
`git show <commit>:<file>` and executed in a scratch namespace; nothing of it is copied into the project:
- M3CoL (RaghavSinghal10/M3CoL @ 818abdb9, model/utils.py): `mixco_nce(mix, fix, temp=0.1, perm, betas)`
  on embeddings mixed as `mixco_image` does (its random permutation, betas and selection replaced by
  fixed ones: unselected samples get beta = 1, as the reference sets), and `soft_clip_loss(preds, targs)`
  at its default temperature 0.125.
- CM3 (enoche/CM3 @ 4099f73e, src/models/cm3.py): the fusion statements of `CM3.forward` (from
  `v0, v1, eps = ...` to `mix_f = ...`, with the Beta draw `mix_p` replaced by fixed values),
  `CM3.get_sim_mat(mix_f, min_v, max_v)` indexed by `torch.combinations` as `calculate_loss` does, and the
  static `alignment`, `uniformity` and `uniformity_i`; the loss `align + gamma * (unif + unif_i) / 2`.

The reference's `mixco_nce` overwrites the diagonal target with 1 - beta where the permutation leaves a
sample in place; the fixture holds one such case twice: the reference's value and an independent
evaluation with the two targets added (what mixlab computes). The other cases use a permutation
without fixed points, where both agree.

Run from the repo root: python3 tools/golden/m3col_cm3.py (writes
crates/mixlab-burn/tests/fixtures/m3col_cm3.json). Needs numpy, torch, git and the mirrors
(/work/.mirror/RaghavSinghal10+M3CoL/repo, /work/.mirror/enoche+CM3/repo; --m3col-git, --cm3-git).
"""
import argparse
import ast
import json
import os
import subprocess
import textwrap

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "crates", "mixlab-burn", "tests", "fixtures", "m3col_cm3.json")
M3COL_AT = "818abdb9"
CM3_AT = "4099f73e"


def git_show(git_dir, commit, path):
    return subprocess.run(["git", "-C", git_dir, "show", f"{commit}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def func_source(nodes, src, name):
    for node in nodes:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return textwrap.dedent(ast.get_source_segment(src, node))
    raise SystemExit(f"reference function {name} not found")


def load(m3col_git, cm3_git):
    utils = git_show(m3col_git, M3COL_AT, "model/utils.py")
    ns = dict(torch=torch, F=F)
    tree = ast.parse(utils)
    for name in ("mixco_nce", "soft_clip_loss"):
        exec(compile(func_source(tree.body, utils, name), f"utils.py:{name}", "exec"), ns)
    cm3 = git_show(cm3_git, CM3_AT, "src/models/cm3.py")
    cls = next(n for n in ast.parse(cm3).body if isinstance(n, ast.ClassDef) and n.name == "CM3")
    for name in ("alignment", "uniformity", "uniformity_i", "get_sim_mat"):
        src = func_source(cls.body, cm3, name)
        exec(compile(src, f"cm3.py:{name}", "exec"), ns)
    fwd = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "forward")
    stmts = [textwrap.dedent(ast.get_source_segment(cm3, s)) for s in fwd.body]
    start = next(i for i, s in enumerate(stmts) if s.startswith("v0, v1, eps ="))
    end = next(i for i, s in enumerate(stmts) if s.startswith("mix_f ="))
    fusion = "\n".join(stmts[start:end + 1])
    assert "mix_p = torch.distributions.beta.Beta" in fusion
    fusion = "\n".join(l for l in fusion.splitlines() if not l.startswith("mix_p ="))
    ns["fusion"] = compile(fusion, "cm3.py:forward(fusion)", "exec")
    return ns


def mixed(x, perm, betas):
    return x * betas[:, None] + x[perm] * (1 - betas[:, None])


def added_targets(perm, betas):
    n = len(perm)
    t = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        t[i, i] += betas[i]
        t[i, perm[i]] += 1 - betas[i]
    return t


def mixco_added(mix, fix, perm, betas, temp=0.1):
    cos = F.normalize(mix, dim=-1) @ F.normalize(fix, dim=-1).T / temp
    t = added_targets(perm, betas)
    l1 = -(cos.log_softmax(-1) * t).sum(-1).mean()
    l2 = -(cos.T.log_softmax(-1) * t.T).sum(-1).mean()
    return float((l1 + l2) / 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m3col-git", default="/work/.mirror/RaghavSinghal10+M3CoL/repo")
    ap.add_argument("--cm3-git", default="/work/.mirror/enoche+CM3/repo")
    args = ap.parse_args()
    ref = load(args.m3col_git, args.cm3_git)
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(11)
    n, d = 6, 5
    a32 = rng.standard_normal((n, d)).astype(np.float32)
    b32 = rng.standard_normal((n, d)).astype(np.float32)
    a, b = torch.tensor(a32, dtype=torch.float64), torch.tensor(b32, dtype=torch.float64)
    betas = torch.tensor([0.9, 1.0, 0.3, 0.6, 1.0, 0.05])
    perm = torch.tensor([3, 0, 5, 1, 2, 4])  # no fixed point
    perm_fixed = torch.tensor([0, 2, 1, 5, 4, 3])  # samples 0 and 4 stay in place
    out = dict(a=" ".join(map(repr, a32.ravel().tolist())), b=" ".join(map(repr, b32.ravel().tolist())),
               n=n, d=d, betas=betas.tolist(), perm=perm.tolist(), perm_fixed=perm_fixed.tolist())
    mix = mixed(a, perm, betas)
    out["mixco"] = float(ref["mixco_nce"](mix.clone(), b.clone(), perm=perm, betas=betas.clone()))
    assert abs(out["mixco"] - mixco_added(mix, b, perm.tolist(), betas.tolist())) < 1e-10
    mixf = mixed(a, perm_fixed, betas)
    out["mixco_fixed_reference"] = float(ref["mixco_nce"](mixf.clone(), b.clone(), perm=perm_fixed,
                                                          betas=betas.clone()))
    out["mixco_fixed_added"] = mixco_added(mixf, b, perm_fixed.tolist(), betas.tolist())
    assert abs(out["mixco_fixed_reference"] - out["mixco_fixed_added"]) > 1e-3
    out["soft_clip"] = float(ref["soft_clip_loss"](a.clone(), b.clone()))

    # CM3: unit embeddings of the two towers, fusion points p per sample.
    an, bn = F.normalize(a, dim=1), F.normalize(b, dim=1)
    p = torch.tensor([0.1, 0.5, 0.9, 0.25, 0.75, 0.5])
    ns = dict(torch=torch, F=F, txt_emb=a.clone(), img_emb=b.clone(), mix_p=p)
    exec(ref["fusion"], ns)
    mix_f = ns["mix_f"]
    out["p"] = p.tolist()
    out["fused"] = mix_f.ravel().tolist()
    gamma = 0.5
    for name, (lo, hi) in dict(cm3=(0.0, 1.0), cm3_clamped=(0.0, 0.8)).items():
        sim_mt = ref["get_sim_mat"](mix_f, min_v=lo, max_v=hi)
        idx = torch.combinations(torch.arange(n))
        sim = sim_mt[idx[:, 0], idx[:, 1]]
        align = ref["alignment"](an, bn)
        unif = ref["uniformity"](an)
        unif_i = ref["uniformity_i"](bn, sim)
        out[name] = dict(min_sim=lo, max_sim=hi, gamma=gamma, align=float(align), unif=float(unif),
                         unif_i=float(unif_i), loss=float(align + gamma * (unif + unif_i) / 2))
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
