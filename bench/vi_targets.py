#!/usr/bin/env python3
"""The 2-D energies U1-U4 of Rezende & Mohamed (2015), Table 1, for the
variational-inference comparison, plus log Z by quadrature and the KL / ELBO /
importance-sampling diagnostics shared by bench/normflows_vi.py.

    python bench/vi_targets.py            # log Z table + convergence check + sanity checks
    python bench/vi_targets.py --quick    # skip the [-8,8]^2 box check

Unnormalized log density log p~(z) = -U(z), z = (z1, z2):

    w1(z) = sin(2 pi z1 / 4)
    w2(z) = 3 exp(-1/2 ((z1 - 1) / 0.6)^2)
    w3(z) = 3 sigmoid((z1 - 1) / 0.3)
    wall(z1) = 1/2 (z1 / 4)^8
    U1(z) = 1/2 ((|z| - 2) / 0.4)^2 - logaddexp(-1/2 ((z1 - 2)/0.6)^2, -1/2 ((z1 + 2)/0.6)^2)
    U2(z) = 1/2 ((z2 - w1) / 0.4)^2 + wall(z1)
    U3(z) = -logaddexp(-1/2 ((z2 - w1)/0.35)^2, -1/2 ((z2 - w1 + w2)/0.35)^2) + wall(z1)
    U4(z) = -logaddexp(-1/2 ((z2 - w1)/0.4)^2,  -1/2 ((z2 - w1 + w3)/0.35)^2) + wall(z1)

U2-U4 do not decay along z1 in the paper; the soft wall keeps their mass in
about |z1| <= 5 so that log Z is finite. U1 has no wall.

log Z = log of the integral of exp(-U) by the midpoint rule on [-7, 7]^2 with
step 0.005 (2800 x 2800 cells), in float64. `python bench/vi_targets.py`
also prints step 0.01 on [-7,7]^2 and step 0.005 on [-8,8]^2 to show that
the value is converged.

KL(q||p) = E_q[log q - log p~] + log Z, from M samples of q; its Monte-Carlo
standard error is std(log q - log p~) / sqrt(M). ELBO = E_q[log p~ - log q];
IS log Z = logmeanexp(log p~ - log q); ESS = (sum w)^2 / sum w^2 / M with
w = p~ / q (a fraction in (0, 1]).
"""
import argparse
import math
import time

import numpy as np
import torch

TARGETS = ("u1", "u2", "u3", "u4", "gauss")


def _wall(z1):
    return 0.5 * (z1 / 4.0) ** 8


def log_p_torch(name, z):
    """log p~(z) = -U(z) for a batch z of shape (N, 2) (torch, any float dtype)."""
    z1, z2 = z[:, 0], z[:, 1]
    if name == "u1":
        r = torch.sqrt(z1 * z1 + z2 * z2)
        a = -0.5 * ((z1 - 2.0) / 0.6) ** 2
        b = -0.5 * ((z1 + 2.0) / 0.6) ** 2
        return -0.5 * ((r - 2.0) / 0.4) ** 2 + torch.logaddexp(a, b)
    if name == "gauss":  # sanity target: N(0, I) unnormalized, log Z = log 2 pi
        return -0.5 * (z1 * z1 + z2 * z2)
    w1 = torch.sin(2.0 * math.pi * z1 / 4.0)
    if name == "u2":
        return -0.5 * ((z2 - w1) / 0.4) ** 2 - _wall(z1)
    if name == "u3":
        w2 = 3.0 * torch.exp(-0.5 * ((z1 - 1.0) / 0.6) ** 2)
        a = -0.5 * ((z2 - w1) / 0.35) ** 2
        b = -0.5 * ((z2 - w1 + w2) / 0.35) ** 2
        return torch.logaddexp(a, b) - _wall(z1)
    if name == "u4":
        w3 = 3.0 * torch.sigmoid((z1 - 1.0) / 0.3)
        a = -0.5 * ((z2 - w1) / 0.4) ** 2
        b = -0.5 * ((z2 - w1 + w3) / 0.35) ** 2
        return torch.logaddexp(a, b) - _wall(z1)
    raise ValueError(f"unknown target {name!r}")


def log_p_numpy(name, z):
    """Same as log_p_torch, for a float64 numpy array of shape (N, 2)."""
    z1, z2 = z[:, 0], z[:, 1]
    if name == "u1":
        r = np.sqrt(z1 * z1 + z2 * z2)
        a = -0.5 * ((z1 - 2.0) / 0.6) ** 2
        b = -0.5 * ((z1 + 2.0) / 0.6) ** 2
        return -0.5 * ((r - 2.0) / 0.4) ** 2 + np.logaddexp(a, b)
    if name == "gauss":
        return -0.5 * (z1 * z1 + z2 * z2)
    w1 = np.sin(2.0 * np.pi * z1 / 4.0)
    if name == "u2":
        return -0.5 * ((z2 - w1) / 0.4) ** 2 - _wall(z1)
    if name == "u3":
        w2 = 3.0 * np.exp(-0.5 * ((z1 - 1.0) / 0.6) ** 2)
        a = -0.5 * ((z2 - w1) / 0.35) ** 2
        b = -0.5 * ((z2 - w1 + w2) / 0.35) ** 2
        return np.logaddexp(a, b) - _wall(z1)
    if name == "u4":
        w3 = 3.0 / (1.0 + np.exp(-(z1 - 1.0) / 0.3))
        a = -0.5 * ((z2 - w1) / 0.4) ** 2
        b = -0.5 * ((z2 - w1 + w3) / 0.35) ** 2
        return np.logaddexp(a, b) - _wall(z1)
    raise ValueError(f"unknown target {name!r}")


