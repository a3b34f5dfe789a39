//! The model at a few steps of its training, kept for `--animate`'s picture
//! of the density being learned (8_training.gif).
//!
//! `flows::fit` shows its observer the judged parameters after every step
//! ([`flows::Observer::on_params`]); this keeps a copy at a few chosen steps
//! and ignores the rest. Looking does not change the training: the same
//! run with or without `--animate` keeps the same model.

use autograd::{Float, ParamStore};

/// Snapshots of a long enough run: about 4 s of animation at 8 frames/s.
const MOST: usize = 36;

/// Memory all snapshots together may take: a huge model gets fewer of them
/// (but at least two: the start and the end) rather than exhausting memory.
const BUDGET_BYTES: usize = 256 << 20;

/// The parameters at the chosen steps, in f64.
pub struct Snapshots {
    /// The steps to keep, increasing.
    wanted: Vec<usize>,
    /// (step, parameters) of each kept step so far.
    pub taken: Vec<(usize, ParamStore<f64>)>,
}

impl Snapshots {
    /// Plans snapshots of a run of `total_steps` steps of a model with
    /// `parameters` values.
    pub fn new(total_steps: usize, parameters: usize) -> Self {
        let affordable = BUDGET_BYTES / (8 * parameters.max(1));
        Snapshots {
            wanted: steps(total_steps, affordable.clamp(2, MOST)),
            taken: Vec::new(),
        }
    }

    /// Keeps a copy of `params` if `step` is one of the chosen steps.
    pub fn offer<F: Float>(&mut self, step: usize, params: &ParamStore<F>) {
        if self.wanted.binary_search(&step).is_ok() {
            self.taken.push((step, params.cast::<f64>()));
        }
    }
}

/// About `count` steps from 0 to `total`, closer together early on, where
/// the density changes fastest (step k of K at total·(k/K)^1.5).
fn steps(total: usize, count: usize) -> Vec<usize> {
    let last = count.max(2) - 1;
    let mut out: Vec<usize> = (0..=last)
        .map(|k| (total as f64 * (k as f64 / last as f64).powf(1.5)).round() as usize)
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_run_from_the_start_to_the_end_closer_early() {
        let s = steps(2000, 36);
        assert_eq!((s[0], *s.last().unwrap(), s.len()), (0, 2000, 36));
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert!(s[1] - s[0] < s[35] - s[34], "{s:?}");
        // A run shorter than the plan keeps each step once.
        assert_eq!(steps(3, 36), vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_huge_model_keeps_fewer_snapshots() {
        assert_eq!(Snapshots::new(2000, 5649).wanted.len(), MOST);
        assert_eq!(Snapshots::new(2000, 100_000_000).wanted, vec![0, 2000]);
    }
}
