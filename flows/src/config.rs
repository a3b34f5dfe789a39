//! [`FlowConfig`]: everything needed to build a model's structure (its numbers
//! live in the parameter store), with the one list of its defaults and the one
//! check of what no model could be built from.

use crate::names::{serde_name, Named};
use autograd::Activation;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of layer the model stacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// RealNVP affine coupling.
    Affine,
    /// NICE additive coupling.
    Additive,
    /// Planar flows (Rezende & Mohamed).
    Planar,
    /// Radial flows (Rezende & Mohamed).
    Radial,
    /// Rational-quadratic spline coupling (Durkan et al., Neural Spline Flows).
    Spline,
    /// Piecewise-linear coupling (Müller et al., Neural Importance Sampling).
    PiecewiseLinear,
    /// Masked autoregressive flow, affine (Papamakarios et al.).
    Maf,
    /// Masked autoregressive flow with rational-quadratic splines.
    MafSpline,
}

impl FlowKind {
    /// Whether the layers have a conditioner network (all but planar and radial).
    pub fn has_networks(&self) -> bool {
        !self.is_one_layer_family()
    }

    /// Planar and radial flows: each layer is one small formula with a few
    /// numbers, no networks, no ActNorm or mixing between layers.
    pub fn is_one_layer_family(&self) -> bool {
        matches!(self, FlowKind::Planar | FlowKind::Radial)
    }

    /// Whether the layers use `bins` and `bound`.
    pub fn has_bins(&self) -> bool {
        matches!(
            self,
            FlowKind::Spline | FlowKind::PiecewiseLinear | FlowKind::MafSpline
        )
    }
}

impl Named for FlowKind {
    const WHAT: &'static str = "flow kind";
    const ALL: &'static [Self] = &[
        FlowKind::Affine,
        FlowKind::Additive,
        FlowKind::Planar,
        FlowKind::Radial,
        FlowKind::Spline,
        FlowKind::PiecewiseLinear,
        FlowKind::Maf,
        FlowKind::MafSpline,
    ];

    fn name(&self) -> &'static str {
        match self {
            FlowKind::Affine => "affine",
            FlowKind::Additive => "additive",
            FlowKind::Planar => "planar",
            FlowKind::Radial => "radial",
            FlowKind::Spline => "spline",
            FlowKind::PiecewiseLinear => "piecewise",
            FlowKind::Maf => "maf",
            FlowKind::MafSpline => "maf-spline",
        }
    }

    fn about(&self) -> &'static str {
        match self {
            FlowKind::Affine => "RealNVP affine coupling",
            FlowKind::Additive => "NICE additive coupling (volume preserving)",
            FlowKind::Planar => "planar flows (Rezende & Mohamed)",
            FlowKind::Radial => "radial flows (Rezende & Mohamed)",
            FlowKind::Spline => "rational-quadratic spline coupling (Neural Spline Flows)",
            FlowKind::PiecewiseLinear => "piecewise-linear coupling (Neural Importance Sampling)",
            FlowKind::Maf => "masked autoregressive flow, affine (MAF)",
            FlowKind::MafSpline => "masked autoregressive flow with splines",
        }
    }
}

/// Which way each layer's own formula runs, the other way being its inverse.
///
/// Every layer is cheap and differentiable in the direction of its formula;
/// some (planar, radial, the autoregressive flows) are slow or not
/// differentiable the other way. A density estimator evaluates log p at
/// data, so it wants the formula from data to latent; variational inference
/// draws samples and needs their log q on the tape, so it wants the formula
/// from latent to data. The masked autoregressive flow built in the sampling
/// direction is the inverse autoregressive flow, IAF (Kingma et al. 2016).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    /// Formulas map data to latent: log p(x) in one pass (density estimation).
    #[default]
    Density,
    /// Formulas map latent to data: a sample and its log q in one pass
    /// (variational inference).
    Sampling,
}

impl Named for Direction {
    const WHAT: &'static str = "direction";
    const ALL: &'static [Self] = &[Direction::Density, Direction::Sampling];

    fn name(&self) -> &'static str {
        match self {
            Direction::Density => "density",
            Direction::Sampling => "sampling",
        }
    }

    fn about(&self) -> &'static str {
        match self {
            Direction::Density => "layer formulas map data to latent (fast log-density)",
            Direction::Sampling => "layer formulas map latent to data (fast sampling)",
        }
    }
}

