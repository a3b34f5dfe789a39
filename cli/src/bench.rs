//! `cli bench`: the seeds' reference workload, timed. Six affine coupling
//! layers with alternating masks, separate s and t networks with two hidden
//! layers of `--hidden` (ReLU; tanh on s, i.e. clamp 1), no ActNorm, on
//! `--points` two-moons points (noise 0.05), full batch, Adam at 1e-3. One
//! epoch is one full-batch step: forward, backward, update. The same model as
//! `bench/torch_reference.py`, which prints the same JSON, so the ratio to
//! PyTorch is one command away (BENCHMARKS.md).

use crate::args::BenchArgs;
use crate::error::{say, CliError, Result};
use autograd::{Activation, CosineSchedule, Float, ParamStore, Tensor, Value};
use flows::data::ToyData;
use flows::evaluate;
use flows::{FlowConfig, FlowKind, FlowModel, Mixing, Precision, Trainer};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;

/// The reference architecture at width `hidden`.
pub fn reference_config(hidden: usize, seed: u64) -> FlowConfig {
    FlowConfig {
        kind: FlowKind::Affine,
        layers: 6,
        hidden,
        depth: 2,
        activation: Activation::Relu,
        actnorm: false,
        mixing: Mixing::Alternate,
        shared_net: false,
        clamp: 1.0,
        seed,
        ..FlowConfig::new(2)
    }
}

/// Floating-point operations of one epoch: per point and layer, two networks
/// of 1 → h → h → 1 multiply-adds (2 flops each), forward and the two
/// backward products (3×).
fn flops_per_epoch(points: usize, hidden: usize) -> f64 {
    let macs_per_net = (hidden + hidden * hidden + hidden) as f64;
    3.0 * 2.0 * macs_per_net * 2.0 * 6.0 * points as f64
}

fn moons<F: Float>(n: usize, seed: u64) -> Tensor<F> {
    let mut rng = StdRng::seed_from_u64(seed);
    let flat: Vec<f64> = ToyData::Moons { noise: 0.05 }
        .sample(n, &mut rng)
        .iter()
        .flatten()
        .copied()
        .collect();
    Tensor::from_f64(&flat, &[n, 2])
}

/// Sorted copy, and the value at quantile `q` of it.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The median time of one `m × k × k` product in this precision (the
/// machine's gemm rate at the workload's largest shape).
fn gemm_gflops<F: Float>(m: usize, k: usize) -> f64 {
    let a = Tensor::<F>::new(vec![F::from_f64(0.5); m * k], &[m, k]);
    let b = Tensor::<F>::new(vec![F::from_f64(0.25); k * k], &[k, k]);
    let mut times: Vec<f64> = (0..30)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(a.matmul(&b));
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    2.0 * (m * k * k) as f64 / quantile(&times, 0.5) / 1e9
}

/// The sizes of `--sweep points` and `--sweep hidden`.
const SWEEP_POINTS: [usize; 5] = [1000, 3000, 10_000, 30_000, 100_000];
const SWEEP_HIDDEN: [usize; 5] = [32, 64, 128, 256, 512];

pub fn run(args: &BenchArgs) -> Result<()> {
    if let (Some(input), Some(out)) = (&args.draw, &args.out) {
        return crate::bench_figure::draw(input, out);
    }
    if args.epochs == 0 || args.repeats == 0 || args.points < 2 || args.hidden == 0 {
        return Err(CliError::new(
            "--epochs, --repeats and --hidden must be at least 1, --points at least 2",
        ));
    }
    if let Some(threads) = args.threads {
        autograd::set_threads(threads)
            .map_err(|e| CliError::new(format!("--threads {threads}: {e}")))?;
    }
    let runs: Vec<BenchArgs> = match args.sweep.as_deref() {
        None => vec![args.clone()],
        Some("points") => (SWEEP_POINTS.iter())
            .map(|&points| BenchArgs {
                points,
                ..args.clone()
            })
            .collect(),
        Some(_) => (SWEEP_HIDDEN.iter())
            .map(|&hidden| BenchArgs {
                hidden,
                ..args.clone()
            })
            .collect(),
    };
    for run in &runs {
        match args.precision {
            Precision::F32 => bench::<f32>(run)?,
            Precision::F64 => bench::<f64>(run)?,
        }
    }
    Ok(())
}

