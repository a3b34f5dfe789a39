//! The command line, declared with clap's derive API: every flag and its help
//! text live here. The defaults of the model and of training are the flows
//! library's (`FlowConfig::new`, `TrainConfig::default`): the flags are
//! `Option`s put over them, and the help shows the library's values.

use autograd::Activation;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand};
use flows::energies::ENERGY_HELP;
use flows::{
    Batch, Budget, FlowConfig, FlowKind, Mixing, Named, Precision, Schedule, TrainConfig, ViConfig,
};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "cli",
    version,
    about = "Normalizing flows you can read: train, sample, evaluate and plot.",
    long_about = "Normalizing flows you can read: train, sample, evaluate and plot.\n\n\
                  Start with `cli train` (two moons, about half a minute), then look at the\n\
                  figures in runs/latest/. `cli tape` prints reverse-mode autodiff at work."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fit a flow to a toy data set or a CSV file and draw the figures.
    Train(Box<TrainArgs>),
    /// Draw samples from a trained model (CSV to standard output or a file).
    Sample(SampleArgs),
    /// Mean negative log-likelihood of a CSV file under a trained model.
    Eval(EvalArgs),
    /// Redraw the figures of a trained model.
    Plot(PlotArgs),
    /// Print the tape of one affine coupling layer: forward list, adjoint program, gradients.
    Tape(TapeArgs),
    /// Time the reference workload (6 affine couplings, full-batch moons) and inference.
    Bench(BenchArgs),
    /// Train with the defaults (or the flags after --) on toy data sets and CSV files, and score on points no run saw: the quality table.
    Report(ReportArgs),
    /// Fit a flow to an unnormalized density by variational inference (reverse KL).
    Vi(ViArgs),
}

/// `[default: …]` after a help text: the default shown is the one the flows
/// library uses (`FlowConfig::new`, `TrainConfig::default`), never a copy.
fn with_default(text: &str, default: impl std::fmt::Display) -> String {
    format!("{text} [default: {default}]")
}

/// Parses one of a [`Named`] type's names, listing them in help and errors.
fn named<T: Named + Send + Sync>() -> impl TypedValueParser<Value = T> {
    let values = T::ALL
        .iter()
        .map(|c| PossibleValue::new(c.name()).help(c.about()));
    PossibleValuesParser::new(values)
        .map(|name| T::from_name(&name).expect("clap accepts only the names of T::ALL"))
}

fn flow_default() -> FlowConfig {
    FlowConfig::new(2)
}

fn train_default() -> TrainConfig {
    TrainConfig::default()
}

/// Input-noise levels as `--input-noise` takes them: `0.105,0.420`.
pub fn noise_levels(levels: &[f64]) -> String {
    let shown: Vec<String> = levels.iter().map(|s| format!("{s:.3}")).collect();
    shown.join(",")
}

