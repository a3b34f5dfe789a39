//! `cli train`: fit a flow by maximum likelihood, keep the model that does best
//! on held-out data, and leave a run folder a student can put in a report.
//!
//! Run folder: model.json (the best checkpoint), metrics.csv (step, train NLL,
//! held-out NLL, seconds), train.csv and heldout.csv (the exact split), and the
//! figures.

use crate::args::{ActivationArg, FlowArg, MixingArg, Precision, ScheduleArg, TrainArgs};
use crate::checkpoint::{Checkpoint, TrainResult};
use crate::dataset::{self, Split};
use crate::error::{fail, say, CliError, Result};
use crate::figures::{self, MetricRow};
use crate::files::{create_dir, csv_text, write_file, Points};
use crate::progress::Progress;
use autograd::{Activation, CosineSchedule, Float, ParamStore, Tensor};
use flows::{FlowConfig, FlowKind, FlowModel, Mixing, Trainer};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub fn run(args: &TrainArgs) -> Result<()> {
    validate(args)?;
    if let Some(threads) = args.threads {
        // matrixmultiply reads this once, at its first product.
        std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let split = dataset::load(args, &mut rng)?;
    match args.precision {
        Precision::F32 => train::<f32>(args, split, rng),
        Precision::F64 => train::<f64>(args, split, rng),
    }
}

/// Hyperparameters no training could use, refused before any work is done.
fn validate(args: &TrainArgs) -> Result<()> {
    if args.layers == 0 {
        fail!("--layers 0: need at least 1 layer");
    }
    if args.hidden == 0 {
        fail!("--hidden 0: need at least 1 hidden unit");
    }
    if !(args.lr > 0.0 && args.lr.is_finite()) {
        fail!(
            "--lr {}: the learning rate must be a positive number",
            args.lr
        );
    }
    if !(args.clamp > 0.0 && args.clamp.is_finite()) {
        fail!("--clamp {}: must be a positive number", args.clamp);
    }
    if args.clip.is_nan() || args.clip <= 0.0 {
        fail!("--clip {}: must be a positive number", args.clip);
    }
    if args.steps == 0 {
        fail!("--steps 0: need at least 1 step");
    }
    if args.epochs == Some(0) {
        fail!("--epochs 0: need at least 1 epoch");
    }
    if args.eval_every == 0 {
        fail!("--eval-every 0: must be at least 1");
    }
    if args.threads == Some(0) {
        fail!("--threads 0: need at least 1 thread");
    }
    batch_size(&args.batch, usize::MAX)?;
    Ok(())
}

/// `--batch`: a positive number of points (capped at the training set) or "full".
fn batch_size(spec: &str, n_train: usize) -> Result<usize> {
    if spec.eq_ignore_ascii_case("full") {
        return Ok(n_train);
    }
    match spec.trim().parse::<usize>() {
        Ok(0) => fail!("--batch 0: the batch size must be at least 1 (or \"full\")"),
        Ok(b) => Ok(b.min(n_train)),
        Err(_) => fail!("--batch {spec:?}: expected a number of points or \"full\""),
    }
}

fn config(args: &TrainArgs, dim: usize) -> FlowConfig {
    FlowConfig {
        dim,
        kind: match args.flow {
            FlowArg::Affine => FlowKind::Affine,
            FlowArg::Additive => FlowKind::Additive,
            FlowArg::Planar => FlowKind::Planar,
        },
        layers: args.layers,
        hidden: args.hidden,
        depth: args.depth,
        activation: match args.activation {
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::Sigmoid => Activation::Sigmoid,
            ActivationArg::Softplus => Activation::Softplus,
        },
        actnorm: args.actnorm,
        mixing: match args.mixing {
            MixingArg::Alternate => Mixing::Alternate,
            MixingArg::Reverse => Mixing::Reverse,
            MixingArg::Random => Mixing::Random,
            MixingArg::Lu => Mixing::Lu,
        },
        shared_net: args.shared_net,
        clamp: args.clamp,
        seed: args.seed,
    }
}

fn tensor<F: Float>(points: &Points) -> Tensor<F> {
    Tensor::from_f64(&points.data, &[points.rows(), points.dim])
}

/// The held-out NLL of the current parameters (nats per point).
fn heldout_nll<F: Float>(model: &FlowModel, store: &ParamStore<F>, heldout: &Tensor<F>) -> f64 {
    model.nll(store, heldout).item().to_f64()
}

fn train<F: Float>(args: &TrainArgs, split: Split, mut rng: StdRng) -> Result<()> {
    let Split {
        train,
        heldout,
        source,
        entropy,
    } = split;
    let mut store = ParamStore::<F>::new();
    let model = FlowModel::new(config(args, train.dim), &mut store)
        .map_err(|e| CliError(format!("invalid flow: {e}")))?;
    let (train_t, heldout_t) = (tensor::<F>(&train), tensor::<F>(&heldout));
    model
        .fit_initialization(&mut store, &train_t)
        .map_err(|e| CliError(format!("{source}: {e}")))?;

    let n = train.rows();
    let batch = batch_size(&args.batch, n)?;
    let steps = match args.epochs {
        Some(e) => e * n.div_ceil(batch),
        None => args.steps,
    };
    create_dir(&args.out)?;

    let schedule = match args.schedule {
        ScheduleArg::Cosine => CosineSchedule::new(args.lr, 0.0, steps),
        ScheduleArg::Constant => CosineSchedule::new(args.lr, args.lr, steps),
    };
    let mut trainer = Trainer::new(schedule, args.clip);
    let start = Instant::now();
    let mut metrics = Vec::with_capacity(steps + 1);
    let initial = heldout_nll(&model, &store, &heldout_t);
    metrics.push(MetricRow {
        step: 0,
        train_nll: model.nll(&store, &train_t).item().to_f64(),
        heldout_nll: Some(initial),
        seconds: 0.0,
    });
    let mut best = (initial, 0usize, store.clone());
    // Shown by the progress report between evaluations.
    let mut last_heldout = initial;
    let mut order: Vec<usize> = (0..n).collect();
    let mut cursor = n; // forces a shuffle before the first batch
    let mut diverged = None;
    let progress = Progress::new(steps);
    // Ctrl-C ends training early but still saves the best model and figures.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));

    for step in 1..=steps {
        if interrupted.load(Ordering::SeqCst) {
            eprintln!("interrupted at step {step}: saving the best model so far");
            break;
        }
        if cursor + batch > n {
            order.shuffle(&mut rng);
            cursor = 0;
        }
        let batch_t = if batch == n {
            train_t.clone()
        } else {
            train_t.select_rows(&order[cursor..cursor + batch])
        };
        cursor += batch;
        let report = trainer.step(&model, &mut store, &batch_t);
        if !report.nll.is_finite() || !report.grad_norm.is_finite() {
            diverged = Some(step);
            break;
        }
        let heldout_now = (step % args.eval_every == 0 || step == steps)
            .then(|| heldout_nll(&model, &store, &heldout_t));
        if let Some(h) = heldout_now {
            if h < best.0 {
                best = (h, step, store.clone());
            }
        }
        metrics.push(MetricRow {
            step,
            train_nll: report.nll,
            heldout_nll: heldout_now,
            seconds: start.elapsed().as_secs_f64(),
        });
        last_heldout = heldout_now.unwrap_or(last_heldout);
        progress.update(step, report.nll, Some(last_heldout));
    }
    progress.finish();
    let seconds = start.elapsed().as_secs_f64();

    // The numbers we report, in f64 from the best parameters: the same
    // computation `cli eval` does on the same data, so the two agree.
    let (_, best_step, best_store) = best;
    let store64 = best_store.cast::<f64>();
    let train_nll = model.nll(&store64, &figures::to_tensor(&train)).item();
    let heldout_nll = model.nll(&store64, &figures::to_tensor(&heldout)).item();

    let training = serde_json::json!({
        "data": source, "train_points": n, "heldout_points": heldout.rows(),
        "steps": metrics.last().map(|m| m.step).unwrap_or(0), "batch": batch, "lr": args.lr,
        "schedule": format!("{:?}", args.schedule).to_lowercase(), "clip": args.clip,
        "seed": args.seed, "seconds": seconds,
    });
    let checkpoint = Checkpoint::new(
        &model,
        &best_store,
        training,
        TrainResult {
            best_step,
            train_nll,
            heldout_nll,
        },
    );
    let ckpt_path = args.out.join("model.json");
    checkpoint.save(&ckpt_path)?;
    write_file(
        &args.out.join("metrics.csv"),
        metrics_csv(&metrics).as_bytes(),
    )?;
    write_file(
        &args.out.join("train.csv"),
        csv_text(&train, train.header.as_deref()).as_bytes(),
    )?;
    write_file(
        &args.out.join("heldout.csv"),
        csv_text(&heldout, heldout.header.as_deref()).as_bytes(),
    )?;

    if let Some(step) = diverged {
        fail!(
            "training diverged at step {step} (the loss or its gradient is not finite); kept the best model so far \
             (step {best_step}, held-out NLL {heldout_nll:.4}) in {}. Try a smaller --lr or --clamp.",
            ckpt_path.display()
        );
    }

    let mut files = vec![
        "model.json".to_string(),
        "metrics.csv".into(),
        "train.csv".into(),
        "heldout.csv".into(),
    ];
    if !args.no_plots {
        files.extend(figures::draw_all(
            &args.out, &model, &store64, &train, &metrics, args.svg, args.seed,
        )?);
    }

    let done = metrics.last().map(|m| m.step).unwrap_or(0);
    let kind = match args.flow {
        FlowArg::Affine => "an affine coupling",
        FlowArg::Additive => "an additive coupling",
        FlowArg::Planar => "a planar",
    };
    say!(
        "Trained {kind} flow ({} layers, {} parameters, {}) on {source}: {n} train / {} held-out points",
        args.layers,
        store.num_trainable(),
        F::NAME,
        heldout.rows()
    );
    say!("  train NLL     {train_nll:.4} nats/point");
    say!("  held-out NLL  {heldout_nll:.4} nats/point  (best model, step {best_step} of {done})");
    if let Some(h) = entropy {
        say!("  entropy       {h:.4} nats/point  (of the true density: the lowest NLL possible on average)");
    }
    say!(
        "  time          {seconds:.1} s  ({:.0} steps/s, batch {batch})",
        done as f64 / seconds.max(1e-9)
    );
    say!(
        "  files         {}/: {}",
        args.out.display(),
        files.join(", ")
    );
    Ok(())
}

fn metrics_csv(rows: &[MetricRow]) -> String {
    let mut s = String::from("step,train_nll,heldout_nll,seconds\n");
    for r in rows {
        let h = r.heldout_nll.map(|h| h.to_string()).unwrap_or_default();
        s.push_str(&format!(
            "{},{},{},{:.4}\n",
            r.step, r.train_nll, h, r.seconds
        ));
    }
    s
}
