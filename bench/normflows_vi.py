#!/usr/bin/env python3
"""normflows' planar flow fitted by reverse KL to the energies U1-U4 of
Rezende & Mohamed (2015) (defined in bench/vi_targets.py), for the
comparison with the Rust `cli vi` (issue 13).

Run (from the repository root; set-up: `pip install torch normflows`):

    python bench/normflows_vi.py                       # U1-U4 x seeds 0,1,2, normflows' protocol
    python bench/normflows_vi.py --targets u2 --seeds 0 --iters 2000   # a quick one
    python bench/normflows_vi.py --sanity              # KL machinery check only

Flags: --targets u1,u2,u3,u4  --seeds 0,1,2  --layers 32  --iters 20000
--samples 1024  --threads 2  --anneal-iters 10000  --lr 1e-3
--weight-decay 1e-3  --trainable-base 1|0  --eval-samples 100000
--out bench/results/normflows_vi.jsonl (append; "-" = don't write).

What it does, per (target, seed):
  * model: nf.NormalizingFlow(q0=nf.distributions.DiagGaussian(2), flows=[nf.flows.Planar((2,))] * K,
    p=VITarget(name)), VITarget an nf.distributions.Target subclass whose
    log_prob is -U(z) from vi_targets.py; float32, CPU.
  * training protocol = normflows' examples/comparison_plan_rad_aff.ipynb
    (its planar runs with K in {2, 8, 32}): Adam(lr=1e-3, weight_decay=1e-3),
    20000 iterations, 1024 samples per iteration,
    loss = nfm.reverse_kld(1024, beta=min(1, 0.01 + it / 10000)), and a step is
    skipped when the loss is NaN or inf (as that notebook does). The
    trainable DiagGaussian base is the notebook's default (--trainable-base 0
    for a fixed N(0, I) base). One difference from the notebook: it turns
    annealing off for its sinusoidal targets (anneal_iter = 1); here every
    target is annealed over --anneal-iters, as in the paper.
  * seed: torch.manual_seed(seed) before building the model (init and the
    training samples); the evaluation samples use torch.manual_seed(10^6 + seed).
  * timing: time.perf_counter() around the training loop only (train_seconds);
    time.process_time() over the same loop (train_cpu_seconds: with one thread,
    about what the wall time would be on an idle machine) and the 1-minute
    load average at the end of training are recorded too.
  * order: seed-major (all targets for the first seed, then the next seed).
  * evaluation (after training, the model cast to float64): M = --eval-samples
    draws x ~ q with log q(x); log p~(x) = -U(x);
    KL(q||p) = mean(log q - log p~) + log Z (log Z by quadrature, vi_targets.py),
    SE = std(log q - log p~) / sqrt(M); ELBO = -mean(log q - log p~);
    IS log Z = logmeanexp(log p~ - log q); ESS = (sum w)^2 / sum w^2 / M.
  * prints one JSON line per run (and appends it to --out), then a table of
    medians over seeds per target (KL and its SE are both medians).
"""
import argparse
import copy
import json
import math
import os
import statistics
import sys
import time

if "--threads" in sys.argv:
    _n = sys.argv[sys.argv.index("--threads") + 1]
else:
    _n = "2"
os.environ.setdefault("OMP_NUM_THREADS", _n)
os.environ.setdefault("MKL_NUM_THREADS", _n)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import normflows as nf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vi_targets  # noqa: E402


class VITarget(nf.distributions.Target):
    """normflows target with log_prob = -U(z) (unnormalized)."""

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.n_dims = 2

    def log_prob(self, z):
        return vi_targets.log_p_torch(self.name, z)


def build(name, layers, trainable_base):
    flows = [nf.flows.Planar((2,)) for _ in range(layers)]
    q0 = nf.distributions.DiagGaussian(2, trainable=trainable_base)
    return nf.NormalizingFlow(q0=q0, flows=flows, p=VITarget(name))


@torch.no_grad()
def evaluate(nfm, name, m, seed, log_z, chunk=25_000):
    model = copy.deepcopy(nfm).double()
    torch.manual_seed(10**6 + seed)
    lq, lp = [], []
    for i in range(0, m, chunk):
        x, log_q = model.sample(min(chunk, m - i))
        lq.append(log_q.numpy())
        lp.append(vi_targets.log_p_torch(name, x).numpy())
    return vi_targets.vi_stats(np.concatenate(lq), np.concatenate(lp), log_z)


