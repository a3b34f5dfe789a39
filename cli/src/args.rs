//! The command line, declared with clap's derive API: every flag, its default
//! and its help text live here.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
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
    Train(TrainArgs),
    /// Draw samples from a trained model (CSV to standard output or a file).
    Sample(SampleArgs),
    /// Mean negative log-likelihood of a CSV file under a trained model.
    Eval(EvalArgs),
    /// Redraw the figures of a trained model.
    Plot(PlotArgs),
    /// Print the tape of one affine coupling layer: forward list, adjoint program, gradients.
    Tape(TapeArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FlowArg {
    /// RealNVP affine coupling
    Affine,
    /// NICE additive coupling (volume preserving)
    Additive,
    /// planar flows (Rezende & Mohamed)
    Planar,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MixingArg {
    /// alternate the coupling masks (even/odd dimensions)
    Alternate,
    /// reverse the dimensions between coupling layers
    Reverse,
    /// a fixed random permutation between coupling layers
    Random,
    /// a trained LU-parameterized linear map between coupling layers (Glow)
    Lu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ActivationArg {
    Tanh,
    Relu,
    Sigmoid,
    Softplus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScheduleArg {
    /// cosine decay from --lr to 0
    Cosine,
    /// --lr throughout
    Constant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Precision {
    F32,
    F64,
}

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

    /// Kind of flow layer.
    #[arg(long, value_enum, default_value_t = FlowArg::Affine)]
    pub flow: FlowArg,
    /// Number of coupling (or planar) layers.
    #[arg(long, default_value_t = 12)]
    pub layers: usize,
    /// Width of the hidden layers of the coupling networks.
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// Number of hidden layers of the coupling networks.
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// Hidden activation of the coupling networks.
    #[arg(long, value_enum, default_value_t = ActivationArg::Tanh)]
    pub activation: ActivationArg,
    /// ActNorm before each coupling layer (true/false).
    #[arg(long, default_value_t = true, action = ArgAction::Set, value_name = "BOOL")]
    pub actnorm: bool,
    /// How coupling layers take turns over the dimensions.
    #[arg(long, value_enum, default_value_t = MixingArg::Alternate)]
    pub mixing: MixingArg,
    /// One network for the scale and shift instead of two.
    #[arg(long)]
    pub shared_net: bool,
    /// Bound c on the log-scale of affine coupling: s = c·tanh(ŝ/c).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub clamp: f64,

    /// Optimizer steps (one minibatch each).
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Train for this many passes over the data instead of --steps.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Minibatch size, or "full" for the whole training set every step.
    #[arg(long, default_value = "512")]
    pub batch: String,
    /// Peak learning rate of Adam.
    #[arg(long, default_value_t = 3e-3, allow_negative_numbers = true)]
    pub lr: f64,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Cosine)]
    pub schedule: ScheduleArg,
    /// Largest gradient norm let through (clipping).
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    pub clip: f64,
    /// Evaluate the held-out NLL every this many steps.
    #[arg(long, default_value_t = 50)]
    pub eval_every: usize,
    /// Seed of the data, the split, the initialization and the minibatches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threads for matrix products (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Float precision of training.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
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
