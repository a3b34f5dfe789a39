//! `cli train`: fit a flow by maximum likelihood with `flows::fit`, which keeps
//! the model that does best on held-out data, and leave a run folder a student
//! can put in a report.
//!
//! Run folder: model.json (the best checkpoint), metrics.csv (step, train NLL,
//! held-out NLL, seconds), train.csv and heldout.csv (the exact split), and the
//! figures.

use crate::args::TrainArgs;
use crate::checkpoint::{show_nll, Checkpoint, TrainResult, TrainingRecord};
use crate::csv::csv_text;
use crate::error::{fail, say, CliError, Result, INTERRUPTED};
use crate::figures;
use crate::files::{check_writable_dir, create_dir, refuse_overwriting_inputs, Staging};
use crate::limits;
use crate::metrics;
use crate::progress::Progress;
use crate::signals;
use crate::snapshots::Snapshots;
use crate::train_data::{self, Split};
use crate::training_gif;
use autograd::{Float, ParamStore};
use flows::data::ToyData;
use flows::evaluate;
use flows::{
    ConfigError, Fitted, FlowConfig, FlowModel, MetricRow, Observer, Precision, Stop, TrainConfig,
};
use rand::rngs::StdRng;
use std::path::{Path, PathBuf};

pub fn run(args: &TrainArgs) -> Result<()> {
    // Settings that do not depend on the data are checked before reading it.
    let before_data = args.train_config(2, 0);
    before_data.validate().map_err(flag_error)?;
    check_outputs(args)?;
    if let Some(threads) = args.threads {
        autograd::set_threads(threads)
            .map_err(|e| CliError::new(format!("--threads {threads}: {e}")))?;
    }
    // One generator for the data, the split and the minibatches.
    let mut rng = before_data.rng();
    let split = train_data::load(args, &mut rng)?;
    signals::check("while reading the data: nothing was written")?;
    let n = split.train.rows();
    let train_config = args.train_config(split.train.dim, n);
    train_config.validate().map_err(flag_error)?;
    let flow_config = args.flow_config(split.train.dim, n);
    flow_config.validate().map_err(flag_error)?;
    flow_config
        .check_precision(args.precision)
        .map_err(flag_error)?;
    train_config
        .check_precision(args.precision)
        .map_err(flag_error)?;
    if args.precision == Precision::F32 {
        check_data_fits_f32(&split)?;
    }
    match args.precision {
        Precision::F32 => train::<f32>(args, flow_config, &train_config, split, rng),
        Precision::F64 => train::<f64>(args, flow_config, &train_config, split, rng),
    }
}

/// The files a run writes into `--out`.
pub fn run_files(args: &TrainArgs) -> Vec<String> {
    let mut files: Vec<String> = RUN_FILES.map(String::from).to_vec();
    files.extend(figures::file_names(args.svg));
    if args.animate {
        files.push(figures::ANIMATION.to_string());
        files.push(training_gif::TRAINING_ANIMATION.to_string());
    }
    files
}

const RUN_FILES: [&str; 4] = ["model.json", "metrics.csv", "train.csv", "heldout.csv"];

/// Before any work: no output may land on an input, and `--out` must be a
/// folder we can write into.
fn check_outputs(args: &TrainArgs) -> Result<()> {
    let mut inputs: Vec<(&str, &Path)> = Vec::new();
    if ToyData::from_name(&args.data).is_none() {
        inputs.push(("--data", Path::new(&args.data)));
    }
    if let Some(test) = &args.test {
        inputs.push(("--test", test));
    }
    let outputs: Vec<(&str, PathBuf)> = run_files(args)
        .into_iter()
        .map(|name| ("--out", args.out.join(name)))
        .collect();
    refuse_overwriting_inputs(&inputs, &outputs)?;
    check_writable_dir("--out", &args.out)
}

/// Data that f32 cannot hold (it would become infinite and fail later with
/// a confusing message) is refused with a pointer to f64.
fn check_data_fits_f32(split: &Split) -> Result<()> {
    for (name, points) in [("training", &split.train), ("held-out", &split.heldout)] {
        if let Some(v) = points.data.iter().find(|v| v.abs() > f32::MAX as f64) {
            fail!(
                "{}: the {name} value {v:e} overflows f32 (largest {:e}); train with --precision f64",
                split.source,
                f32::MAX
            );
        }
    }
    Ok(())
}

/// A setting the library refuses, as the flag that set it:
/// `--eval-every 0: must be at least 1`.
pub fn flag_error(e: ConfigError) -> CliError {
    CliError::new(format!(
        "--{} {}: {}",
        e.field.replace('_', "-"),
        e.value,
        e.reason
    ))
}

/// Shows progress, turns Ctrl-C (or SIGTERM) into an early stop, and keeps
/// snapshots of the model for `--animate`.
struct Watch {
    progress: Progress,
    /// The steps of a run, for the progress count.
    steps: usize,
    /// Which noise level is running, when there are several.
    run_label: String,
    /// `--animate`: one set of snapshots per selection run (the winner's is
    /// drawn), or `None`.
    snapshots: Option<(usize, Vec<Snapshots>)>,
}