/// How coupling layers take turns over the dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mixing {
    /// Masks alternate between even and odd dimensions (RealNVP's checkerboard).
    Alternate,
    /// Reverse the dimensions before each coupling layer.
    Reverse,
    /// A fixed random permutation before each coupling layer.
    Random,
    /// A trained LU-parameterized linear map before each coupling layer (Glow).
    Lu,
}

impl Named for Mixing {
    const WHAT: &'static str = "mixing";
    const ALL: &'static [Self] = &[
        Mixing::Alternate,
        Mixing::Reverse,
        Mixing::Random,
        Mixing::Lu,
    ];

    fn name(&self) -> &'static str {
        match self {
            Mixing::Alternate => "alternate",
            Mixing::Reverse => "reverse",
            Mixing::Random => "random",
            Mixing::Lu => "lu",
        }
    }

    fn about(&self) -> &'static str {
        match self {
            Mixing::Alternate => "alternate the coupling masks (even/odd dimensions)",
            Mixing::Reverse => "reverse the dimensions between coupling layers",
            Mixing::Random => "a fixed random permutation between coupling layers",
            Mixing::Lu => "a trained LU-parameterized linear map between coupling layers (Glow)",
        }
    }
}

/// The float type a model is trained in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    F32,
    F64,
}

impl Named for Precision {
    const WHAT: &'static str = "precision";
    const ALL: &'static [Self] = &[Precision::F32, Precision::F64];

    fn name(&self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }

    fn about(&self) -> &'static str {
        match self {
            Precision::F32 => "single precision: twice the numbers per SIMD lane",
            Precision::F64 => "double precision",
        }
    }
}

impl Precision {
    /// The precision of the float type `F`.
    pub fn of<F: autograd::Float>() -> Self {
        Self::from_name(F::NAME).expect("every Float is f32 or f64")
    }
}

/// A nonzero `value` of `field` that rounds to 0 in `precision`, refused.
pub(crate) fn rounds_to_zero(
    field: &'static str,
    value: f64,
    precision: Precision,
) -> Result<(), ConfigError> {
    if precision == Precision::F32 && value != 0.0 && (value as f32) == 0.0 {
        // `{:?}` writes 1e-300, where `{}` would write 300 digits.
        return Err(ConfigError::new(
            field,
            format!("{value:?}"),
            "rounds to 0 in f32; use a larger value or f64",
        ));
    }
    Ok(())
}

/// A setting no model or training could use: which field, its value, and why.
/// Field names are the configs' own (`layers`, `eval_every`), so a command line
/// can name its flag (`--eval-every`) and a checkpoint reader its key.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(field: &'static str, value: impl fmt::Display, reason: impl Into<String>) -> Self {
        ConfigError {
            field,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.field, self.value, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// Everything needed to rebuild a model's structure (its numbers live in the store).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    pub dim: usize,
    #[serde(with = "serde_name")]
    pub kind: FlowKind,
    /// Number of coupling (or planar) layers.
    pub layers: usize,
    /// Width of the coupling networks' hidden layers.
    pub hidden: usize,
    /// Number of hidden layers in each coupling network.
    pub depth: usize,
    #[serde(with = "serde_name")]
    pub activation: Activation,
    /// An ActNorm layer before each coupling layer.
    pub actnorm: bool,
    #[serde(with = "serde_name")]
    pub mixing: Mixing,
    /// One network for s and t instead of two.
    pub shared_net: bool,
    /// The soft clamp c of the log-scale: s = c·tanh(ŝ/c).
    pub clamp: f64,
    /// Bins K of the spline and piecewise-linear transforms.
    #[serde(default = "default_bins")]
    pub bins: usize,
    /// Those transforms act on [−B, B] (standardized units) and are the
    /// identity outside it.
    #[serde(default = "default_bound")]
    pub bound: f64,
    /// Which way the layers' formulas run (density estimation or sampling).
    #[serde(default, with = "serde_name")]
    pub direction: Direction,
    /// Seeds the initial parameters and random permutations.
    pub seed: u64,
}

impl FlowConfig {
    /// The defaults for `dim`-dimensional data of unknown size (or a few
    /// thousand points): 3 steps of rational-quadratic spline coupling with
    /// 8 bins on [−4, 4], ActNorm and alternating masks, conditioner networks
    /// with two 32-wide tanh hidden layers. [`FlowConfig::for_data`] grows
    /// this for larger data sets.
    pub fn new(dim: usize) -> Self {
        FlowConfig {
            dim,
            kind: FlowKind::Spline,
            layers: 3,
            hidden: 32,
            depth: 2,
            activation: Activation::Tanh,
            actnorm: true,
            mixing: Mixing::Alternate,
            shared_net: false,
            clamp: 1.0,
            bins: default_bins(),
            bound: default_bound(),
            direction: Direction::Density,
            seed: 0,
        }
    }

