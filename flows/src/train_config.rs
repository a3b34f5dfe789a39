//! [`TrainConfig`]: how a flow is trained, with the one list of its defaults
//! and the one check of what no training could use.

use crate::config::{rounds_to_zero, ConfigError, Precision};
use crate::names::Named;
use autograd::CosineSchedule;
use std::fmt;
use std::str::FromStr;

/// The learning rate over the steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Cosine decay from the peak rate to 0.
    Cosine,
    /// The peak rate throughout.
    Constant,
}

impl Named for Schedule {
    const WHAT: &'static str = "schedule";
    const ALL: &'static [Self] = &[Schedule::Cosine, Schedule::Constant];

    fn name(&self) -> &'static str {
        match self {
            Schedule::Cosine => "cosine",
            Schedule::Constant => "constant",
        }
    }

    fn about(&self) -> &'static str {
        match self {
            Schedule::Cosine => "cosine decay from --lr to 0",
            Schedule::Constant => "--lr throughout",
        }
    }
}

/// Points per step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batch {
    /// This many points (at most the whole training set).
    Points(usize),
    /// The whole training set every step.
    Full,
}

impl Batch {
    /// The batch size on `n_train` training points.
    pub fn size(&self, n_train: usize) -> usize {
        match *self {
            Batch::Points(b) => b.min(n_train),
            Batch::Full => n_train,
        }
    }
}

impl FromStr for Batch {
    type Err = String;

    /// A positive number of points, or `full`.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("full") {
            return Ok(Batch::Full);
        }
        match s.trim().parse::<usize>() {
            Ok(b) => Ok(Batch::Points(b)),
            Err(_) => Err(format!("{s:?}: expected a number of points or \"full\"")),
        }
    }
}

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Batch::Points(b) => write!(f, "{b}"),
            Batch::Full => f.write_str("full"),
        }
    }
}

/// How long to train, in optimizer steps or in passes over the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    Steps(usize),
    Epochs(usize),
}

/// Everything about training that is not the model: the optimizer (Adam), its
/// schedule, the batches, clipping, how often the held-out NLL is measured,
/// and the seed of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub budget: Budget,
    pub batch: Batch,
    /// Adam's peak learning rate.
    pub lr: f64,
    pub schedule: Schedule,
    /// Largest gradient norm let through.
    pub clip: f64,
    /// Measure the held-out NLL (and maybe keep the model) every this many steps.
    pub eval_every: usize,
    /// L2 weight decay λ of Adam (λθ added to every gradient): a pull of the
    /// networks towards zero, i.e. of every layer towards the identity.
    pub weight_decay: f64,
    /// Decay a of the running average of the parameters that is judged on
    /// held-out data and kept (θ̄ ← a·θ̄ + (1 − a)·θ after every step); 0
    /// judges and keeps the iterates themselves.
    pub averaging: f64,
    /// Noise regularization: every minibatch gets Gaussian noise of this
    /// many standard deviations of each column added, annealed to 0 with the
    /// learning rate (0: none). With several levels, [`crate::fit`] trains
    /// once at each and keeps the one the held-out points prefer. See
    /// [`input_noise_for`].
    pub input_noise: Vec<f64>,
    /// After choosing the step on the held-out split, train again from the
    /// same start on the training and held-out points together for that many
    /// steps, and keep that model (see [`crate::fit`]). Off when the held-out
    /// points must stay unseen (a test set of the user's own).
    pub refit: bool,
    /// Seeds the run: `cli` draws the data, the split and the minibatches from
    /// one generator seeded with it (see [`TrainConfig::rng`]).
    pub seed: u64,
}

impl Default for TrainConfig {
    /// The defaults for data of unknown size (or a few thousand points):
    /// 2000 steps of Adam at a peak rate of 3e-3 with a cosine decay, batches
    /// of 512, gradient norm clipped to 10, the held-out NLL of the running
    /// average of the parameters (decay 0.99) measured every 50 steps, the
    /// input-noise levels for 3000 points in 2-D ([`input_noise_for`]), then a refit on
    /// all the points for the chosen number of steps.
    /// [`TrainConfig::for_data`] adapts this to the data's size and dimension.
    fn default() -> Self {
        TrainConfig {
            budget: Budget::Steps(2000),
            batch: Batch::Points(512),
            lr: 3e-3,
            schedule: Schedule::Cosine,
            clip: 10.0,
            eval_every: 50,
            weight_decay: 0.0,
            averaging: 0.99,
            input_noise: input_noise_for(2, 3000),
            refit: true,
            seed: 0,
        }
    }
}

