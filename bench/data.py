#!/usr/bin/env python3
"""Data generators matching the Rust toy-data recipes (flows/src/data/*.rs) in
distribution, and deterministic train/test splits of sklearn's wine and digits.

Usage
-----
    python bench/data.py moons|checkerboard|sine N SEED OUT.csv
    python bench/data.py wine|digits|iris|cancer|diabetes SEED OUTDIR

Toy sets (2-D, header ``x1,x2``, raw coordinates as the Rust tool draws them):

* ``moons``: ``sklearn.datasets.make_moons(N, noise=0.05, shuffle=True,
  random_state=SEED)``. The Rust ``moons`` is a transcription of this: outer
  moon (cos t, sin t) on ``linspace(0, pi, N//2)``, inner moon
  (1 - cos t, 1 - sin t - 0.5) on ``linspace(0, pi, N - N//2)``, shuffled, plus
  N(0, 0.05^2) noise on every coordinate.
* ``checkerboard``: FFJORD ``lib/toy_data.py``: x1 = 4u - 2,
  x2 = v - 2b + (floor(x1) mod 2), point = 2 (x1, x2), u, v ~ U(0,1),
  b ~ U{0,1}. Uniform on 8 squares of side 2 in [-4,4)^2; entropy ln 32.
* ``sine``: x2 ~ U(-3, 3), x1 = sin(x2) + 0.1 z, z ~ N(0,1); point (x1, x2).
  Entropy ln 6 + 0.5 ln(2 pi e 0.01) ~= 0.908.

The random streams are NumPy's, not Rust's ``StdRng``: the same recipe and
distribution, never the same points.

Tabular sets (header ``x1..xD``, raw feature values):

* ``wine``: ``sklearn.datasets.load_wine`` (178 x 13). Rows permuted by
  ``numpy.random.RandomState(SEED).permutation(178)``; the first 140 are
  ``train.csv``, the other 38 ``test.csv``. No column is constant.
* ``digits``: ``sklearn.datasets.load_digits`` (1797 x 64, integer pixel values
  0..16). Same permutation rule: 1400 train, 397 test.
  ``OUTDIR/train.csv`` and ``OUTDIR/test.csv`` hold all 64 columns. Several
  pixels are always 0 in the training rows (zero variance), which the Rust tool
  refuses, so ``OUTDIR/dropped/{train,test}.csv`` drop every column that is
  constant in the *training* rows, from both files (the kept 0-based column
  indices are in ``OUTDIR/dropped/columns.json``). This is the variant the
  baselines use. ``OUTDIR/dequantized/{train,test}.csv`` is the dropped variant
  plus U(0,1) noise on every value (the standard dequantization of integer
  data; its NLL is a continuous density of the integer data spread over unit
  cells), for anyone who wants a density that cannot collapse onto the integer
  lattice.
"""
import json
import os
import sys

import numpy as np


def moons(n, seed, noise=0.05):
    from sklearn.datasets import make_moons

    x, _ = make_moons(n_samples=n, noise=noise, shuffle=True, random_state=seed)
    return x


def checkerboard(n, seed):
    rng = np.random.RandomState(seed)
    x1 = rng.rand(n) * 4 - 2
    x2_ = rng.rand(n) - rng.randint(0, 2, n) * 2
    x2 = x2_ + (np.floor(x1) % 2)
    return np.stack([x1, x2], axis=1) * 2


def sine(n, seed):
    rng = np.random.RandomState(seed)
    x2 = rng.uniform(-3.0, 3.0, n)
    x1 = np.sin(x2) + 0.1 * rng.randn(n)
    return np.stack([x1, x2], axis=1)


TOYS = {"moons": moons, "checkerboard": checkerboard, "sine": sine}
# Training rows of each table (the rest is test): wine and digits as in the
# first comparisons, the others 80 %.
TABULAR = {"wine": 140, "digits": 1400, "iris": 120, "cancer": 455, "diabetes": 354}


def load(path):
    """A CSV file with a header line, as an [n, d] array."""
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def standardized(train_path, test_path):
    """Train and test points standardized with the train mean and population
    std, and log_det = sum(log sigma), which converts a standardized-space
    NLL back to the raw coordinates (raw NLL = standardized NLL + log_det)."""
    train, test = load(train_path), load(test_path)
    mu, sigma = train.mean(axis=0), train.std(axis=0)
    if np.any(sigma == 0):
        raise SystemExit(f"{train_path}: columns {np.flatnonzero(sigma == 0).tolist()} are constant")
    log_det = float(np.sum(np.log(sigma)))
    return (train - mu) / sigma, (test - mu) / sigma, log_det


def write_csv(path, x):
    d = x.shape[1]
    header = ",".join(f"x{i + 1}" for i in range(d))
    tmp = path + ".tmp"
    np.savetxt(tmp, x, delimiter=",", header=header, comments="", fmt="%.17g")
    os.replace(tmp, path)


def load_tabular(name):
    from sklearn import datasets

    load = {
        "wine": datasets.load_wine,
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
    }[name]
    return load().data.astype(np.float64)


def split_tabular(name, seed):
    x = load_tabular(name)
    perm = np.random.RandomState(seed).permutation(len(x))
    n_train = TABULAR[name]
    return x[perm[:n_train]], x[perm[n_train:]]


def write_tabular(name, seed, outdir):
    train, test = split_tabular(name, seed)
    os.makedirs(outdir, exist_ok=True)
    write_csv(os.path.join(outdir, "train.csv"), train)
    write_csv(os.path.join(outdir, "test.csv"), test)
    keep = np.flatnonzero(train.std(axis=0) > 0)
    info = {"dataset": name, "seed": seed, "n_train": len(train), "n_test": len(test),
            "dim": train.shape[1], "kept_columns": keep.tolist(),
            "dropped_columns": np.flatnonzero(train.std(axis=0) == 0).tolist()}
    if len(keep) < train.shape[1]:
        d = os.path.join(outdir, "dropped")
        os.makedirs(d, exist_ok=True)
        write_csv(os.path.join(d, "train.csv"), train[:, keep])
        write_csv(os.path.join(d, "test.csv"), test[:, keep])
        with open(os.path.join(d, "columns.json"), "w") as f:
            json.dump(info, f)
        q = os.path.join(outdir, "dequantized")
        os.makedirs(q, exist_ok=True)
        rng = np.random.RandomState(10_000 + seed)
        write_csv(os.path.join(q, "train.csv"), train[:, keep] + rng.rand(len(train), len(keep)))
        write_csv(os.path.join(q, "test.csv"), test[:, keep] + rng.rand(len(test), len(keep)))
    print(json.dumps(info))


def main(argv):
    if len(argv) == 5 and argv[1] in TOYS:
        name, n, seed, out = argv[1], int(argv[2]), int(argv[3]), argv[4]
        write_csv(out, TOYS[name](n, seed))
    elif len(argv) == 4 and argv[1] in TABULAR:
        write_tabular(argv[1], int(argv[2]), argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