impl Observer for Watch {
    fn should_stop(&mut self) -> bool {
        signals::interrupted()
    }

    fn on_selection_run(&mut self, run: usize, runs: usize, noise: f64) {
        if runs > 1 {
            self.run_label = format!("noise {noise:.3} ({} of {runs}): ", run + 1);
        }
        if run > 0 {
            self.progress.restart(self.steps);
        }
        if let Some((params, runs)) = &mut self.snapshots {
            runs.push(Snapshots::new(self.steps, *params));
        }
    }

    fn on_step(&mut self, row: &MetricRow, _total: usize, latest_heldout: f64) {
        self.progress.show(
            row.step,
            &format!(
                "{}train NLL {:.4}  held-out {latest_heldout:.4}",
                self.run_label, row.train_nll
            ),
        );
    }

    fn on_params<G: Float>(&mut self, step: usize, params: &ParamStore<G>) {
        if let Some(snapshots) = self
            .snapshots
            .as_mut()
            .and_then(|(_, runs)| runs.last_mut())
        {
            snapshots.offer(step, params);
        }
    }

    fn on_refit_step(&mut self, step: usize, total: usize, train_nll: f64) {
        if step == 1 {
            self.progress.restart(total);
        }
        self.progress.show(
            step,
            &format!("refit on all points: train NLL {train_nll:.4}"),
        );
    }
}

fn train<F: Float>(
    args: &TrainArgs,
    flow_config: FlowConfig,
    train_config: &TrainConfig,
    split: Split,
    mut rng: StdRng,
) -> Result<()> {
    let n = split.train.rows();
    let steps = train_config.total_steps(n).map_err(flag_error)?;
    let points = n + split.heldout.rows();
    let float_bytes = std::mem::size_of::<F>() as u64;
    limits::check_training(args, &flow_config, train_config, float_bytes, points, steps)?;
    let mut store = ParamStore::<F>::new();
    let model = FlowModel::new(flow_config, &mut store).map_err(flag_error)?;
    signals::check("while building the model: nothing was written")?;
    let mut watch = Watch {
        progress: Progress::new(steps),
        steps,
        run_label: String::new(),
        snapshots: (args.animate && split.train.dim == 2)
            .then(|| (store.num_trainable(), Vec::new())),
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
    .map_err(|e| CliError::new(format!("{}: {e}", split.source)))?;
    watch.progress.finish();
    warn_about_outliers(&fitted, &split);

    // The numbers we report, in f64: the same computation `cli eval` does
    // on the same data, so the two agree. The held-out NLL is the selected
    // model's: a refit model has trained on those points.
    let store64 = fitted.best.cast::<f64>();
    let result = TrainResult::new(
        fitted.best_step,
        evaluate::mean_nll(&model, &store64, &split.train.to_tensor()),
        evaluate::mean_nll(
            &model,
            &fitted.selected.cast::<f64>(),
            &split.heldout.to_tensor(),
        ),
    );
    let mut staging = Staging::new();
    let mut files = stage_run(
        &mut staging,
        args,
        train_config,
        &model,
        &fitted,
        &split,
        &result,
    )?;
    let finished = fitted.stop == Stop::Finished;
    if finished && !args.no_plots {
        files.extend(figures::draw_all(
            &mut staging,
            &args.out,
            &model,
            &store64,
            &split.train,
            &fitted.metrics,
            figures::Marks {
                kept_step: Some(fitted.best_step),
                entropy: split.entropy,
            },
            args.svg,
            train_config.seed,
        )?);
    }
    if finished && args.animate {
        let run = training_gif::Run {
            model: &model,
            kept: (&store64, fitted.best_step),
            train: &split.train,
            heldout: &split.heldout,
            total_steps: steps,
            entropy: split.entropy,
            seed: train_config.seed,
        };
        let winner = fitted
            .noise_trials
            .iter()
            .position(|&(level, _)| level == fitted.input_noise);
        let snapshots = watch
            .snapshots
            .as_ref()
            .zip(winner)
            .and_then(|((_, runs), i)| runs.get(i));
        files.extend(animate(&mut staging, args, &run, snapshots)?);
    }
    staging.commit()?;
    finish(args, &model, &fitted, &split, &result, &files)
}

/// Stages the `--animate` GIFs (2-D data only): the data flowing through
/// the kept model, and the model over training from the snapshots.
fn animate(
    staging: &mut Staging,
    args: &TrainArgs,
    run: &training_gif::Run,
    snapshots: Option<&Snapshots>,
) -> Result<Vec<String>> {
    let (model, store) = (run.model, run.kept.0);
    let mut files: Vec<String> = figures::animate(staging, &args.out, model, store, run.train)?
        .into_iter()
        .collect();
    if let Some(snapshots) = snapshots {
        files.extend(training_gif::animate(staging, &args.out, snapshots, run)?);
    }
    Ok(files)
}

/// The end of a run: the summary, or why it stopped early (the best model
/// so far is saved either way).
fn finish<F: Float>(
    args: &TrainArgs,
    model: &FlowModel,
    fitted: &Fitted<F>,
    split: &Split,
    result: &TrainResult,
    files: &[String],
) -> Result<()> {
    let kept = format!(
        "kept the best model so far (step {}, held-out NLL {}) in {}",
        result.best_step,
        show_nll(result.heldout_nll),
        args.out.join("model.json").display()
    );
    match fitted.stop {
        Stop::Diverged { at_step } => fail!(
            "training diverged at step {at_step} (the loss or its gradient is not finite); {kept}. \
             Try a smaller --lr or --clamp."
        ),
        Stop::Interrupted { at_step } => Err(CliError {
            message: format!("interrupted at step {at_step}: {kept}, without figures"),
            status: INTERRUPTED,
        }),
        Stop::Finished => print_summary(args, model, fitted, split, result, files),
    }
}

/// Held-out rows left out of model selection, named so the user can look.
fn warn_about_outliers<F>(fitted: &Fitted<F>, split: &Split) {
    for (row, nll) in fitted.outliers.iter().take(5) {
        eprintln!(
            "warning: held-out row {} has an NLL of {nll:.3e} under the initial model, far beyond the \
             others: an outlier? It was left out when choosing the best model.",
            row + 1
        );
    }
    if fitted.outliers.len() > 5 {
        eprintln!(
            "warning: {} held-out rows in all were left out as outliers (of {})",
            fitted.outliers.len(),
            split.heldout.rows()
        );
    }
}

/// Stages the checkpoint, metrics.csv and the split for the run folder;
/// returns the file names.
#[allow(clippy::too_many_arguments)]
fn stage_run<F: Float>(
    staging: &mut Staging,
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
        refit_points: fitted.refit.map(|r| r.points),
        input_noise: Some(fitted.input_noise),
    };
    let checkpoint = Checkpoint::new(model, &fitted.best, training, result.clone());
    let path = args.out.join(RUN_FILES[0]);
    staging.bytes(&path, &checkpoint.to_json(&path)?)?;
    let metrics_text = metrics::to_csv(&fitted.metrics);
    staging.bytes(&args.out.join(RUN_FILES[1]), metrics_text.as_bytes())?;
    for (name, points) in [(RUN_FILES[2], &split.train), (RUN_FILES[3], &split.heldout)] {
        let text = csv_text(points, points.header.as_deref());
        staging.bytes(&args.out.join(name), text.as_bytes())?;
    }
    Ok(RUN_FILES.map(String::from).to_vec())
}

