"""Golden fixture for mixlab's Student-t quantile and paired interval (crates/mixlab-core/src/stats.rs).

Quantiles from scipy.stats.t.ppf; the paired case from scipy.stats.ttest_rel's confidence_interval
(the interval of mean(a - b) at 95 %). Run from the repo root:
  python3 tools/golden/t_quantile.py  (writes crates/mixlab-core/tests/fixtures/t_quantile_golden.json)
"""
import json
import os

import numpy as np
import scipy
from scipy import stats

cases = []
for df in [1, 2, 3, 4, 5, 6, 7, 9, 14, 19, 29, 49, 99, 0.5, 2.5, 1000]:
    for p in [0.975, 0.95, 0.995, 0.9, 0.6, 0.025]:
        cases.append({"p": p, "df": df, "q": float(stats.t.ppf(p, df))})

# Five seeds: the seed offsets (shared by both methods) are larger than the gap between them.
offsets = np.array([0.02, -0.03, 0.05, -0.01, 0.00])
a = 0.85 + offsets + np.array([0.011, 0.009, 0.013, 0.010, 0.012])
b = 0.85 + offsets
res = stats.ttest_rel(a, b)
ci = res.confidence_interval(0.95)
paired = {"a": a.tolist(), "b": b.tolist(), "mean": float(np.mean(a - b)), "lo": float(ci.low), "hi": float(ci.high)}

out = os.path.join("crates", "mixlab-core", "tests", "fixtures", "t_quantile_golden.json")
with open(out, "w") as f:
    json.dump({"scipy": scipy.__version__, "cases": cases, "paired": paired}, f, indent=1)
print("wrote", out, len(cases), "quantiles")