/// Flags of `train`. Every architecture and training flag is an `Option`:
/// unset, the library's default applies (see [`TrainArgs::flow_config`]).
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// A toy data set (moons, circles, checkerboard, 8gaussians, pinwheel, 2spirals,
    /// rings, sine) or the path of a CSV file (one point per row, optional header).
    #[arg(long, default_value = "moons")]
    pub data: String,
    /// How many points to draw from a toy data set.
    #[arg(long, default_value_t = 3000)]
    pub points: usize,
    /// Noise of the moons data set (standard deviation).
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pub noise: f64,
    /// Held-out points from this CSV file instead of a split of the data.
    #[arg(long, value_name = "FILE.csv")]
    pub test: Option<PathBuf>,
    /// Held out for validation: a fraction of the data (0 < f < 1) or a number of points.
    #[arg(long, default_value = "0.2")]
    pub holdout: String,

    #[arg(long, value_parser = named::<FlowKind>(),
          help = with_default("Kind of flow layer", flow_default().kind.name()))]
    pub flow: Option<FlowKind>,
    #[arg(long, value_name = "N",
          help = with_default("Number of flow steps (coupling, autoregressive or planar layers); by default 3, growing to 8 for 20,000 training points", flow_default().layers))]
    pub layers: Option<usize>,
    #[arg(long, value_name = "N",
          help = with_default("Width of the hidden layers of the conditioner networks; by default 32, 64 from about 7,700 training points", flow_default().hidden))]
    pub hidden: Option<usize>,
    #[arg(long, value_name = "N",
          help = with_default("Number of hidden layers of the coupling networks", flow_default().depth))]
    pub depth: Option<usize>,
    #[arg(long, value_parser = named::<Activation>(),
          help = with_default("Hidden activation of the coupling networks", flow_default().activation.name()))]
    pub activation: Option<Activation>,
    #[arg(long, value_name = "BOOL", action = ArgAction::Set,
          help = with_default("ActNorm before each coupling layer (true/false)", flow_default().actnorm))]
    pub actnorm: Option<bool>,
    #[arg(long, value_parser = named::<Mixing>(),
          help = with_default("How coupling layers take turns over the dimensions", flow_default().mixing.name()))]
    pub mixing: Option<Mixing>,
    /// One network for the scale and shift instead of two.
    #[arg(long)]
    pub shared_net: bool,
    #[arg(long, value_name = "C", allow_negative_numbers = true,
          help = with_default("Bound c on the log-scale of affine coupling: s = c·tanh(ŝ/c)", flow_default().clamp))]
    pub clamp: Option<f64>,

    #[arg(long, value_name = "K",
          help = with_default("Bins of the spline and piecewise-linear transforms; by default 8, 16 from about 7,700 training points", flow_default().bins))]
    pub bins: Option<usize>,
    #[arg(long, value_name = "B",
          help = with_default("Those transforms act on [-B, B] (standardized units), the identity outside", flow_default().bound))]
    pub bound: Option<f64>,

    #[arg(long, value_name = "N", help = steps_help())]
    pub steps: Option<usize>,
    /// Train for this many passes over the data instead of --steps.
    #[arg(long, value_name = "N", conflicts_with = "steps")]
    pub epochs: Option<usize>,
    #[arg(long, value_name = "N|full", value_parser = parse_batch,
          help = with_default("Minibatch size, or \"full\" for the whole training set every step", train_default().batch))]
    pub batch: Option<Batch>,
    #[arg(long, value_name = "LR", allow_negative_numbers = true,
          help = with_default("Peak learning rate of Adam", train_default().lr))]
    pub lr: Option<f64>,
    #[arg(long, value_parser = named::<Schedule>(),
          help = with_default("Learning-rate schedule", train_default().schedule.name()))]
    pub schedule: Option<Schedule>,
    #[arg(long, value_name = "NORM", allow_negative_numbers = true,
          help = with_default("Largest gradient norm let through (clipping)", train_default().clip))]
    pub clip: Option<f64>,
    #[arg(long, value_name = "N",
          help = with_default("Evaluate the held-out NLL every this many steps (by default 50; 10 below 1000 training points)", train_default().eval_every))]
    pub eval_every: Option<usize>,
    #[arg(long, value_name = "L",
          help = with_default("L2 weight decay of Adam", train_default().weight_decay))]
    pub weight_decay: Option<f64>,
    #[arg(long, value_name = "A",
          help = with_default("Judge and keep the running average of the parameters, decay A per step (0: the parameters themselves)", train_default().averaging))]
    pub averaging: Option<f64>,
    #[arg(long, value_name = "S[,S...]", allow_negative_numbers = true, value_delimiter = ',',
          help = with_default("Noise regularization: Gaussian noise of S standard deviations of each column added to every minibatch, annealed with the learning rate; with several levels, one training run at each and the held-out points choose. By default 0.4 and 1.6 × Silverman's bandwidth for the data's size and dimension; above 3000 training points only the lower one, fading out to none at 20,000 (0: none)", noise_levels(&train_default().input_noise)))]
    pub input_noise: Option<Vec<f64>>,
    #[arg(long, value_name = "BOOL", action = ArgAction::Set,
          help = with_default("After choosing the best step on the held-out points, train again on all the points for that many steps and keep that model (true/false; never with --test, whose points stay unseen)", train_default().refit))]
    pub refit: Option<bool>,
    #[arg(long, value_name = "SEED",
          help = with_default("Seed of the data, the split, the initialization and the minibatches", train_default().seed))]
    pub seed: Option<u64>,
    /// Threads for the big ops: products, dense layers, evaluation (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Float precision of training.
    #[arg(long, value_parser = named::<Precision>(), default_value = "f32")]
    pub precision: Precision,

    /// Run folder: checkpoint, metrics.csv, data and figures.
    #[arg(long, default_value = "runs/latest")]
    pub out: PathBuf,
    /// Also write every figure as SVG.
    #[arg(long)]
    pub svg: bool,
    /// Skip the figures.
    #[arg(long)]
    pub no_plots: bool,
    /// Also write 7_flow.gif (the data flowing through the flow, layer by layer) and
    /// 8_training.gif (the density and samples over training); 2-D data.
    #[arg(long)]
    pub animate: bool,
}