def run(name, seed, args, log_z):
    torch.manual_seed(seed)
    np.random.seed(seed)
    nfm = build(name, args.layers, bool(args.trainable_base))
    opt = torch.optim.Adam(nfm.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    skipped = 0
    losses = []
    t0 = time.perf_counter()
    c0 = time.process_time()
    for it in range(args.iters):
        opt.zero_grad()
        beta = min(1.0, 0.01 + it / args.anneal_iters) if args.anneal_iters > 0 else 1.0
        loss = nfm.reverse_kld(args.samples, beta=beta)
        if torch.isfinite(loss):
            loss.backward()
            opt.step()
        else:
            skipped += 1
        if (it + 1) % max(1, args.iters // 20) == 0:
            losses.append(round(float(loss.detach()), 4))
    train_s = time.perf_counter() - t0
    train_cpu = time.process_time() - c0
    stats = evaluate(nfm, name, args.eval_samples, seed, log_z)
    return {
        "tool": "normflows", "normflows_version": getattr(nf, "__version__", "?"),
        "torch_version": torch.__version__, "target": name, "seed": seed,
        "flow": "planar", "layers": args.layers, "iters": args.iters,
        "samples": args.samples, "anneal_iters": args.anneal_iters,
        "beta_schedule": "min(1, 0.01 + it/anneal_iters)", "lr": args.lr,
        "weight_decay": args.weight_decay, "optimizer": "Adam",
        "trainable_base": bool(args.trainable_base), "threads": torch.get_num_threads(),
        "train_seconds": train_s, "train_cpu_seconds": train_cpu,
        "load_avg_1min": os.getloadavg()[0], "skipped_steps": skipped,
        "log_z_quadrature": log_z, **stats, "loss_trace": losses,
        "cmd": " ".join(["python"] + sys.argv),
    }


def main():
    ap = argparse.ArgumentParser(description="normflows planar-flow VI on U1-U4")
    ap.add_argument("--targets", default="u1,u2,u3,u4")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--anneal-iters", type=int, default=10000,
                    help="beta = min(1, 0.01 + it/A); 0 = no annealing")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-3)
    ap.add_argument("--trainable-base", type=int, default=1)
    ap.add_argument("--eval-samples", type=int, default=100_000)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "results", "normflows_vi.jsonl"))
    ap.add_argument("--sanity", action="store_true", help="only the KL machinery check")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    sanity = vi_targets.sanity_checks()
    # the same check through normflows' own objects: q = fixed N(0, I), no flows
    q = nf.NormalizingFlow(q0=nf.distributions.DiagGaussian(2, trainable=False), flows=[],
                           p=VITarget("gauss"))
    sanity["normflows_q_std_normal"] = evaluate(q, "gauss", args.eval_samples, 0,
                                                sanity["gauss_log_z_quadrature"])
    print("sanity:", json.dumps(sanity), flush=True)
    if args.sanity:
        return

    targets = args.targets.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    log_zs = {name: vi_targets.log_z_quadrature(name, 7.0, 0.005) for name in targets}
    for seed in seeds:  # seed-major: a stopped run still has every target for the first seeds
        for name in targets:
            r = run(name, seed, args, log_zs[name])
            rows.append(r)
            line = json.dumps(r)
            print(line, flush=True)
            if args.out != "-":
                os.makedirs(os.path.dirname(args.out), exist_ok=True)
                with open(args.out, "a") as f:
                    f.write(line + "\n")

    print(f"\nnormflows planar K={args.layers}, {args.iters} iters x {args.samples} samples, "
          f"{args.threads} threads; medians over seeds {args.seeds}")
    print(f"{'target':6s} {'log Z':>8s} {'KL':>8s} {'± SE':>7s} {'ELBO':>8s} {'IS logZ':>8s} "
          f"{'ESS':>6s} {'train s':>8s} {'cpu s':>7s}  KL per seed")
    for name in targets:
        rs = [r for r in rows if r["target"] == name]
        med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
        per = " ".join(f"{r['kl']:.4f}" for r in rs)
        print(f"{name:6s} {rs[0]['log_z_quadrature']:8.4f} {med('kl'):8.4f} {med('kl_se'):7.4f} "
              f"{med('elbo'):8.4f} {med('is_log_z'):8.4f} {med('ess'):6.3f} "
              f"{med('train_seconds'):8.1f} {med('train_cpu_seconds'):7.1f}  {per}")


if __name__ == "__main__":
    main()
