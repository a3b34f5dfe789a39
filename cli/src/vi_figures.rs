//! The figures of `cli vi` for a 2-D target, into the run folder:
//!
//! 1. `1_target.png`: the target density log p = log p̃ − log Z;
//! 2. `2_flow_density.png`: the fitted flow's density log q on the same view;
//! 3. `3_samples.png`: samples of q drawn over the target density;
//! 4. `4_elbo.png`: −ELBO over the steps (and the loss once β = 1), above
//!    −log Z (the gap between −ELBO and −log Z is KL(q‖p)).

use crate::error::Result;
use crate::figures::{first_two, lattice, FigureFiles};
use crate::files::Staging;
use crate::plot::{self, Curve, CurveText};
use autograd::ParamStore;
use flows::target::log_density_values;
use flows::{Energy, FlowModel, ViRow};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::Path;

pub const FIGURES: [&str; 4] = ["1_target", "2_flow_density", "3_samples", "4_elbo"];

/// Cells per side of the density grids.
const GRID: usize = 160;

/// Samples of q drawn over the target.
const SAMPLES: usize = 2000;

/// Steps the loss is averaged over in the curve: single-step losses are
/// Monte-Carlo estimates with a spread of a few tenths of a nat.
const LOSS_WINDOW: usize = 50;

/// What the figures are drawn from.
pub struct Inputs<'a> {
    pub energy: &'a Energy,
    /// log Z of the target.
    pub log_z: f64,
    pub model: &'a FlowModel,
    pub store: &'a ParamStore<f64>,
    pub metrics: &'a [ViRow],
    pub seed: u64,
}

/// Stages every figure in `dir`; returns the file names.
pub fn draw_all(
    staging: &mut Staging,
    dir: &Path,
    inputs: &Inputs,
    svg: bool,
) -> Result<Vec<String>> {
    let mut files = FigureFiles::new(staging, dir, svg);
    let view = inputs.energy.view();
    let log_z = inputs.log_z;
    let target = lattice(view.x, view.y, GRID, |points| {
        log_density_values::<f64>(inputs.energy, points)
            .into_iter()
            .map(|v| v - log_z)
            .collect()
    });
    let flow = lattice(view.x, view.y, GRID, |points| {
        inputs.model.log_prob(inputs.store, points).into_data()
    });
    let mut rng = StdRng::seed_from_u64(inputs.seed);
    let samples = first_two(&inputs.model.sample(inputs.store, SAMPLES, &mut rng));
    let target_title = format!("Target {}: log p(x) = log p~(x) − log Z", inputs.energy);
    files.save(FIGURES[0], &|p, f| {
        plot::density_titled(p, f, &target, &[], &target_title, "")
    })?;
    files.save(FIGURES[1], &|p, f| {
        plot::density_titled(p, f, &flow, &[], "The fitted flow: log q(x)", "")
    })?;
    files.save(FIGURES[2], &|p, f| {
        let title = "Samples of q (white) over the target density";
        plot::density_titled(p, f, &target, &samples, title, "samples of q")
    })?;
    let curve = elbo_curve(inputs.metrics, log_z);
    files.save(FIGURES[3], &|p, f| {
        plot::training_curve_with(p, f, &curve, &ELBO_TEXT)
    })?;
    Ok(files.written)
}

const ELBO_TEXT: CurveText = CurveText {
    title: "Variational fit: −ELBO falls towards −log Z",
    y_name: "nats",
    train: "loss at β = 1",
    train_raw: "loss at β = 1",
    heldout: "−ELBO (β = 1, fresh samples)",
    floor: "−log Z (the floor: KL = 0)",
    unit: "nats",
};

/// −ELBO where measured, and the loss once β has reached 1 (from then on
/// it is a one-batch estimate of −ELBO; before, with β < 1, it measures
/// something else and would only stretch the axis), averaged over
/// [`LOSS_WINDOW`] steps.
fn elbo_curve(metrics: &[ViRow], log_z: f64) -> Curve {
    let annealed: Vec<&ViRow> = metrics
        .iter()
        .filter(|r| r.loss.is_finite() && r.beta >= 1.0)
        .collect();
    let loss: Vec<f64> = annealed.iter().map(|r| r.loss).collect();
    let mut averaged = crate::figures::moving_average(&loss, LOSS_WINDOW).into_iter();
    let train = metrics
        .iter()
        .map(|r| {
            if r.loss.is_finite() && r.beta >= 1.0 {
                averaged.next().unwrap_or(f64::NAN)
            } else {
                f64::NAN
            }
        })
        .collect();
    Curve {
        step: metrics.iter().map(|r| r.step as f64).collect(),
        train,
        heldout: metrics
            .iter()
            .map(|r| r.elbo.map_or(f64::NAN, |e| -e))
            .collect(),
        train_window: LOSS_WINDOW,
        kept_step: None,
        entropy: Some(-log_z),
    }
}
