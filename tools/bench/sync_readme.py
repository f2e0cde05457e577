#!/usr/bin/env python3
"""Copy a committed run's tables (its `results.md`, written by `mixlab report`) into README.md.

README.md holds, under the headline of each committed run, one `### <experiment>` section per experiment whose
table block (from the metadata line down to the "acc in %" line) is the run's own `## <experiment>` block, and
whose `Plots:` line names the run folder. The prose after the Plots line is written by hand and left alone.
A README section with no counterpart in results.md is an error; an experiment in results.md with no README
section is listed (add its `### name` heading and `Plots:` line by hand, then run this again).

    python3 tools/bench/sync_readme.py bench/runs/2026-12-03-2core-converged          # rewrite README.md
    python3 tools/bench/sync_readme.py bench/runs/2026-12-03-2core-converged --check  # exit 1 if out of date
"""

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def blocks(lines, heading):
    """Map experiment name -> (start, end) line range of its table block under `heading` headings.

    The block runs from the first line after the heading to the line before `Plots:`."""
    found = {}
    i = 0
    while i < len(lines):
        if lines[i].startswith(heading):
            name = lines[i][len(heading):].strip()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("Plots:") and not lines[j].startswith("#"):
                j += 1
            if j < len(lines) and lines[j].startswith("Plots:"):
                found[name] = (i + 1, j)
            i = j
        else:
            i += 1
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=pathlib.Path, help="run folder holding results.md")
    ap.add_argument("--readme", type=pathlib.Path, default=ROOT / "README.md")
    ap.add_argument("--check", action="store_true", help="only report whether README.md is up to date")
    args = ap.parse_args()

    results = (args.run / "results.md").read_text().splitlines()
    readme = args.readme.read_text().splitlines()
    run_rel = args.run.resolve().relative_to(ROOT).as_posix()
    src = blocks(results, "## ")
    # Only the README sections whose Plots line points into this run belong to it.
    dst = {
        name: span
        for name, span in blocks(readme, "### ").items()
        if readme[span[1]].startswith(f"Plots: `{run_rel}/plots/")
    }
    missing = sorted(set(dst) - set(src))
    if missing:
        sys.exit(f"README sections with no table in {args.run}/results.md: {', '.join(missing)}")
    out = list(readme)
    # Replace from the bottom up so earlier spans keep their line numbers.
    for name, (a, b) in sorted(dst.items(), key=lambda kv: -kv[1][0]):
        sa, sb = src[name]
        out[a:b] = results[sa:sb]
    unplaced = sorted(set(src) - set(dst))
    if unplaced:
        print(f"not in README (add `### name` and its Plots line to place them): {', '.join(unplaced)}")
    if out == readme:
        print(f"README.md is up to date with {run_rel}/results.md ({len(dst)} sections)")
        return
    if args.check:
        sys.exit(f"README.md differs from {run_rel}/results.md; run without --check to update it")
    args.readme.write_text("\n".join(out) + "\n")
    print(f"README.md: {len(dst)} sections rewritten from {run_rel}/results.md")


if __name__ == "__main__":
    main()
