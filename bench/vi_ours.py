#!/usr/bin/env python3
"""This project's `cli vi` on the energies U1-U4, for the table against
normflows (bench/normflows_vi.py) in the README.

Run from the repository root (builds the cli in release first):

    python bench/vi_ours.py                          # U1-U4 x seeds 0,1,2, `cli vi` defaults
    python bench/vi_ours.py --targets u2 --seeds 0   # one run
    python bench/vi_ours.py --summarize              # median table of the runs in --out
    python bench/vi_ours.py -- --steps 10000 --samples 1024   # extra flags for `cli vi`

Per (target, seed) it runs `cli vi --target T --seed S --no-plots` with the
flags after `--` (none: the defaults), reads the checkpoint's `variational`
block (KL, its standard error, ELBO, IS log Z, ESS on 100,000 fresh samples)
and `training.seconds` (the training loop's wall time, as normflows_vi.py's
train_seconds), and appends one JSON line per run to --out. The process's
CPU time is recorded too (train_cpu_seconds, over the whole run including
the final evaluation and quadrature, so an upper bound on training's).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def run_one(binary, target, seed, extra):
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [binary, "vi", "--target", target, "--seed", str(seed), "--no-plots", "--out", out]
            + extra,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(os.path.join(out, "model.json")) as f:
            ckpt = json.load(f)
    v = ckpt["variational"]
    return {
        "tool": "flows (this project)",
        "target": target,
        "seed": seed,
        "flow": ckpt["config"]["kind"],
        "layers": ckpt["config"]["layers"],
        "iters": ckpt["training"]["steps"],
        "samples": ckpt["training"]["batch"],
        "lr": ckpt["training"]["lr"],
        "extra_flags": " ".join(extra),
        "train_seconds": ckpt["training"]["seconds"],
        "run_seconds": wall,
        "train_cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "load_avg_1min": os.getloadavg()[0],
        "log_z": v["log_z"],
        "kl": v["kl"],
        "kl_se": v["elbo_se"],
        "elbo": v["elbo"],
        "is_log_z": v["log_z_is"],
        "ess": v["ess_fraction"],
    }


def summarize(rows):
    keys = []
    for r in rows:
        k = (r["target"], r["layers"], r["iters"], r["samples"], r["extra_flags"])
        if k not in keys:
            keys.append(k)
    print(f"{'target':6s} {'K':>3s} {'iters':>6s} {'batch':>5s} {'seeds':>5s} {'KL':>7s} "
          f"{'ESS':>5s} {'train s':>7s}  KL per seed   flags")
    for k in keys:
        rs = [r for r in rows if (r["target"], r["layers"], r["iters"], r["samples"], r["extra_flags"]) == k]
        med = lambda f: statistics.median(r[f] for r in rs)  # noqa: E731
        per = " ".join(f"{r['seed']}:{r['kl']:.4f}" for r in rs)
        print(f"{k[0]:6s} {k[1]:3d} {k[2]:6d} {k[3]:5d} {len(rs):5d} {med('kl'):7.4f} "
              f"{med('ess'):5.3f} {med('train_seconds'):7.1f}  {per}   {k[4]}")


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[: argv.index("--")]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", default="u1,u2,u3,u4")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "vi_ours.jsonl"))
    p.add_argument("--summarize", action="store_true")
    args = p.parse_args(argv)
    if args.summarize:
        with open(args.out) as f:
            summarize([json.loads(line) for line in f if line.strip()])
        return
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cli"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "cli")
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for target in args.targets.split(","):
            row = run_one(binary, target, seed, extra)
            print(json.dumps(row), flush=True)
            rows.append(row)
            if args.out != "-":
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    summarize(rows)


if __name__ == "__main__":
    main()
