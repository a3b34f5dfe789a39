#!/usr/bin/env python3
"""Where a sine model's gap to the true density goes: the marginal of the
uniform x2, or the conditional x1 | x2 (docs/REPORT.md §6).

Run from the repository root after `cargo run --release -p cli -- report
--data sine` (which leaves runs/report/sine-seedS/model.json):

    python bench/sine_gap.py                       # every runs/report/sine-seed*/
    python bench/sine_gap.py --runs DIR --points 20000 --seed 777

For each model it scores fresh points with `cli eval --per-point` (the gap:
model NLL minus the true density's NLL of the same points), and integrates
the model's density over x1 on a grid at each x2 to get its marginal p(x2)
(the marginal's share of the gap: E[ln(1/6) − ln p(x2)] over the fresh
points; the conditional's is the rest), the mass it puts outside
−3 ≤ x2 < 3, and the conditional mean and standard deviation along the
curve. It also prints the same marginal share for a Gaussian KDE of x2
alone (5-fold cross-validated bandwidth, 3000 uniform draws), the
general-purpose baseline for that half.
"""
import argparse
import glob
import os
import subprocess
import tempfile

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
HALF_RANGE, NOISE = 3.0, 0.1
X1_STEP = 0.005


def true_nll(x1, x2):
    r = (x1 - np.sin(x2)) / NOISE
    return np.log(2 * HALF_RANGE) + 0.5 * np.log(2 * np.pi * NOISE**2) + 0.5 * r * r


def model_nll(cli, model, points, folder, name):
    data, out = os.path.join(folder, name + ".csv"), os.path.join(folder, name + "_nll.csv")
    np.savetxt(data, points, delimiter=",", header="x1,x2", comments="", fmt="%.17g")
    subprocess.run([cli, "eval", "--model", model, "--data", data, "--per-point", out],
                   check=True, stdout=subprocess.DEVNULL)
    return np.loadtxt(out, skiprows=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", default=os.path.join(ROOT, "runs", "report"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "target", "release", "cli"))
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=777)
    args = ap.parse_args()
    models = sorted(glob.glob(os.path.join(args.runs, "sine-seed*", "model.json")))
    if not models:
        raise SystemExit(f"no sine-seed*/model.json under {args.runs}: run `cli report --data sine` first")

    rng = np.random.default_rng(args.seed)
    x2 = rng.uniform(-HALF_RANGE, HALF_RANGE, args.points)
    x1 = np.sin(x2) + NOISE * rng.standard_normal(args.points)
    fresh = np.c_[x1, x2]
    truth = true_nll(x1, x2)
    grid_x2 = np.linspace(-3.2, 3.2, 161)
    grid_x1 = np.arange(-2.0, 2.0, X1_STEP)
    g1, g2 = np.meshgrid(grid_x1, grid_x2)
    grid = np.c_[g1.ravel(), g2.ravel()]
    inside = (grid_x2 >= -HALF_RANGE) & (grid_x2 < HALF_RANGE)
    curve = np.abs(grid_x2) < HALF_RANGE - 0.1

    print(f"{args.points} fresh points (seed {args.seed}); true density's NLL {truth.mean():.4f}")
    print("model | gap | marginal share | conditional share | mass outside | cond. mean rms error | cond. sd range")
    with tempfile.TemporaryDirectory() as folder:
        for model in models:
            gap = (model_nll(args.cli, model, fresh, folder, "fresh") - truth).mean()
            p = np.exp(-model_nll(args.cli, model, grid, folder, "grid")).reshape(g1.shape)
            marginal = p.sum(axis=1) * X1_STEP
            mean = (p * grid_x1).sum(axis=1) / p.sum(axis=1)
            sd = np.sqrt((p * grid_x1**2).sum(axis=1) / p.sum(axis=1) - mean**2)
            share = np.mean(np.log(1 / (2 * HALF_RANGE)) - np.log(np.interp(x2, grid_x2, marginal)))
            outside = 1 - np.trapezoid(marginal[inside], grid_x2[inside])
            rms = np.sqrt(np.mean((mean[curve] - np.sin(grid_x2[curve])) ** 2))
            print(f"{os.path.basename(os.path.dirname(model))} | {gap:.4f} | {share:.4f} | {gap - share:.4f} | "
                  f"{100 * outside:.1f} % | {rms:.4f} | {sd[curve].min():.3f}–{sd[curve].max():.3f}")

    for draw in range(3):
        train = rng.uniform(-HALF_RANGE, HALF_RANGE, (3000, 1))
        search = GridSearchCV(KernelDensity(), {"bandwidth": np.geomspace(0.01, 1, 30)}, cv=5).fit(train)
        kde = search.best_estimator_
        share = np.mean(np.log(1 / (2 * HALF_RANGE)) - kde.score_samples(x2[:, None]))
        print(f"KDE of x2 alone, draw {draw}: bandwidth {kde.bandwidth:.3f}, marginal share {share:.4f}")


if __name__ == "__main__":
    main()
