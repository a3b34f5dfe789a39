#!/usr/bin/env python3
"""Gaussian KDE and full-covariance Gaussian baselines.

    python bench/kde.py TRAIN.csv TEST.csv [--grid 30] [--folds 5] [--seed 0]

* Columns are standardized with the TRAIN mean and standard deviation
  (population std, ddof=0, as in the Rust tool's standardization layer).
* KDE: sklearn ``KernelDensity(kernel="gaussian")`` fitted on the standardized
  train rows; the bandwidth (one scalar, in standardized units) is chosen by
  5-fold cross-validation (shuffled ``KFold``) of the mean held-out
  log-likelihood over ``--grid`` log-spaced values in [1e-2, 10^0.5]
  (moved by a decade if the best value is on its edge). CV scores use
  ``rtol=1e-6`` (relative density error, for speed); the final test score is
  exact. The grid is walked upwards and the walk stops once the CV score has
  fallen for 3 values in a row past the best (wide bandwidths are slow). The
  refit on all train rows is scored on TEST.
* Gaussian: maximum-likelihood mean and (biased, 1/n) full covariance of the
  train rows, scored on TEST.
* Every NLL is the mean negative log-likelihood in nats per test row in the
  test CSV's *raw* coordinates: the KDE's standardized NLL + sum_d log sigma_d.

Prints one JSON line:
{"kde_nll", "bandwidth", "gaussian_nll", "n_train", "n_test", "dim", ...}
"""
import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from scipy.stats import multivariate_normal
from sklearn.model_selection import KFold
from sklearn.neighbors import KernelDensity

from data import standardized


def cv_scores(z, grid, folds, seed, patience=3):
    """Mean held-out log-likelihood per point for each bandwidth in the
    ascending grid, by K-fold CV; stops once the score has fallen for
    `patience` grid values in a row after the best (the CV curve is unimodal
    in practice, and wide bandwidths are the slow ones). Unevaluated entries
    are -inf."""
    splits = list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(z))
    scores = np.full(len(grid), -np.inf)
    best, since = -np.inf, 0
    for i, h in enumerate(grid):
        total = 0.0
        for tr, va in splits:
            kde = KernelDensity(kernel="gaussian", bandwidth=h, rtol=1e-6).fit(z[tr])
            total += kde.score_samples(z[va]).sum()
        scores[i] = total / len(z)
        if scores[i] > best:
            best, since = scores[i], 0
        else:
            since += 1
            if since >= patience:
                break
    return scores


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--grid", type=int, default=30)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    t0 = time.time()
    ztr, zte, log_det = standardized(a.train, a.test)
    n, d = ztr.shape

    lo, hi = -2.0, 0.5
    for _ in range(4):
        grid = np.logspace(lo, hi, a.grid)
        scores = cv_scores(ztr, grid, a.folds, a.seed)
        bw = float(grid[int(np.argmax(scores))])
        if bw == grid[0]:
            lo, hi = lo - 1.0, lo + 0.5
        elif bw == grid[-1]:
            lo, hi = hi - 0.5, hi + 1.0
        else:
            break
    kde = KernelDensity(kernel="gaussian", bandwidth=bw).fit(ztr)
    kde_nll = float(-kde.score_samples(zte).mean() + log_det)
    kde_train_nll = float(-kde.score_samples(ztr).mean() + log_det)

    # The same Gaussian as on raw data: fitted in standardized units, scored
    # there, then moved back to raw coordinates by log_det.
    cov = np.cov(ztr, rowvar=False, bias=True).reshape(d, d)
    gauss = multivariate_normal(mean=ztr.mean(axis=0), cov=cov)
    gauss_nll = float(-gauss.logpdf(zte).mean()) + log_det

    print(json.dumps({
        "kde_nll": kde_nll,
        "bandwidth": float(bw),
        "bandwidth_units": "train-standardized",
        "bandwidth_grid": [float(grid[0]), float(grid[-1]), a.grid],
        "cv_loglik_standardized": float(scores.max()),
        "bandwidths_tried": int(np.isfinite(scores).sum()),
        "kde_train_nll": kde_train_nll,
        "gaussian_nll": gauss_nll,
        "n_train": n,
        "n_test": len(zte),
        "dim": d,
        "seconds": round(time.time() - t0, 2),
    }))


if __name__ == "__main__":
    main()
