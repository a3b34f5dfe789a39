//! `cli vi`: fit a flow to an unnormalized density by variational inference
//! (`flows::fit_variational`), report how close it came, and leave a run
//! folder: model.json (which `sample` and `eval` read), metrics.csv (step,
//! β, loss, ELBO, seconds) and the figures of `vi_figures.rs`.

use crate::args::ViArgs;
use crate::checkpoint::{Checkpoint, TrainResult, TrainingRecord, VariationalRecord};
use crate::error::{fail, say, CliError, Result, INTERRUPTED};
use crate::files::{check_writable_dir, create_dir, Staging};
use crate::limits;
use crate::progress::Progress;
use crate::signals;
use crate::train::flag_error;
use crate::vi_figures;
use autograd::ParamStore;
use flows::energies::Normalizer;
use flows::{
    diagnose, fit_variational, Diagnostics, Energy, FlowModel, Schedule, Stop, Target, ViConfig,
    ViFitted, ViObserver, ViRow,
};

/// The files a run writes into `--out`, before the figures.
const RUN_FILES: [&str; 2] = ["model.json", "metrics.csv"];

pub fn run(args: &ViArgs) -> Result<()> {
    let energy =
        Energy::parse(&args.target).map_err(|e| CliError::new(format!("--target: {e}")))?;
    let dim = Target::<f64>::dim(&energy);
    let flow_config = args.flow_config(dim);
    flow_config.validate().map_err(flag_error)?;
    let config = args.vi_config(&flow_config);
    config.validate().map_err(flag_error)?;
    if args.final_samples == 0 {
        fail!("--final-samples 0: must be at least 1");
    }
    limits::check_variational(&flow_config, &config)?;
    check_writable_dir("--out", &args.out)?;

    let mut store = ParamStore::<f64>::new();
    let model = FlowModel::new(flow_config, &mut store).map_err(flag_error)?;
    let mut watch = Watch {
        progress: Progress::new(config.steps),
        latest_elbo: None,
    };
    let mut rng = config.rng();
    let fitted = fit_variational(&model, &mut store, &energy, &config, &mut rng, &mut watch)
        .map_err(|e| CliError::new(format!("--target {}: {e}", args.target)))?;
    watch.progress.finish();
    match fitted.stop {
        Stop::Interrupted { at_step } => {
            return Err(CliError {
                message: format!("interrupted at step {at_step}: nothing was written"),
                status: INTERRUPTED,
            })
        }
        Stop::Diverged { at_step } => fail!(
            "the fit diverged at step {at_step} (the loss or its gradient is not finite); \
             nothing was written. Try a smaller --lr or a smaller --beta-start."
        ),
        Stop::Finished => {}
    }
    let log_z = LogZ::of(&energy);
    let found = diagnose(&model, &store, &energy, args.final_samples, &mut rng);
    signals::check("while measuring the fit: nothing was written")?;

    let mut staging = Staging::new();
    create_dir(&args.out)?;
    let checkpoint = checkpoint(args, &config, &model, &store, &fitted, &found, log_z);
    let path = args.out.join(RUN_FILES[0]);
    staging.bytes(&path, &checkpoint.to_json(&path)?)?;
    staging.bytes(
        &args.out.join(RUN_FILES[1]),
        metrics_csv(&fitted.metrics).as_bytes(),
    )?;
    let mut files: Vec<String> = RUN_FILES.map(String::from).to_vec();
    if !args.no_plots && dim == 2 {
        let figures = vi_figures::Inputs {
            energy: &energy,
            log_z: log_z.value,
            model: &model,
            store: &store,
            metrics: &fitted.metrics,
            seed: config.seed,
        };
        files.extend(vi_figures::draw_all(
            &mut staging,
            &args.out,
            &figures,
            args.svg,
        )?);
    }
    staging.commit()?;
    summary(
        args, &config, &model, &store, &fitted, &found, log_z, &files,
    )
}

/// log Z of a built-in target (every one has it) and how it was found.
#[derive(Clone, Copy)]
struct LogZ {
    value: f64,
    how: &'static str,
}

impl LogZ {
    fn of(energy: &Energy) -> Self {
        let how = match energy.normalizer() {
            Normalizer::Exact(_) => "exact",
            Normalizer::Quadrature(_) => "quadrature",
        };
        LogZ {
            value: energy.log_z(),
            how,
        }
    }
}