    /// The defaults for `n` training points: the model grows with the data,
    /// from [`FlowConfig::new`]'s at up to 3000 points to 8 steps, width 64
    /// and 16 bins at 20,000 and more (linearly in log n in between). Small
    /// data sets overfit a large flow within a few hundred steps; large ones
    /// underfit a small one.
    pub fn for_data(dim: usize, n: usize) -> Self {
        let s = data_scale(n);
        let small = FlowConfig::new(dim);
        FlowConfig {
            layers: small.layers + (5.0 * s).round() as usize,
            hidden: if s < 0.5 {
                small.hidden
            } else {
                2 * small.hidden
            },
            bins: if s < 0.5 { small.bins } else { 2 * small.bins },
            ..small
        }
    }

    /// The defaults for variational inference on `dim` dimensions: 32 planar
    /// layers, as in Rezende & Mohamed's Figure 3, built in the sampling
    /// direction (see [`Direction`]), with no ActNorm (there is no data to
    /// initialize it on).
    pub fn for_variational(dim: usize) -> Self {
        FlowConfig {
            kind: FlowKind::Planar,
            layers: 32,
            actnorm: false,
            direction: Direction::Sampling,
            ..FlowConfig::new(dim)
        }
    }

    /// What this configuration builds, in words for a summary line: "a
    /// spline coupling flow"; the masked autoregressive flow built in the
    /// sampling direction is "an inverse autoregressive flow".
    pub fn describe(&self) -> &'static str {
        let sampling = self.direction == Direction::Sampling;
        match self.kind {
            FlowKind::Affine => "an affine coupling flow",
            FlowKind::Additive => "an additive coupling flow",
            FlowKind::Planar => "a planar flow",
            FlowKind::Radial => "a radial flow",
            FlowKind::Spline => "a spline coupling flow",
            FlowKind::PiecewiseLinear => "a piecewise-linear coupling flow",
            FlowKind::Maf if sampling => "an inverse autoregressive flow",
            FlowKind::Maf => "an affine autoregressive flow",
            FlowKind::MafSpline if sampling => "a spline inverse autoregressive flow",
            FlowKind::MafSpline => "a spline autoregressive flow",
        }
    }

    /// Refuses settings that `precision` cannot hold: a scale clamp that
    /// rounds to 0 would divide by zero.
    pub fn check_precision(&self, precision: Precision) -> Result<(), ConfigError> {
        rounds_to_zero("clamp", self.clamp, precision)
    }

    /// Refuses what no model could be built from.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.dim < 2 {
            return Err(ConfigError::new(
                "dim",
                self.dim,
                "a flow needs at least 2 dimensions",
            ));
        }
        if self.layers == 0 {
            return Err(ConfigError::new("layers", 0, "need at least 1 layer"));
        }
        // Planar and radial flows have no networks, so no width to check.
        if self.kind.has_networks() && self.hidden == 0 {
            return Err(ConfigError::new("hidden", 0, "need at least 1 hidden unit"));
        }
        if self.kind.has_bins() && self.bins < 2 {
            return Err(ConfigError::new(
                "bins",
                self.bins,
                "a piecewise transform needs at least 2 bins",
            ));
        }
        if !(self.bound > 0.0 && self.bound.is_finite()) {
            return Err(ConfigError::new(
                "bound",
                self.bound,
                "the bound must be a positive number",
            ));
        }
        if !(self.clamp > 0.0 && self.clamp.is_finite()) {
            return Err(ConfigError::new(
                "clamp",
                self.clamp,
                "the scale clamp must be a positive number",
            ));
        }
        Ok(())
    }
}

/// Where `n` training points sit between a small data set (3000 points or
/// fewer: 0) and a large one (20,000 or more: 1), linearly in log n. The
/// defaults of the model and of training that grow with the data follow it.
pub fn data_scale(n: usize) -> f64 {
    let (small, large) = (3000f64.ln(), 20000f64.ln());
    (((n.max(1) as f64).ln() - small) / (large - small)).clamp(0.0, 1.0)
}

/// The default number of bins, also for checkpoints written before bins existed.
fn default_bins() -> usize {
    8
}

/// The default bound B (standardized units: beyond four standard deviations).
fn default_bound() -> f64 {
    4.0
}