fn steps_help() -> String {
    let steps = match train_default().budget {
        Budget::Steps(s) => s.to_string(),
        Budget::Epochs(e) => format!("{e} epochs"),
    };
    with_default("Optimizer steps (one minibatch each); by default 2000, growing to 6000 for 20,000 training points", steps)
}

fn parse_batch(s: &str) -> Result<Batch, String> {
    s.parse()
}

impl TrainArgs {
    /// The seed of the run (the flag, or the library's default).
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(train_default().seed)
    }

    /// The library's architecture for `n` training points of dimension
    /// `dim`, with every flag that was given put over it.
    pub fn flow_config(&self, dim: usize, n: usize) -> FlowConfig {
        let d = FlowConfig::for_data(dim, n);
        FlowConfig {
            dim,
            kind: self.flow.unwrap_or(d.kind),
            layers: self.layers.unwrap_or(d.layers),
            hidden: self.hidden.unwrap_or(d.hidden),
            depth: self.depth.unwrap_or(d.depth),
            activation: self.activation.unwrap_or(d.activation),
            actnorm: self.actnorm.unwrap_or(d.actnorm),
            mixing: self.mixing.unwrap_or(d.mixing),
            shared_net: self.shared_net || d.shared_net,
            clamp: self.clamp.unwrap_or(d.clamp),
            bins: self.bins.unwrap_or(d.bins),
            bound: self.bound.unwrap_or(d.bound),
            direction: d.direction,
            seed: self.seed(),
        }
    }

    /// The library's training settings for `n` training points of dimension
    /// `dim`, with every
    /// flag that was given put over them.
    pub fn train_config(&self, dim: usize, n: usize) -> TrainConfig {
        let d = TrainConfig::for_data(dim, n);
        let budget = match (self.epochs, self.steps) {
            (Some(e), _) => Budget::Epochs(e),
            (None, Some(s)) => Budget::Steps(s),
            (None, None) => d.budget,
        };
        TrainConfig {
            budget,
            batch: self.batch.unwrap_or(d.batch),
            lr: self.lr.unwrap_or(d.lr),
            schedule: self.schedule.unwrap_or(d.schedule),
            clip: self.clip.unwrap_or(d.clip),
            eval_every: self.eval_every.unwrap_or(d.eval_every),
            weight_decay: self.weight_decay.unwrap_or(d.weight_decay),
            averaging: self.averaging.unwrap_or(d.averaging),
            input_noise: self.input_noise.clone().unwrap_or(d.input_noise),
            refit: self.test.is_none() && self.refit.unwrap_or(d.refit),
            seed: self.seed(),
        }
    }
}

