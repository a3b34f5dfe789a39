#!/usr/bin/env python3
"""Print the markdown table of bench/results/baselines.jsonl: test NLL
(nats/point, raw coordinates), median over seeds, with min-max and n seeds.

    python bench/summarize.py [bench/results/baselines.jsonl]
"""
import collections
import json
import os
import sys

import numpy as np

PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results", "baselines.jsonl")
ENTROPY = {"moons": 0.2892, "checkerboard": float(np.log(32)), "sine": 0.9081}
ORDER = ["moons", "checkerboard", "sine", "wine", "digits", "digits_dequantized"]
METHODS = ["gaussian", "kde", "zuko-nsf", "zuko-maf", "zuko-realnvp"]

rows = [json.loads(l) for l in open(PATH) if l.strip()]
nll = collections.defaultdict(list)
secs = collections.defaultdict(list)
extra = collections.defaultdict(list)
ref = []
for r in rows:
    res, ds = r["result"], r["dataset"]
    if r["method"] == "kde+gaussian":
        nll[ds, "kde"].append(res["kde_nll"])
        nll[ds, "gaussian"].append(res["gaussian_nll"])
        secs[ds, "kde"].append(res["seconds"])
        extra[ds, "kde"].append(f'h={res["bandwidth"]:.3g}')
    elif r["method"].startswith("zuko"):
        nll[ds, r["method"]].append(res["test_nll"])
        secs[ds, r["method"]].append(res["train_seconds"])
        extra[ds, r["method"]].append(f'{res["best_step"]}/{res["steps"]} {res["stopped"]}')
    else:
        ref.append(r)


def cell(v):
    if not v:
        return "–"
    v = np.array(v)
    if len(v) == 1:
        return f"{v[0]:.3f}"
    return f"{np.median(v):.3f} ({v.min():.3f}–{v.max():.3f})"


print("| data | true entropy | " + " | ".join(METHODS) + " |")
print("|---|---|" + "---|" * len(METHODS))
for ds in ORDER:
    if not any((ds, m) in nll for m in METHODS):
        continue
    h = f"{ENTROPY[ds]:.4f}" if ds in ENTROPY else "–"
    print(f"| {ds} | {h} | " + " | ".join(cell(nll[ds, m]) for m in METHODS) + " |")

print("\nMedian training seconds (1 thread) and best step / steps run, stop reason per seed:\n")
print("| data | method | median s | best/steps, stop |")
print("|---|---|---|---|")
for ds in ORDER:
    for m in METHODS[1:]:
        if (ds, m) in secs:
            print(f"| {ds} | {m} | {np.median(secs[ds, m]):.1f} | {'; '.join(extra[ds, m])} |")

if ref:
    print("\ntorch_reference.py:\n")
    for r in ref:
        print(f"- `{r['cmd']}` → {json.dumps(r['result'])}")
