//! `cli train`: fit a flow by maximum likelihood with `flows::fit`, which keeps
//! the model that does best on held-out data, and leave a run folder a student
//! can put in a report.
//!
//! Run folder: model.json (the best checkpoint), metrics.csv (step, train NLL,
//! held-out NLL, seconds), train.csv and heldout.csv (the exact split), and the
//! figures.

use crate::args::TrainArgs;
use crate::checkpoint::{Checkpoint, TrainResult, TrainingRecord};
use crate::csv::csv_text;
use crate::error::{fail, say, CliError, Result};
use crate::figures;
use crate::files::{create_dir, write_file};
use crate::metrics;
use crate::progress::Progress;
use crate::train_data::{self, Split};
use autograd::{Float, ParamStore};
use flows::{
    ConfigError, Fitted, FlowConfig, FlowKind, FlowModel, MetricRow, Observer, Precision, Stop,
    TrainConfig,
};
use rand::rngs::StdRng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub fn run(args: &TrainArgs) -> Result<()> {
    let train_config = args.train_config();
    train_config.validate().map_err(flag_error)?;
    if let Some(threads) = args.threads {
        autograd::set_threads(threads)
            .map_err(|e| CliError(format!("--threads {threads}: {e}")))?;
    }
    let mut rng = train_config.rng();
    let split = train_data::load(args, &mut rng)?;
    let flow_config = args.flow_config(split.train.dim);
    flow_config.validate().map_err(flag_error)?;
    match args.precision {
        Precision::F32 => train::<f32>(args, flow_config, &train_config, split, rng),
        Precision::F64 => train::<f64>(args, flow_config, &train_config, split, rng),
    }
}

/// A setting the library refuses, as the flag that set it:
/// `--eval-every 0: must be at least 1`.
fn flag_error(e: ConfigError) -> CliError {
    CliError(format!(
        "--{} {}: {}",
        e.field.replace('_', "-"),
        e.value,
        e.reason
    ))
}

/// Shows progress and turns Ctrl-C into an early stop.
struct Watch {
    progress: Progress,
    interrupted: Arc<AtomicBool>,
}

impl Observer for Watch {
    fn should_stop(&mut self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    fn on_step(&mut self, row: &MetricRow, _total: usize, latest_heldout: f64) {
        self.progress
            .update(row.step, row.train_nll, Some(latest_heldout));
    }
}

fn train<F: Float>(
    args: &TrainArgs,
    flow_config: FlowConfig,
    train_config: &TrainConfig,
    split: Split,
    mut rng: StdRng,
) -> Result<()> {
    let mut store = ParamStore::<F>::new();
    let model = FlowModel::new(flow_config, &mut store).map_err(flag_error)?;
    let steps = train_config
        .total_steps(split.train.rows())
        .map_err(flag_error)?;
    // Ctrl-C ends training early but still saves the best model and figures.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let mut watch = Watch {
        progress: Progress::new(steps),
        interrupted,
    };
    let (train_t, heldout_t) = (split.train.to_tensor::<F>(), split.heldout.to_tensor::<F>());
    let fitted = flows::fit(
        &model,
        &mut store,
        &train_t,
        &heldout_t,
        train_config,
        &mut rng,
        &mut watch,
    )
    .map_err(|e| CliError(format!("{}: {e}", split.source)))?;
    watch.progress.finish();
    if let Stop::Interrupted { at_step } = fitted.stop {
        eprintln!("interrupted at step {at_step}: saving the best model so far");
    }

    // The numbers we report, in f64 from the best parameters: the same
    // computation `cli eval` does on the same data, so the two agree.
    let store64 = fitted.best.cast::<f64>();
    let result = TrainResult {
        best_step: fitted.best_step,
        train_nll: model.nll(&store64, &split.train.to_tensor()).item(),
        heldout_nll: model.nll(&store64, &split.heldout.to_tensor()).item(),
    };
    let mut files = save_run(args, train_config, &model, &fitted, &split, &result)?;
    if let Stop::Diverged { at_step } = fitted.stop {
        fail!(
            "training diverged at step {at_step} (the loss or its gradient is not finite); kept the best model so far \
             (step {}, held-out NLL {:.4}) in {}. Try a smaller --lr or --clamp.",
            result.best_step,
            result.heldout_nll,
            args.out.join("model.json").display()
        );
    }
    if !args.no_plots {
        files.extend(figures::draw_all(
            &args.out,
            &model,
            &store64,
            &split.train,
            &fitted.metrics,
            args.svg,
            train_config.seed,
        )?);
    }
    print_summary(args, &model, &fitted, &split, &result, &files);
    Ok(())
}

/// Writes the checkpoint, metrics.csv and the split into the run folder;
/// returns the file names.
fn save_run<F: Float>(
    args: &TrainArgs,
    train_config: &TrainConfig,
    model: &FlowModel,
    fitted: &Fitted<F>,
    split: &Split,
    result: &TrainResult,
) -> Result<Vec<String>> {
    create_dir(&args.out)?;
    let training = TrainingRecord {
        data: split.source.clone(),
        train_points: split.train.rows(),
        heldout_points: split.heldout.rows(),
        steps: fitted.steps_taken(),
        batch: fitted.batch,
        lr: train_config.lr,
        schedule: train_config.schedule,
        clip: train_config.clip,
        seed: train_config.seed,
        seconds: fitted.seconds,
    };
    let checkpoint = Checkpoint::new(model, &fitted.best, training, result.clone());
    checkpoint.save(&args.out.join("model.json"))?;
    let metrics_text = metrics::to_csv(&fitted.metrics);
    write_file(&args.out.join("metrics.csv"), metrics_text.as_bytes())?;
    for (name, points) in [("train.csv", &split.train), ("heldout.csv", &split.heldout)] {
        let text = csv_text(points, points.header.as_deref());
        write_file(&args.out.join(name), text.as_bytes())?;
    }
    Ok(["model.json", "metrics.csv", "train.csv", "heldout.csv"]
        .map(String::from)
        .to_vec())
}

fn print_summary<F: Float>(
    args: &TrainArgs,
    model: &FlowModel,
    fitted: &Fitted<F>,
    split: &Split,
    result: &TrainResult,
    files: &[String],
) {
    let kind = match model.config.kind {
        FlowKind::Affine => "an affine coupling",
        FlowKind::Additive => "an additive coupling",
        FlowKind::Planar => "a planar",
    };
    let (n, done) = (split.train.rows(), fitted.steps_taken());
    say!(
        "Trained {kind} flow ({} layers, {} parameters, {}) on {}: {n} train / {} held-out points",
        model.config.layers,
        fitted.best.num_trainable(),
        F::NAME,
        split.source,
        split.heldout.rows()
    );
    say!("  train NLL     {:.4} nats/point", result.train_nll);
    say!(
        "  held-out NLL  {:.4} nats/point  (best model, step {} of {done})",
        result.heldout_nll,
        result.best_step
    );
    if let Some(h) = split.entropy {
        say!("  entropy       {h:.4} nats/point  (of the true density: the lowest NLL possible on average)");
    }
    say!(
        "  time          {:.1} s  ({:.0} steps/s, batch {})",
        fitted.seconds,
        done as f64 / fitted.seconds.max(1e-9),
        fitted.batch
    );
    say!(
        "  files         {}/: {}",
        args.out.display(),
        files.join(", ")
    );
}
