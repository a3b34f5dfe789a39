//! Figures for the command-line tool.
//!
//! Every public function draws one figure from plain data (`[f64; 2]` points,
//! grids, curves) and writes it to the path it is given, as PNG or SVG.
//! Nothing here knows about flows: the caller computes `z = f(x)`, `log p`,
//! and so on, and this module only draws them.
//!
//! Conventions shared by all figures:
//! - blue is data (or data mapped through the flow), orange is model samples;
//! - every colour is explained in the figure: a key of swatches or a colour
//!   bar (`legend.rs`, and the log p bar of the density);
//! - non-finite points are skipped; points outside the view are not drawn but
//!   are still counted in titles ("n = 1000, 3 outside the view");
//! - axis limits ignore the most extreme 0.5 % of values on each side, so a
//!   handful of outliers cannot squash the rest of a cloud into a corner;
//! - text uses a font bundled in the binary (see `font.rs`): no system fonts.

mod animation;
mod canvas;
mod clip;
mod data_vs_samples;
mod density;
mod density_panels;
mod error;
mod font;
mod gif_file;
mod inverse_warp;
mod latent;
mod layer_panels;
mod legend;
mod limits;
mod scaling;
mod scatter;
mod style;
mod training_animation;
mod training_curve;

#[cfg(test)]
mod tests;

pub use self::animation::layer_flow;
pub use self::data_vs_samples::data_vs_samples;
pub use self::density::{density, density_titled};
pub use self::density_panels::{density_panels, DensityPanel};
pub use self::error::PlotError;

pub use self::inverse_warp::inverse_warp;
pub use self::latent::latent;
pub use self::layer_panels::layer_panels;
pub use self::scaling::{scaling, ScalingLine, ScalingPanel};
pub use self::training_animation::{density_over_training, TrainingFrame, TrainingFrames};
pub use self::training_curve::{training_curve, training_curve_with, CurveText};

/// A point in the plane: `[x₁, x₂]` (or `[z₁, z₂]` in latent space).
pub type Point = [f64; 2];

/// Output format. It picks the drawing backend; the file name is used as is
/// (so a temporary name such as `fig.png.tmp` is fine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A raster image, encoded as PNG.
    Png,
    /// A vector image. Text is left as text and names the `sans-serif` family.
    Svg,
}

/// Values of a function on a regular (or at least rectilinear) grid.
///
/// `values[j * x.len() + i]` is the value at `(x[i], y[j])`; `x` and `y` must be
/// strictly increasing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub values: Vec<f64>,
}

/// A training log: negative log-likelihood in nats per point at each step.
///
/// `train` has one value per step. `heldout` has one value per step too, NaN
/// where it was not evaluated; it may also be empty if it never was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    pub step: Vec<f64>,
    pub train: Vec<f64>,
    pub heldout: Vec<f64>,
    /// Steps the train values are a moving average over (1: raw values).
    pub train_window: usize,
    /// The step whose model was kept, marked with a vertical line.
    pub kept_step: Option<f64>,
    /// The true density's entropy, the floor of the held-out NLL, if known.
    pub entropy: Option<f64>,
}
