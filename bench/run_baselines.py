#!/usr/bin/env python3
"""Run every baseline of bench/README.md, one process at a time, appending one
JSON line per run to bench/results/baselines.jsonl.

    python bench/run_baselines.py [--data /tmp/flows_bench_data] [--only SUBSTR] [--dry-run]

Data CSVs are regenerated deterministically into --data (not kept in the
repository). Runs already present in the results file (same "id") are
skipped, so the script can be stopped and restarted. Each line is
{"id", "dataset", "method", "seed", "cmd", "result", "finished"}; "cmd" is
the exact command (run from the repository root, with OMP_NUM_THREADS=1).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results", "baselines.jsonl")
SEEDS = [0, 1, 2]
TEST_SEED_OFFSET = 1000  # test points of toy set with train seed s use seed 1000 + s

# dataset: (train size, test size, flows, max steps)
TOY = {
    "moons": (3000, 20000, ["nsf", "maf", "realnvp"], 5000),
    "checkerboard": (20000, 20000, ["nsf", "maf"], 10000),
    "sine": (3000, 20000, ["nsf"], 5000),
}
# Tabular runs overfit within a few epochs (wine: 126 fit rows, full batch, so
# one step is one epoch; best step ~50), so they are evaluated every 10 steps
# with a patience of 50 evaluations (500 steps) instead of 50 x 20.
TABULAR_FLAGS = "--eval-every 10 --patience 50"
TABULAR = {
    # name: (subfolder of the split, flows, max steps, max seconds)
    "wine": ("", ["nsf", "maf"], 5000, 300),
    "digits": ("dropped", ["nsf", "maf"], 5000, 240),
    "digits_dequantized": ("dequantized", ["nsf", "maf"], 5000, 240),
}


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, cwd=ROOT)


def plan(data):
    """(id, dataset, method, seed, command, prepare-commands) in run order."""
    runs = []
    for name, (n_tr, n_te, flows, steps) in TOY.items():
        for s in SEEDS:
            tr, te = f"{data}/{name}_train_s{s}.csv", f"{data}/{name}_test_s{s}.csv"
            prep = [f"python bench/data.py {name} {n_tr} {s} {tr}",
                    f"python bench/data.py {name} {n_te} {TEST_SEED_OFFSET + s} {te}"]
            runs.append((f"{name}/kde/{s}", name, "kde+gaussian", s,
                         f"python bench/kde.py {tr} {te} --seed {s}", prep))
            for f in flows:
                runs.append((f"{name}/zuko-{f}/{s}", name, f"zuko-{f}", s,
                             f"python bench/zuko_fit.py {tr} {te} --flow {f} --steps {steps} --seed {s}",
                             prep))
    for name, (sub, flows, steps, secs) in TABULAR.items():
        base = name.split("_")[0]
        for s in SEEDS:
            d = f"{data}/{base}_s{s}"
            dd = f"{d}/{sub}" if sub else d
            prep = [f"python bench/data.py {base} {s} {d}"]
            runs.append((f"{name}/kde/{s}", name, "kde+gaussian", s,
                         f"python bench/kde.py {dd}/train.csv {dd}/test.csv --seed {s}", prep))
            for f in flows:
                runs.append((f"{name}/zuko-{f}/{s}", name, f"zuko-{f}", s,
                             f"python bench/zuko_fit.py {dd}/train.csv {dd}/test.csv --flow {f} "
                             f"--steps {steps} --max-seconds {secs} {TABULAR_FLAGS} --seed {s}", prep))
    for t in (1, 2):
        runs.append((f"torch_reference/threads{t}", "moons", "torch-reference", 0,
                     f"python bench/torch_reference.py --threads {t} --precision f32 --epochs 30 --repeats 5",
                     []))
    runs.append(("torch_reference/infer1", "moons", "torch-reference-infer", 0,
                 "python bench/torch_reference.py --threads 1 --precision f32 --infer 1000000", []))
    return runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/flows_bench_data")
    ap.add_argument("--only", default="")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.data, exist_ok=True)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    done = set()
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            done = {json.loads(line)["id"] for line in f if line.strip()}
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    prepared = set()
    for rid, dataset, method, seed, cmd, prep in plan(a.data):
        if a.only not in rid or rid in done:
            continue
        print(f"[{datetime.datetime.now():%H:%M:%S}] {rid}: {cmd}", flush=True)
        if a.dry_run:
            continue
        for p in prep:
            if p not in prepared:
                sh(p + " > /dev/null")
                prepared.add(p)
        threads = cmd.split("--threads ")[1].split()[0] if "--threads" in cmd else "1"
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = threads
        out = subprocess.run(cmd, shell=True, cwd=ROOT, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            continue
        result = json.loads(out.stdout.strip().splitlines()[-1])
        line = {"id": rid, "dataset": dataset, "method": method, "seed": seed,
                "cmd": f"OMP_NUM_THREADS={threads} {cmd}", "prepare": prep, "result": result,
                "finished": datetime.datetime.now().isoformat(timespec="seconds")}
        with open(RESULTS, "a") as f:
            f.write(json.dumps(line) + "\n")
        print("   ", json.dumps(result)[:200], flush=True)


if __name__ == "__main__":
    main()