#[derive(Args, Debug)]
pub struct SampleArgs {
    /// Checkpoint written by `train` (model.json).
    #[arg(long, value_name = "CKPT")]
    pub model: PathBuf,
    /// Number of samples.
    #[arg(short = 'n', long = "num", default_value_t = 1000)]
    pub n: usize,
    /// Write the samples here instead of standard output.
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[arg(long, value_name = "CKPT")]
    pub model: PathBuf,
    /// Points to evaluate (CSV).
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Print one JSON object {"nll", "n", "dim"} instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write each point's negative log-likelihood to this CSV file.
    #[arg(long, value_name = "FILE.csv")]
    pub per_point: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PlotArgs {
    #[arg(long, value_name = "CKPT")]
    pub model: PathBuf,
    /// Data to draw with the model (default: the train.csv saved beside the checkpoint).
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    /// Folder for the figures (default: the checkpoint's folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write every figure as SVG.
    #[arg(long)]
    pub svg: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct TapeArgs {
    /// Print the graph in Graphviz DOT instead (pipe it to `dot -Tsvg`).
    #[arg(long)]
    pub dot: bool,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Timed epochs per repeat (one full-batch step each).
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Repeats of --epochs timed epochs; the median is over all of them.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Untimed epochs first.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Threads for the big ops: products, dense layers, evaluation (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Float precision.
    #[arg(long, value_parser = named::<Precision>(), default_value = "f32")]
    pub precision: Precision,
    /// Training points (two moons, noise 0.05).
    #[arg(long, default_value_t = 3000)]
    pub points: usize,
    /// Width of the networks' two hidden layers.
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    /// Points to evaluate and to sample for the inference timing (0: skip).
    #[arg(long, default_value_t = 100_000)]
    pub infer: usize,
    /// Seed of the data and the initialization.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object (the keys of bench/torch_reference.py and more).
    #[arg(long)]
    pub json: bool,
    /// Run the workload at each of several sizes instead of one: `points`
    /// (1000 … 100,000 at --hidden) or `hidden` (32 … 512 at --points); one
    /// line (or JSON object) per size.
    #[arg(long, value_parser = ["points", "hidden"])]
    pub sweep: Option<String>,
    /// Draw the scaling figure from the JSON lines of `--sweep … --json` runs
    /// (any thread counts, both sweeps) in FILE instead of timing anything.
    #[arg(long, value_name = "FILE", requires = "out", conflicts_with = "sweep")]
    pub draw: Option<PathBuf>,
    /// The figure --draw writes (.png or .svg).
    #[arg(long, value_name = "FILE", requires = "draw")]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Toy data sets or CSV files to train on (comma separated). A CSV file's
    /// rows are split afresh for each seed: a fifth set aside to score on
    /// (written to OUT/splits/), the rest trained on.
    #[arg(long, value_delimiter = ',', default_value = "moons,checkerboard,sine")]
    pub data: Vec<String>,
    /// Seeds per data set (0, 1, …); the table shows the median.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Fresh points each kept model of a toy data set is scored on.
    #[arg(long, default_value_t = 20_000)]
    pub test_points: usize,
    /// Folder of the runs (NAME-seedS/) and report.md.
    #[arg(long, default_value = "runs/report")]
    pub out: PathBuf,
    /// `cli train` flags for every run, after `--` (e.g. `-- --bins 16`):
    /// a setting other than the defaults, measured the same way.
    #[arg(last = true, value_name = "TRAIN FLAGS")]
    pub train_flags: Vec<String>,
}

fn vi_flow_default() -> FlowConfig {
    FlowConfig::for_variational(2)
}

fn vi_default() -> ViConfig {
    ViConfig::for_flow(&vi_flow_default())
}

/// The flow kinds `vi` offers, each built in the sampling direction; `iaf`
/// is the masked autoregressive flow turned around.
fn vi_flow_kind() -> impl TypedValueParser<Value = FlowKind> {
    const KINDS: [(&str, FlowKind, &str); 6] = [
        (
            "planar",
            FlowKind::Planar,
            "planar flows (Rezende & Mohamed)",
        ),
        (
            "radial",
            FlowKind::Radial,
            "radial flows (Rezende & Mohamed)",
        ),
        (
            "iaf",
            FlowKind::Maf,
            "inverse autoregressive flow, affine (Kingma et al.)",
        ),
        ("affine", FlowKind::Affine, "RealNVP affine coupling"),
        (
            "spline",
            FlowKind::Spline,
            "rational-quadratic spline coupling",
        ),
        (
            "iaf-spline",
            FlowKind::MafSpline,
            "inverse autoregressive flow with splines",
        ),
    ];
    let values = KINDS
        .iter()
        .map(|(name, _, about)| PossibleValue::new(*name).help(*about));
    PossibleValuesParser::new(values).map(|name| {
        KINDS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, kind, _)| *kind)
            .expect("clap accepts only the names listed")
    })
}

/// Flags of `vi`. Unset, the flows library's defaults apply
/// (`FlowConfig::for_variational`, `ViConfig::default`).
#[derive(Args, Debug, Clone)]
pub struct ViArgs {
    #[arg(long, value_name = "SPEC", default_value = "u1",
          help = format!("The target density: {ENERGY_HELP}"))]
    pub target: String,
    #[arg(long, value_parser = vi_flow_kind(),
          help = with_default("Flow layers, built so that sampling is their cheap direction", vi_flow_default().kind.name()))]
    pub flow: Option<FlowKind>,
    #[arg(long, value_name = "N",
          help = with_default("Number of flow layers", vi_flow_default().layers))]
    pub layers: Option<usize>,
    #[arg(long, value_name = "N",
          help = with_default("Width of the hidden layers of the networks (coupling and autoregressive flows)", vi_flow_default().hidden))]
    pub hidden: Option<usize>,
    #[arg(long, value_name = "N",
          help = with_default("Optimizer steps", vi_default().steps))]
    pub steps: Option<usize>,
    #[arg(long, value_name = "N",
          help = with_default("Samples of the flow per step", vi_default().samples))]
    pub samples: Option<usize>,
    #[arg(long, value_name = "LR", allow_negative_numbers = true,
          help = with_default(&format!("Learning rate of Adam at the start (cosine decay to a tenth); {} for flows with networks", ViConfig::default().lr), vi_default().lr))]
    pub lr: Option<f64>,
    #[arg(long, value_name = "B", allow_negative_numbers = true,
          help = with_default("Weight of log p~ at the first step; it rises linearly to 1", vi_default().beta_start))]
    pub beta_start: Option<f64>,
    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true,
          help = with_default("Fraction of the steps over which that weight rises", vi_default().anneal))]
    pub anneal: Option<f64>,
    #[arg(long, value_name = "N",
          help = with_default("Estimate the ELBO every this many steps", vi_default().eval_every))]
    pub eval_every: Option<usize>,
    /// Fresh samples for the final ELBO, KL, log Z and effective sample size.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub final_samples: usize,
    #[arg(long, value_name = "SEED",
          help = with_default("Seed of the initialization and the samples", vi_default().seed))]
    pub seed: Option<u64>,
    /// Run folder: checkpoint, metrics.csv and figures.
    #[arg(long, default_value = "runs/vi")]
    pub out: PathBuf,
    /// Also write every figure as SVG.
    #[arg(long)]
    pub svg: bool,
    /// Skip the figures.
    #[arg(long)]
    pub no_plots: bool,
}

impl ViArgs {
    /// The library's variational architecture for `dim` dimensions, with the
    /// flags put over it.
    pub fn flow_config(&self, dim: usize) -> FlowConfig {
        let d = FlowConfig::for_variational(dim);
        FlowConfig {
            kind: self.flow.unwrap_or(d.kind),
            layers: self.layers.unwrap_or(d.layers),
            hidden: self.hidden.unwrap_or(d.hidden),
            seed: self.seed.unwrap_or(vi_default().seed),
            ..d
        }
    }

    /// The library's variational training settings for a flow of `flow`'s
    /// kind, with the flags put over them.
    pub fn vi_config(&self, flow: &FlowConfig) -> ViConfig {
        let d = ViConfig::for_flow(flow);
        ViConfig {
            steps: self.steps.unwrap_or(d.steps),
            samples: self.samples.unwrap_or(d.samples),
            lr: self.lr.unwrap_or(d.lr),
            beta_start: self.beta_start.unwrap_or(d.beta_start),
            anneal: self.anneal.unwrap_or(d.anneal),
            eval_every: self.eval_every.unwrap_or(d.eval_every),
            seed: self.seed.unwrap_or(d.seed),
            ..d
        }
    }
}