def log_z_quadrature(name, half_width=7.0, step=0.005):
    """log of the midpoint-rule integral of exp(log p~) on [-h, h]^2 (float64).

    Computed column block by column block with a running log-sum-exp."""
    n = int(round(2 * half_width / step))
    c = -half_width + step * (np.arange(n) + 0.5)  # cell midpoints
    total_max = -np.inf
    total = 0.0
    block = max(1, 2_000_000 // n)
    for i in range(0, n, block):
        z1 = np.repeat(c[i:i + block], n)
        z2 = np.tile(c, len(c[i:i + block]))
        lp = log_p_numpy(name, np.stack([z1, z2], axis=1))
        m = lp.max()
        if m > total_max:
            total = total * math.exp(total_max - m) if np.isfinite(total_max) else 0.0
            total_max = m
        total += np.exp(lp - total_max).sum()
    return total_max + math.log(total) + 2.0 * math.log(step)


def vi_stats(log_q, log_p, log_z=None):
    """Diagnostics from M samples x ~ q: arrays log q(x), log p~(x) (float64).

    Returns a dict with kl, kl_se (if log_z given), elbo, elbo_se, is_log_z,
    ess (fraction of M), n_nonfinite."""
    log_q = np.asarray(log_q, dtype=np.float64)
    log_p = np.asarray(log_p, dtype=np.float64)
    d = log_q - log_p
    finite = np.isfinite(d)
    n_bad = int((~finite).sum())
    d = d[finite]
    m = d.size
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(m)) if m > 1 else float("nan")
    lw = -d
    lmax = lw.max()
    w = np.exp(lw - lmax)
    is_log_z = float(lmax + math.log(w.sum()) - math.log(m))
    ess = float(w.sum() ** 2 / (w * w).sum() / m)
    out = {"elbo": -mean, "elbo_se": se, "is_log_z": is_log_z, "ess": ess,
           "m": m, "n_nonfinite": n_bad}
    if log_z is not None:
        out["kl"] = mean + log_z
        out["kl_se"] = se
    return out


def sanity_checks():
    """q = N(0, I); p~ = N(0, I) unnormalized -> KL = 0, log Z = log 2 pi.
    Plus q = N(0, I), p~ = exp(-|z - mu|^2 / 2) with mu = (1, -0.5):
    KL = |mu|^2 / 2 = 0.625 exactly, log Z = log 2 pi."""
    g = torch.Generator().manual_seed(123)
    m = 100_000
    x = torch.randn(m, 2, generator=g, dtype=torch.float64)
    log_q = -0.5 * (x ** 2).sum(1) - math.log(2 * math.pi)
    lz_quad = log_z_quadrature("gauss")
    s0 = vi_stats(log_q.numpy(), log_p_torch("gauss", x).numpy(), lz_quad)
    mu = torch.tensor([1.0, -0.5], dtype=torch.float64)
    log_p_shift = -0.5 * ((x - mu) ** 2).sum(1)
    s1 = vi_stats(log_q.numpy(), log_p_shift.numpy(), math.log(2 * math.pi))
    return {
        "log_2pi": math.log(2 * math.pi),
        "gauss_log_z_quadrature": lz_quad,
        "same_gaussian": s0,
        "shifted_gaussian_exact_kl": 0.5 * float((mu ** 2).sum()),
        "shifted_gaussian": s1,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the [-8,8]^2 check")
    args = ap.parse_args()
    print("target  logZ[-7,7]^2 h=0.005   h=0.01 (diff)            [-8,8]^2 h=0.005 (diff)")
    for name in ("u1", "u2", "u3", "u4"):
        t0 = time.perf_counter()
        a = log_z_quadrature(name, 7.0, 0.005)
        b = log_z_quadrature(name, 7.0, 0.01)
        line = f"{name:6s}  {a:.10f}        {b:.10f} ({b - a:+.1e})"
        if not args.quick:
            c = log_z_quadrature(name, 8.0, 0.005)
            line += f"   {c:.10f} ({c - a:+.1e})"
        print(line + f"   [{time.perf_counter() - t0:.1f}s]")
    import json
    print(json.dumps(sanity_checks(), indent=1))


if __name__ == "__main__":
    main()