/// The summary's line on the input noise: the level kept, and the held-out
/// NLL of each level tried when there were several; `None` for no noise.
fn noise_line<F>(fitted: &Fitted<F>) -> Option<String> {
    let kept = fitted.input_noise;
    match fitted.noise_trials.as_slice() {
        [] | [(_, _)] if kept == 0.0 => None,
        [] | [(_, _)] => Some(format!("{kept:.3} × each column's std")),
        trials => {
            let others: Vec<String> = trials
                .iter()
                .map(|(level, nll)| format!("{level:.3}: {}", show_nll(Some(*nll))))
                .collect();
            Some(format!(
                "{kept:.3} × each column's std, chosen on the held-out points ({})",
                others.join(", ")
            ))
        }
    }
}

fn print_summary<F: Float>(
    args: &TrainArgs,
    model: &FlowModel,
    fitted: &Fitted<F>,
    split: &Split,
    result: &TrainResult,
    files: &[String],
) -> Result<()> {
    let (n, done) = (split.train.rows(), fitted.steps_taken());
    say!(
        "Trained {} ({} layers, {} parameters, {}) on {}: {n} train / {} held-out points",
        model.config.describe(),
        model.config.layers,
        fitted.best.num_trainable(),
        F::NAME,
        split.source,
        split.heldout.rows()
    )?;
    say!("  train NLL     {} nats/point", show_nll(result.train_nll))?;
    say!(
        "  held-out NLL  {} nats/point  (best model, step {} of {done})",
        show_nll(result.heldout_nll),
        result.best_step
    )?;
    if let Some(refit) = fitted.refit {
        say!(
            "  refit         on all {} points for {} steps: the model kept ({:.1} s)",
            refit.points,
            refit.steps,
            refit.seconds
        )?;
    }
    if let Some(noise) = noise_line(fitted) {
        say!("  input noise   {noise}")?;
    }
    if let Some(h) = split.entropy {
        say!("  entropy       {h:.4} nats/point  (of the true density: the lowest NLL possible on average)")?;
    }
    say!(
        "  time          {:.1} s  ({:.0} steps/s, batch {})",
        fitted.seconds,
        fitted.steps_run as f64 / fitted.seconds.max(1e-9),
        fitted.batch
    )?;
    say!(
        "  files         {}/: {}",
        args.out.display(),
        files.join(", ")
    )
}
