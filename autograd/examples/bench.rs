//! `cargo run --release -p autograd --example bench`
//!
//! How fast is the engine where the time goes? Two measurements:
//!
//! 1. **The matrix products.** A training step of an MLP on 3000 points spends most
//!    of its time in `[3000, 128]·[128, 128]` products: one forward (C = A·B) and two
//!    backward (ḡA = ḡC·Bᵀ, ḡB = Aᵀ·ḡC). Each is 2·m·k·n floating-point operations,
//!    so dividing by the time gives GFLOP/s, comparable with the machine's peak.
//!    We time the engine's own matmul kernels, then one whole recorded matmul
//!    (tape forward + backward), which adds copying A and B onto the tape.
//! 2. **A training step**: reset the tape, forward, backward, accumulate the
//!    gradients into the store, Adam step — for an MLP 2→128→128→2 (tanh) on
//!    3000 points with an MSE loss, in f32 (how we train) and f64 (how we check).
//!
//! Timing uses `std::time::Instant` only. The machine may be shared, so each
//! measurement is repeated and we quote the median (robust to another program
//! stealing a core now and then), with the minimum or the 10th/90th percentiles
//! to show the spread.

use autograd::ops::matmul;
use autograd::{Activation, Adam, Float, Mlp, ParamStore, Tape, Tensor, Value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

const M: usize = 3000;
const K: usize = 128;
const N: usize = 128;
const MATMUL_REPEATS: usize = 100;
const WARMUP_STEPS: usize = 20;
const TIMED_STEPS: usize = 200;

fn main() {
    println!("autograd benchmark");
    println!("==================");
    println!("The machine is shared: medians are quoted, with min or p10/p90 for the spread.");
    if cfg!(debug_assertions) {
        println!("WARNING: built without --release; numbers are not representative.");
    }
    // One thread per logical CPU unless the program calls autograd::set_threads.
    println!(
        "threads: {} (autograd::thread_count)",
        autograd::thread_count()
    );
    println!();

    matmul_products();
    println!();
    training_step::<f32>("(b)");
    println!();
    training_step::<f64>("(c)");
}

// ---------------------------------------------------------------------------
// Timing helpers
// ---------------------------------------------------------------------------

/// Runs `f` `repeats` times and returns each call's time in seconds, sorted.
fn time_sorted(repeats: usize, mut f: impl FnMut()) -> Vec<f64> {
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

/// The `p`-quantile (0 ≤ p ≤ 1) of sorted times, by the nearest rank.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn random_tensor<F: Float>(shape: &[usize], rng: &mut StdRng) -> Tensor<F> {
    let n = shape.iter().product();
    let data: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    Tensor::from_f64(&data, shape)
}

// ---------------------------------------------------------------------------
// 1. Matrix products
// ---------------------------------------------------------------------------

/// Prints median and best GFLOP/s of the three products of a matmul's forward and
/// backward, in f32, then of a whole recorded matmul.
fn matmul_products() {
    let flops = 2.0 * (M * K * N) as f64;
    println!(
        "(a) sgemm, m = {M}, k = {K}, n = {N}: {:.1} MFLOP per product, {MATMUL_REPEATS} calls each",
        flops / 1e6
    );
    println!(
        "    {:<38} {:>10} {:>10} {:>10}",
        "", "median ms", "GFLOP/s", "best GF/s"
    );
    let report = |name: &str, flops: f64, sorted: &[f64]| {
        let (median, min) = (quantile(sorted, 0.5), sorted[0]);
        println!(
            "    {name:<38} {:>10.3} {:>10.1} {:>10.1}",
            median * 1e3,
            flops / median / 1e9,
            flops / min / 1e9
        );
    };

    let mut rng = StdRng::seed_from_u64(0);
    let a = random_tensor::<f32>(&[M, K], &mut rng);
    let b = random_tensor::<f32>(&[K, N], &mut rng);
    let g = random_tensor::<f32>(&[M, N], &mut rng);
    let mut c = vec![0.0f32; M * N];
    let mut ga = vec![0.0f32; M * K];
    let mut gb = vec![0.0f32; K * N];

    // The kernels the tape calls. Backward products add into their buffer (β = 1),
    // as they do on the tape; the sums grow but stay far from overflow.
    let forward = time_sorted(MATMUL_REPEATS, || matmul::forward(&a, &b, &mut c));
    report("forward   C  = A·B     [3000,128]", flops, &forward);
    let grad_a = time_sorted(MATMUL_REPEATS, || {
        matmul::backward(0, g.data(), &a, &b, &mut ga)
    });
    report("backward  ḡA += ḡC·Bᵀ  [3000,128]", flops, &grad_a);
    let grad_b = time_sorted(MATMUL_REPEATS, || {
        matmul::backward(1, g.data(), &a, &b, &mut gb)
    });
    report("backward  ḡB += Aᵀ·ḡC  [128,128]", flops, &grad_b);

    // One matmul recorded and swept backwards: three products, plus copying A and B
    // onto the tape and the sum that makes a scalar loss (counted as time, not flops).
    let mut tape = Tape::<f32>::new();
    let recorded = time_sorted(MATMUL_REPEATS, || {
        tape.reset();
        let (av, bv) = (tape.variable(&a), tape.variable(&b));
        let loss = av.matmul(&bv).sum();
        tape.backward(loss);
    });
    report("tape: sum(A·B), forward + backward", 3.0 * flops, &recorded);
}

// ---------------------------------------------------------------------------
// 2. A training step
// ---------------------------------------------------------------------------

/// One step: rewind the tape, record the loss, sweep back, hand the gradients to
/// the store and let Adam update it. Returns the loss.
fn step<F: Float>(
    tape: &mut Tape<F>,
    store: &mut ParamStore<F>,
    adam: &mut Adam<F>,
    mlp: &Mlp,
    x: &Tensor<F>,
    target: &Tensor<F>,
) -> F {
    tape.reset();
    let (xv, tv) = (tape.constant(x), tape.constant(target));
    let loss = mlp.forward(store, &xv).sub(&tv).square().mean();
    tape.backward_into(loss, store);
    adam.step(store);
    loss.item()
}

/// Times [`step`] for an MLP 2→128→128→2 (tanh) on 3000 points in precision `F`.
fn training_step<F: Float>(label: &str) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut store = ParamStore::<F>::new();
    let mlp = Mlp::new(
        &mut store,
        "mlp",
        &[2, 128, 128, 2],
        Activation::Tanh,
        None,
        &mut rng,
    );
    let x = random_tensor::<F>(&[M, 2], &mut rng);
    // A fixed smooth target: (sin 3x₀ · x₁, x₀² − x₁).
    let target = Tensor::new(
        x.data()
            .chunks(2)
            .flat_map(|p| {
                let (x0, x1) = (p[0].to_f64(), p[1].to_f64());
                [
                    F::from_f64((3.0 * x0).sin() * x1),
                    F::from_f64(x0 * x0 - x1),
                ]
            })
            .collect(),
        &[M, 2],
    );
    let mut adam = Adam::new(1e-3);
    let mut tape = Tape::new();

    let first = step(&mut tape, &mut store, &mut adam, &mlp, &x, &target);
    for _ in 1..WARMUP_STEPS {
        step(&mut tape, &mut store, &mut adam, &mlp, &x, &target);
    }
    let mut last = first;
    let times = time_sorted(TIMED_STEPS, || {
        last = step(&mut tape, &mut store, &mut adam, &mlp, &x, &target);
    });
    println!(
        "{label} training step, {}: MLP 2→128→128→2 tanh, {M} points, MSE, Adam",
        F::NAME
    );
    println!(
        "    {WARMUP_STEPS} warm-up steps, then {TIMED_STEPS} timed: median {:.2} ms   p10 {:.2} ms   p90 {:.2} ms",
        quantile(&times, 0.5) * 1e3,
        quantile(&times, 0.1) * 1e3,
        quantile(&times, 0.9) * 1e3
    );
    println!(
        "    loss {:.4} → {:.4}; tape: {} nodes, {:.1} MB of buffers",
        first.to_f64(),
        last.to_f64(),
        tape.len(),
        tape.capacity_bytes() as f64 / 1e6
    );
}