/// The input-noise levels tried, as shares of Silverman's bandwidth.
const NOISE_PER_BANDWIDTH: [f64; 2] = [0.4, 1.6];

/// The default input-noise levels (in standard deviations of each column)
/// for `n` training points in `dim` dimensions: 0.4 and 1.6 times
/// Silverman's rule-of-thumb bandwidth of a Gaussian kernel density estimate,
///   h = (4/(d + 2))^(1/(d+4)) · n^(−1/(d+4)),
/// the smoothing a KDE would need for that much Gaussian data in that many
/// dimensions (h = 0.27 for 2400 points in 2-D, 0.70 for 112 rows in 13-D).
/// Thin curves and sharp edges (the 2-D toys) want less than a Gaussian
/// would, a few hundred rows of a table more; [`crate::fit`] trains at both
/// levels and the held-out points choose. Each run's noise falls with the
/// learning rate, so the held-out check also picks the step — and with it
/// the final amount of smoothing.
///
/// Above 3000 points only the lower level is left, and it fades out as
/// [`crate::config::data_scale`] goes (none at 20,000): the model grows with
/// the data, a large data set trains it to its last step without
/// overfitting, and noise then only blurs what the data shows sharply (the
/// checkerboard's edges). A second level would cost a second long run of
/// the grown model, and more data needs less smoothing, not more. Measured
/// on moons, sine, checkerboard and five tables: see the REPORT, §4.
pub fn input_noise_for(dim: usize, n: usize) -> Vec<f64> {
    let (d, points) = (dim.max(1) as f64, n.max(2) as f64);
    let bandwidth = (4.0 / (d + 2.0)).powf(1.0 / (d + 4.0)) * points.powf(-1.0 / (d + 4.0));
    let scale = crate::config::data_scale(n);
    if scale > 0.0 {
        return vec![NOISE_PER_BANDWIDTH[0] * bandwidth * (1.0 - scale)];
    }
    NOISE_PER_BANDWIDTH
        .iter()
        .map(|share| share * bandwidth)
        .collect()
}

/// `levels` without repeats, in their order.
fn distinct(levels: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(levels.len());
    for &level in levels {
        if !out.contains(&level) {
            out.push(level);
        }
    }
    out
}

impl TrainConfig {
    /// The defaults for `n` training points: longer training for more data
    /// (2000 steps up to 3000 points, 6000 at 20,000 and more, as
    /// [`crate::config::data_scale`] goes), and a held-out check every 10
    /// steps below 1000 points, which overfit within a few hundred; input
    /// noise for `dim` dimensions and `n` points ([`input_noise_for`]).
    pub fn for_data(dim: usize, n: usize) -> Self {
        let d = TrainConfig {
            input_noise: input_noise_for(dim, n),
            ..TrainConfig::default()
        };
        let steps = match d.budget {
            Budget::Steps(s) => {
                s + (2.0 * s as f64 * crate::config::data_scale(n)).round() as usize
            }
            epochs => {
                return TrainConfig {
                    budget: epochs,
                    ..d
                }
            }
        };
        TrainConfig {
            budget: Budget::Steps(steps),
            eval_every: if n < 1000 { 10 } else { d.eval_every },
            ..d
        }
    }

    /// The input-noise levels to run, each once, in order.
    pub fn noise_levels(&self) -> Vec<f64> {
        distinct(&self.input_noise)
    }