/// Shows progress and turns Ctrl-C (or SIGTERM) into an early stop.
struct Watch {
    progress: Progress,
    latest_elbo: Option<f64>,
}

impl ViObserver for Watch {
    fn should_stop(&mut self) -> bool {
        signals::interrupted()
    }

    fn on_step(&mut self, row: &ViRow, _total: usize) {
        if row.elbo.is_some() {
            self.latest_elbo = row.elbo;
        }
        let elbo = self.latest_elbo.map_or("–".into(), |e| format!("{e:.4}"));
        self.progress.show(
            row.step,
            &format!("loss {:.4}  β {:.3}  ELBO {elbo}", row.loss, row.beta),
        );
    }
}

/// One line per step: `step,beta,loss,elbo,seconds` (ELBO empty where not
/// measured; the loss of row 0, before any step, is empty too).
fn metrics_csv(rows: &[ViRow]) -> String {
    let mut s = String::from("step,beta,loss,elbo,seconds\n");
    let show = |v: Option<f64>| {
        v.filter(|v| v.is_finite())
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    for r in rows {
        s.push_str(&format!(
            "{},{},{},{},{:.4}\n",
            r.step,
            r.beta,
            show(Some(r.loss)),
            show(r.elbo),
            r.seconds
        ));
    }
    s
}

fn checkpoint(
    args: &ViArgs,
    config: &ViConfig,
    model: &FlowModel,
    store: &ParamStore<f64>,
    fitted: &ViFitted,
    found: &Diagnostics,
    log_z: LogZ,
) -> Checkpoint {
    let steps = fitted.metrics.last().map_or(0, |r| r.step);
    let training = TrainingRecord {
        data: format!("target {}", args.target),
        train_points: 0,
        heldout_points: 0,
        steps,
        batch: config.samples,
        lr: config.lr,
        schedule: Schedule::Cosine,
        clip: config.clip,
        seed: config.seed,
        seconds: fitted.seconds,
        refit_points: None,
        input_noise: None,
    };
    let result = TrainResult {
        best_step: steps,
        train_nll: None,
        heldout_nll: None,
    };
    let finite = |v: f64| v.is_finite().then_some(v);
    let mut checkpoint = Checkpoint::new(model, store, training, result);
    checkpoint.variational = Some(VariationalRecord {
        target: args.target.clone(),
        beta_start: config.beta_start,
        anneal: config.anneal,
        samples: found.samples,
        elbo: finite(found.elbo),
        elbo_se: finite(found.elbo_se),
        log_z: finite(log_z.value),
        kl: finite(found.kl(log_z.value)),
        log_z_is: finite(found.log_z_is),
        ess_fraction: finite(found.ess_fraction),
    });
    checkpoint
}

#[allow(clippy::too_many_arguments)]
fn summary(
    args: &ViArgs,
    config: &ViConfig,
    model: &FlowModel,
    store: &ParamStore<f64>,
    fitted: &ViFitted,
    found: &Diagnostics,
    log_z: LogZ,
    files: &[String],
) -> Result<()> {
    let steps = fitted.metrics.last().map_or(0, |r| r.step);
    say!(
        "Fitted {} ({} layers, {} parameters) to the target {} by reverse KL",
        model.config.describe(),
        model.config.layers,
        store.num_trainable(),
        args.target
    )?;
    say!(
        "  ELBO          {:.4} ± {:.4} nats  ({} fresh samples)",
        found.elbo,
        found.elbo_se,
        found.samples
    )?;
    say!("  log Z         {:.4} nats  ({})", log_z.value, log_z.how)?;
    say!(
        "  KL(q‖p)       {:.4} ± {:.4} nats  (log Z − ELBO: 0 is a perfect fit)",
        found.kl(log_z.value),
        found.elbo_se
    )?;
    say!(
        "  IS log Z      {:.4} nats  (importance-sampling estimate)",
        found.log_z_is
    )?;
    say!(
        "  ESS           {:.1} % of the samples  (effective sample size of the weights p~/q)",
        100.0 * found.ess_fraction
    )?;
    say!(
        "  time          {:.1} s  ({:.0} steps/s, {} samples per step)",
        fitted.seconds,
        steps as f64 / fitted.seconds.max(1e-9),
        config.samples
    )?;
    say!(
        "  files         {}/: {}",
        args.out.display(),
        files.join(", ")
    )
}