fn bench<F: Float>(args: &BenchArgs) -> Result<()> {
    let x = moons::<F>(args.points, args.seed);
    let mut store = ParamStore::<F>::new();
    let model = FlowModel::new(reference_config(args.hidden, args.seed), &mut store)
        .map_err(|e| CliError::new(e.to_string()))?;
    model
        .fit_initialization(&mut store, &x)
        .map_err(CliError::new)?;
    // Constant rate, no clipping: the reference's plain Adam.
    let mut trainer = Trainer::new(CosineSchedule::new(1e-3, 1e-3, usize::MAX), f64::INFINITY);
    for _ in 0..args.warmup {
        trainer.step(&model, &mut store, &x);
    }
    let resident_after_warmup = resident_memory().map(|m| m.current);
    let mut epoch_ms = Vec::with_capacity(args.repeats * args.epochs);
    for _ in 0..args.repeats * args.epochs {
        let start = Instant::now();
        trainer.step(&model, &mut store, &x);
        epoch_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    // Read before anything but training has run: the memory of training alone.
    let training_memory = resident_memory();
    epoch_ms.sort_by(f64::total_cmp);
    let median = quantile(&epoch_ms, 0.5);
    let final_nll = model.nll(&store, &x).item().to_f64();
    let gflops = flops_per_epoch(args.points, args.hidden) / (median / 1e3) / 1e9;
    let machine = gemm_gflops::<F>(args.points, args.hidden);
    let (eval_s, sample_s) = inference::<F>(&model, &store, args);
    let threads = autograd::thread_count();
    if args.json {
        let json = serde_json::json!({
            "ms_per_epoch_median": median, "p10": quantile(&epoch_ms, 0.1), "p90": quantile(&epoch_ms, 0.9),
            "threads": threads, "precision": F::NAME, "sweep": args.sweep, "points": args.points, "hidden": args.hidden,
            "final_nll": final_nll, "gflops": gflops, "gemm_gflops": machine,
            "infer_points": args.infer, "eval_s": eval_s, "sample_s": sample_s,
            "resident_after_warmup_mb": resident_after_warmup.map(mb),
            "resident_after_training_mb": training_memory.map(|m| mb(m.current)),
            "peak_resident_training_mb": training_memory.map(|m| mb(m.peak)),
        });
        return say!("{json}");
    }
    say!(
        "reference workload: 6 affine couplings, s and t nets 1→{h}→{h}→1 (ReLU), {} points, full batch, Adam 1e-3, {}, threads {threads}",
        args.points,
        F::NAME,
        h = args.hidden
    )?;
    say!(
        "  training  median {median:.2} ms/epoch  (p10 {:.2}, p90 {:.2}; {} epochs after {} warm-up)",
        quantile(&epoch_ms, 0.1),
        quantile(&epoch_ms, 0.9),
        epoch_ms.len(),
        args.warmup
    )?;
    say!(
        "            {gflops:.1} GFLOP/s = {:.0} % of this machine's gemm rate at [{}×{h}]·[{h}×{h}] ({machine:.1} GFLOP/s); final NLL {final_nll:.4}",
        100.0 * gflops / machine,
        args.points,
        h = args.hidden
    )?;
    if let (Some(before), Some(after)) = (resident_after_warmup, training_memory) {
        say!(
            "  memory    resident {:.1} MB after warm-up, {:.1} MB after the last epoch; peak {:.1} MB",
            mb(before),
            mb(after.current),
            mb(after.peak)
        )?;
    }
    say!(
        "  inference {} points: eval {eval_s:.2} s, sample {sample_s:.2} s",
        args.infer
    )
}

/// Resident memory of this process, now and at its peak, in bytes.
#[derive(Clone, Copy)]
struct Resident {
    current: u64,
    peak: u64,
}

/// From `/proc/self/status` (Linux; `None` elsewhere).
fn resident_memory() -> Option<Resident> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    };
    Some(Resident {
        current: field("VmRSS:")?,
        peak: field("VmHWM:")?,
    })
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Seconds to evaluate and to sample `--infer` points, in chunks.
fn inference<F: Float>(model: &FlowModel, store: &ParamStore<F>, args: &BenchArgs) -> (f64, f64) {
    if args.infer == 0 {
        return (0.0, 0.0);
    }
    let mut rng = StdRng::seed_from_u64(args.seed + 1);
    let start = Instant::now();
    let mut points = 0;
    evaluate::sample_chunks(model, store, args.infer, &mut rng, |chunk| {
        points += chunk.rows();
        std::hint::black_box(chunk);
        Ok::<(), ()>(())
    })
    .expect("the sink never fails");
    let sample_s = start.elapsed().as_secs_f64();
    let x = moons::<F>(args.infer, args.seed + 2);
    let start = Instant::now();
    std::hint::black_box(evaluate::log_prob(model, store, &x));
    (start.elapsed().as_secs_f64(), sample_s)
}
