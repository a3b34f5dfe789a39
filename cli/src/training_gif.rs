//! From the snapshots of a run to 8_training.gif: the learned density and
//! samples of the model at a few steps of training, then the kept model.
//! This file computes what each frame shows (log p on one grid, samples,
//! the held-out NLL) and hands plain numbers to `plot/`.

use crate::dataset::Points;
use crate::error::{CliError, Result};
use crate::figures::{density_grid, first_two};
use crate::files::Staging;
use crate::plot::{self, TrainingFrame, TrainingFrames};
use crate::signals;
use crate::snapshots::Snapshots;
use autograd::ParamStore;
use flows::{evaluate, FlowModel};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::Path;

/// The file `--animate` writes besides 7_flow.gif.
pub const TRAINING_ANIMATION: &str = "8_training.gif";

/// Cells per side of the log-density grid: coarser than figure 2's 160, as
/// the frames are smaller and the file should stay at a few MB.
const GRID: usize = 90;

/// Samples drawn in each frame.
const SAMPLES: usize = 1000;

/// What the animation needs to know about the run besides the snapshots.
pub struct Run<'a> {
    pub model: &'a FlowModel,
    /// The kept model and its step.
    pub kept: (&'a ParamStore<f64>, usize),
    pub train: &'a Points,
    pub heldout: &'a Points,
    pub total_steps: usize,
    pub entropy: Option<f64>,
    pub seed: u64,
}

/// Stages 8_training.gif (2-D data only) and returns its file name.
pub fn animate(
    staging: &mut Staging,
    dir: &Path,
    snapshots: &Snapshots,
    run: &Run,
) -> Result<Option<String>> {
    if run.train.dim != 2 || snapshots.taken.is_empty() || signals::interrupted() {
        return Ok(None);
    }
    let data = run.train.xy();
    let heldout = run.heldout.to_tensor::<f64>();
    // The same seed for every frame: the samples move only as the model does.
    let frame = |step: usize, store: &ParamStore<f64>, kept: bool| TrainingFrame {
        step,
        kept,
        log_p: density_grid(run.model, store, &data, GRID),
        samples: first_two(
            &run.model
                .sample(store, SAMPLES, &mut StdRng::seed_from_u64(run.seed)),
        ),
        heldout_nll: evaluate::mean_nll(run.model, store, &heldout),
    };
    let mut frames: Vec<TrainingFrame> = snapshots
        .taken
        .iter()
        .map(|(step, store)| frame(*step, store, false))
        .collect();
    frames.push(frame(run.kept.1, run.kept.0, true));
    let film = TrainingFrames {
        frames: &frames,
        total_steps: run.total_steps,
        entropy: run.entropy,
        data: &data,
    };
    staging.by_path(&dir.join(TRAINING_ANIMATION), |tmp| {
        plot::density_over_training(tmp, &film).map_err(|e| CliError::new(e.to_string()))
    })?;
    Ok(Some(TRAINING_ANIMATION.to_string()))
}
