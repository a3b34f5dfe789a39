#!/usr/bin/env python3
"""This project's `cli train` defaults on the small tables, for the README's
table against a Gaussian, a cross-validated KDE and zuko.

Run from the repository root after `cargo build --release -p cli`:

    python bench/tables_ours.py                      # all five tables x splits 0, 1, 2
    python bench/tables_ours.py --tables wine --seeds 0
    python bench/tables_ours.py --summarize          # the median table of --out, with the baselines
    python bench/tables_ours.py -- --input-noise 0.2 # extra flags for `cli train`

Per (table, split) it writes the split with `bench/data.py NAME SEED DIR`
(digits: the `dequantized` variant), runs `cli train --data train.csv
--no-plots` with the flags after `--`, scores the kept model with
`cli eval --json` on the test rows (nats per row in the CSV's own
coordinates) and appends one JSON line to --out. --summarize puts the
median next to the Gaussian, KDE and zuko rows of results/baselines.jsonl
for the same splits.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
TABLES = ["wine", "digits", "iris", "cancer", "diabetes"]
# The baselines file names the dequantized digits split `digits_dequantized`.
BASELINE_NAME = {"digits": "digits_dequantized"}


def split_files(table, seed, folder):
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "data.py"), table, str(seed), folder],
                   check=True, stdout=subprocess.DEVNULL)
    if table == "digits":
        folder = os.path.join(folder, "dequantized")
    return os.path.join(folder, "train.csv"), os.path.join(folder, "test.csv")


def run_one(binary, table, seed, extra):
    with tempfile.TemporaryDirectory() as tmp:
        train, test = split_files(table, seed, os.path.join(tmp, "data"))
        out = os.path.join(tmp, "run")
        subprocess.run([binary, "train", "--data", train, "--no-plots", "--out", out] + extra,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        scored = subprocess.run([binary, "eval", "--model", os.path.join(out, "model.json"),
                                 "--data", test, "--json"],
                                check=True, capture_output=True, text=True)
        with open(os.path.join(out, "model.json")) as f:
            ckpt = json.load(f)
    t = ckpt["training"]
    return {
        "table": table,
        "seed": seed,
        "extra_flags": " ".join(extra),
        "test_nll": json.loads(scored.stdout)["nll"],
        "input_noise": t.get("input_noise"),
        "best_step": ckpt["result"]["best_step"],
        "train_seconds": t["seconds"],
    }


def baselines():
    """{(table, method): {seed: test NLL}} from results/baselines.jsonl."""
    found = {}
    path = os.path.join(ROOT, "bench", "results", "baselines.jsonl")
    if not os.path.exists(path):
        return found
    for line in open(path):
        r = json.loads(line)
        res = r["result"]
        if r["method"] == "kde+gaussian":
            found.setdefault((r["dataset"], "gaussian"), {})[r["seed"]] = res["gaussian_nll"]
            found.setdefault((r["dataset"], "kde"), {})[r["seed"]] = res["kde_nll"]
        elif "test_nll" in res:
            found.setdefault((r["dataset"], r["method"]), {})[r["seed"]] = res["test_nll"]
    return found


def cell(by_seed, seeds):
    values = [by_seed[s] for s in seeds if s in by_seed]
    if len(values) != len(seeds):
        return ""
    return f"{statistics.median(values):.2f} ({', '.join(f'{v:.2f}' for v in values)})"


def summarize(rows):
    base = baselines()
    groups = {}
    for r in rows:
        groups.setdefault((r["table"], r["extra_flags"]), {})[r["seed"]] = r
    methods = ["gaussian", "kde", "zuko-nsf", "zuko-maf"]
    print("| table | flags | this project | " + " | ".join(methods) + " | noise chosen | seconds |")
    print("|---|---|---|" + "---|" * len(methods) + "---|---|")
    for (table, flags), by_seed in groups.items():
        seeds = sorted(by_seed)
        ours = cell({s: by_seed[s]["test_nll"] for s in seeds}, seeds)
        name = BASELINE_NAME.get(table, table)
        others = [cell(base.get((name, m), {}), seeds) for m in methods]
        noise = ", ".join(str(by_seed[s]["input_noise"]) for s in seeds)
        secs = statistics.median(by_seed[s]["train_seconds"] for s in seeds)
        print(f"| {table} | {flags} | {ours} | " + " | ".join(others) + f" | {noise} | {secs:.1f} |")


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", default=",".join(TABLES))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cli"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "tables_ours.jsonl"))
    p.add_argument("--summarize", action="store_true")
    args = p.parse_args(argv)
    if not args.summarize:
        for table in args.tables.split(","):
            for seed in map(int, args.seeds.split(",")):
                row = run_one(args.binary, table, seed, extra)
                print(json.dumps(row), flush=True)
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    summarize([json.loads(line) for line in open(args.out)])


if __name__ == "__main__":
    main()