    /// Refuses what no training could use.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.budget {
            Budget::Steps(0) => return Err(ConfigError::new("steps", 0, "need at least 1 step")),
            Budget::Epochs(0) => {
                return Err(ConfigError::new("epochs", 0, "need at least 1 epoch"))
            }
            _ => {}
        }
        if self.batch == Batch::Points(0) {
            return Err(ConfigError::new(
                "batch",
                0,
                "the batch size must be at least 1 (or \"full\")",
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(ConfigError::new(
                "lr",
                self.lr,
                "the learning rate must be a positive number",
            ));
        }
        if self.clip.is_nan() || self.clip <= 0.0 {
            return Err(ConfigError::new(
                "clip",
                self.clip,
                "must be a positive number",
            ));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(ConfigError::new(
                "weight_decay",
                self.weight_decay,
                "must be a number ≥ 0",
            ));
        }
        if self.input_noise.is_empty() {
            return Err(ConfigError::new(
                "input_noise",
                "(none)",
                "give at least one level (0: no noise)",
            ));
        }
        if let Some(&bad) = self
            .input_noise
            .iter()
            .find(|s| !(**s >= 0.0 && s.is_finite()))
        {
            return Err(ConfigError::new("input_noise", bad, "must be a number ≥ 0"));
        }
        if !(0.0..1.0).contains(&self.averaging) {
            return Err(ConfigError::new(
                "averaging",
                self.averaging,
                "the decay of the average must be in [0, 1)",
            ));
        }
        if self.eval_every == 0 {
            return Err(ConfigError::new("eval_every", 0, "must be at least 1"));
        }
        Ok(())
    }

    /// Refuses settings that `precision` cannot hold: a learning rate that
    /// rounds to 0 would train nothing.
    pub fn check_precision(&self, precision: Precision) -> Result<(), ConfigError> {
        rounds_to_zero("lr", self.lr, precision)
    }

    /// The number of optimizer steps on `n_train` points, or an error if an
    /// epoch budget is too large to count.
    pub fn total_steps(&self, n_train: usize) -> Result<usize, ConfigError> {
        match self.budget {
            Budget::Steps(s) => Ok(s),
            Budget::Epochs(e) => {
                let per_epoch = n_train.div_ceil(self.batch.size(n_train).max(1));
                e.checked_mul(per_epoch)
                    .ok_or_else(|| ConfigError::new("epochs", e, "too many steps to count"))
            }
        }
    }

    /// The learning rate of every step of a run of `total_steps`.
    pub fn lr_schedule(&self, total_steps: usize) -> CosineSchedule {
        match self.schedule {
            Schedule::Cosine => CosineSchedule::new(self.lr, 0.0, total_steps),
            Schedule::Constant => CosineSchedule::new(self.lr, self.lr, total_steps),
        }
    }

    /// The generator of the run, seeded with [`TrainConfig::seed`].
    pub fn rng(&self) -> rand::rngs::StdRng {
        rand::SeedableRng::seed_from_u64(self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In one dimension Silverman's rule is the textbook h = 1.06·σ·n^(−1/5);
    /// the default levels are 0.4 h and 1.6 h up to 3000 points, and they
    /// fall with the number of points (to the single level 0 at 20,000) and
    /// grow with the dimension.
    #[test]
    fn input_noise_levels_are_shares_of_silvermans_bandwidth() {
        for n in [10, 100, 3000] {
            let textbook = 1.06 * (n as f64).powf(-0.2);
            let levels = input_noise_for(1, n);
            assert_eq!(levels.len(), 2, "{levels:?}");
            for (level, share) in levels.iter().zip([0.4, 1.6]) {
                let h = level / share;
                assert!(
                    (h / textbook - 1.0).abs() < 0.002,
                    "n {n}: {h} vs {textbook}"
                );
            }
        }
        let low = |d, n| input_noise_for(d, n)[0];
        assert!(low(2, 8000) < low(2, 3000));
        assert!(low(2, 8000) > 0.0);
        assert_eq!(input_noise_for(2, 8000).len(), 1);
        assert_eq!(input_noise_for(2, 20_000), vec![0.0]);
        assert!(low(13, 112) > low(2, 112));
        assert_eq!(
            TrainConfig::for_data(13, 112).input_noise,
            input_noise_for(13, 112)
        );
    }

    #[test]
    fn noise_levels_run_once_each_and_must_be_numbers() {
        let config = |input_noise: Vec<f64>| TrainConfig {
            input_noise,
            ..TrainConfig::default()
        };
        assert_eq!(config(vec![0.1, 0.4, 0.1]).noise_levels(), vec![0.1, 0.4]);
        for bad in [vec![], vec![0.1, -0.2], vec![f64::NAN]] {
            let err = config(bad.clone()).validate().unwrap_err();
            assert_eq!(err.field, "input_noise", "{bad:?}");
        }
        assert!(config(vec![0.0]).validate().is_ok());
    }
}
