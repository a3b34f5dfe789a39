//! Variational inference: fit a flow q to an unnormalized target p̃ = Z·p
//! ([`Target`]) by minimizing the reverse KL divergence with the flow's own
//! samples (Rezende & Mohamed 2015).
//!
//! **The objective.** With x = g(z), z ~ N(0, I), g the flow in its sampling
//! direction (latent → data),
//!   log q(x) = log N(z; 0, I) − log|det ∂g/∂z|,
//!   KL(q‖p) = E_q[log q(x) − log p(x)] = E_q[log q(x) − log p̃(x)] + log Z.
//! log Z does not depend on q, so minimizing KL is maximizing the evidence
//! lower bound ELBO = E_q[log p̃ − log q] = log Z − KL ≤ log Z. No data and no
//! inverse of g are needed: which is why planar, radial and inverse
//! autoregressive flows, cheap only in the sampling direction, suit it.
//!
//! **The gradient** is the reparameterization trick: the samples are drawn
//! as z (a constant) pushed through g on the tape, so d/dθ of the Monte-Carlo
//! average of log q(g(z)) − log p̃(g(z)) flows through x into θ. The target
//! is recorded on the tape too; only its gradient in x is used.
//!
//! **Annealing.** Early on, a flow that has not found the modes can be
//! pulled hard by a steep target. The paper minimizes
//! E_q[log q − β·log p̃] with β rising from 0.01 to 1; here β rises
//! linearly over the first [`ViConfig::anneal`] of the steps, and after
//! that the loss is the exact −ELBO.
//!
//! **Diagnostics** ([`diagnose`]) on many fresh samples, with weights
//! w = p̃(x)/q(x): the ELBO = E[log w] with its standard error; the
//! importance-sampling estimate log Z ≈ log mean w (a lower bound in
//! expectation, tight when q ≈ p); the effective sample size
//! (Σw)²/Σw², as a fraction of the samples (1 when q = p exactly). Where log Z
//! is known, KL(q‖p) = log Z − ELBO.

use crate::evaluate::CHUNK;
use crate::model::{standard_normal, FlowModel};
use crate::target::{log_density_values, LogSumExp, Target};
use crate::train::Trainer;
use crate::{ConfigError, Direction, FlowConfig, Stop};
use autograd::{CosineSchedule, Float, ParamStore, Tape, Value, Var};
use rand::Rng;
use std::time::Instant;

/// The settings of a variational fit, with the one list of their defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ViConfig {
    /// Optimizer steps.
    pub steps: usize,
    /// Samples of q per step (the Monte-Carlo batch).
    pub samples: usize,
    /// Adam's learning rate at the start; a cosine schedule takes it to a
    /// tenth of that by the last step. See [`ViConfig::for_flow`].
    pub lr: f64,
    /// β (the weight of log p̃) at the first step; it rises linearly to 1.
    pub beta_start: f64,
    /// The fraction of the steps over which β rises.
    pub anneal: f64,
    /// Largest gradient norm let through.
    pub clip: f64,
    /// Steps between estimates of the ELBO (at β = 1) for the record.
    pub eval_every: usize,
    /// Samples for each of those estimates.
    pub eval_samples: usize,
    pub seed: u64,
}

impl Default for ViConfig {
    fn default() -> Self {
        ViConfig {
            steps: 5000,
            samples: 256,
            lr: 1e-2,
            beta_start: 0.01,
            anneal: 0.5,
            clip: 10.0,
            eval_every: 100,
            eval_samples: 4096,
            seed: 0,
        }
    }
}

impl ViConfig {
    /// The defaults for fitting a flow of `config`'s kind: planar and radial
    /// layers, a handful of numbers each, take steps of 2e-2; flows with
    /// networks, whose many weights move together, 1e-2 (at 2e-2 they end
    /// worse on the U1–U4 energies, and planar flows at 3e-2 start to lose
    /// modes of a mixture).
    pub fn for_flow(config: &FlowConfig) -> Self {
        let lr = if config.kind.is_one_layer_family() {
            2e-2
        } else {
            ViConfig::default().lr
        };
        ViConfig {
            lr,
            ..ViConfig::default()
        }
    }

    /// Refuses settings no fit could run with.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = |field, value: usize| {
            if value == 0 {
                Err(ConfigError::new(field, 0, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        positive("steps", self.steps)?;
        positive("samples", self.samples)?;
        positive("eval_every", self.eval_every)?;
        positive("eval_samples", self.eval_samples)?;
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(ConfigError::new("lr", self.lr, "must be a positive number"));
        }
        if !(self.beta_start > 0.0 && self.beta_start <= 1.0) {
            return Err(ConfigError::new(
                "beta_start",
                self.beta_start,
                "must lie in (0, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&self.anneal) {
            return Err(ConfigError::new(
                "anneal",
                self.anneal,
                "must lie in [0, 1]",
            ));
        }
        if self.clip.is_nan() || self.clip <= 0.0 {
            return Err(ConfigError::new(
                "clip",
                self.clip,
                "must be positive (inf: no clipping)",
            ));
        }
        Ok(())
    }

    /// β at `step` (1-based): beta_start at step 1, 1 from the end of the
    /// annealing on.
    pub fn beta(&self, step: usize) -> f64 {
        let ramp = (self.anneal * self.steps as f64).max(1.0);
        let t = ((step.saturating_sub(1)) as f64 / ramp).min(1.0);
        self.beta_start + (1.0 - self.beta_start) * t
    }

    /// The generator of the run, seeded with [`ViConfig::seed`].
    pub fn rng(&self) -> rand::rngs::StdRng {
        rand::SeedableRng::seed_from_u64(self.seed)
    }
}

/// One row of the record of a variational fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViRow {
    /// 0 is the flow before training.
    pub step: usize,
    pub beta: f64,
    /// The step's loss, mean(log q − β·log p̃) over its samples.
    pub loss: f64,
    /// The ELBO estimated on fresh samples, where it was measured.
    pub elbo: Option<f64>,
    /// Since training started.
    pub seconds: f64,
}

/// Watches a variational fit; every method has a do-nothing default.
pub trait ViObserver {
    /// Called before each step; returning true ends the fit there.
    fn should_stop(&mut self) -> bool {
        false
    }
    /// Called after each step with its row and the planned number of steps.
    fn on_step(&mut self, _row: &ViRow, _total_steps: usize) {}
}

impl ViObserver for () {}

/// What [`fit_variational`] returns: the store it was given holds the last
/// step's parameters (a reverse-KL fit has no held-out data to select on).
#[derive(Clone, Debug)]
pub struct ViFitted {
    pub metrics: Vec<ViRow>,
    pub stop: Stop,
    pub seconds: f64,
}

/// The model and the target do not fit together, or the model cannot sample
/// on the tape.
fn check_model<F: Float>(model: &FlowModel, target: &impl Target<F>) -> Result<(), String> {
    if model.dim() != target.dim() {
        return Err(format!(
            "the flow has {} dimensions but the target {}",
            model.dim(),
            target.dim()
        ));
    }
    if model.config.direction != Direction::Sampling {
        return Err(
            "variational inference needs a flow built in the sampling direction \
             (FlowConfig::direction = Direction::Sampling)"
                .into(),
        );
    }
    Ok(())
}

/// Samples x = g(z) of `n` latent draws on `tape`, and log q(x), `[n]`.
fn sample_on_tape<'t, F: Float, R: Rng + ?Sized>(
    model: &FlowModel,
    store: &ParamStore<F>,
    tape: &'t Tape<F>,
    n: usize,
    rng: &mut R,
) -> (Var<'t, F>, Var<'t, F>) {
    let z = tape.constant(&standard_normal(n, model.dim(), rng));
    model.sample_with_log_q(store, &z)
}

/// Trains `model` (parameters in `store`) to approximate `target` by
/// minimizing the annealed reverse KL (see the module docs).
pub fn fit_variational<F: Float, R: Rng + ?Sized>(
    model: &FlowModel,
    store: &mut ParamStore<F>,
    target: &impl Target<F>,
    config: &ViConfig,
    rng: &mut R,
    observer: &mut impl ViObserver,
) -> Result<ViFitted, String> {
    config.validate().map_err(|e| e.to_string())?;
    check_model(model, target)?;
    let schedule = CosineSchedule::new(config.lr, config.lr / 10.0, config.steps);
    let mut trainer = Trainer::new(schedule, config.clip);
    let start = Instant::now();
    let estimate = |store: &ParamStore<F>, rng: &mut R| {
        diagnose(model, store, target, config.eval_samples, rng).elbo
    };
    let mut metrics = vec![ViRow {
        step: 0,
        beta: config.beta(1),
        loss: f64::NAN,
        elbo: Some(estimate(store, rng)),
        seconds: 0.0,
    }];
    let mut stop = Stop::Finished;
    for step in 1..=config.steps {
        if observer.should_stop() {
            stop = Stop::Interrupted { at_step: step };
            break;
        }
        let beta = config.beta(step);
        let report = trainer.step_with(store, |tape, store| {
            let (x, log_q) = sample_on_tape(model, store, tape, config.samples, rng);
            let log_p = target.log_density(&x);
            log_q.sub(&log_p.scale(F::from_f64(beta))).mean()
        });
        if !report.nll.is_finite() || !report.grad_norm.is_finite() {
            stop = Stop::Diverged { at_step: step };
            break;
        }
        let measured = step % config.eval_every == 0 || step == config.steps;
        let row = ViRow {
            step,
            beta,
            loss: report.nll,
            elbo: measured.then(|| estimate(store, rng)),
            seconds: start.elapsed().as_secs_f64(),
        };
        observer.on_step(&row, config.steps);
        metrics.push(row);
    }
    Ok(ViFitted {
        metrics,
        stop,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// How well q fits p̃, from `n` fresh samples (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diagnostics {
    pub samples: usize,
    /// E_q[log p̃ − log q], nats.
    pub elbo: f64,
    /// Its Monte-Carlo standard error.
    pub elbo_se: f64,
    /// log mean(p̃/q): the importance-sampling estimate of log Z.
    pub log_z_is: f64,
    /// (Σw)²/Σw² / n, in (0, 1].
    pub ess_fraction: f64,
}

impl Diagnostics {
    /// KL(q‖p) = log Z − ELBO, for a known log Z.
    pub fn kl(&self, log_z: f64) -> f64 {
        log_z - self.elbo
    }
}

/// [`Diagnostics`] of `model` against `target` from `n` samples, drawn and
/// weighed [`CHUNK`] at a time (memory does not grow with `n`).
pub fn diagnose<F: Float, R: Rng + ?Sized>(
    model: &FlowModel,
    store: &ParamStore<F>,
    target: &impl Target<F>,
    n: usize,
    rng: &mut R,
) -> Diagnostics {
    // Welford's running mean and sum of squared deviations: the textbook
    // E[w²] − E[w]² would cancel away the variance of nearly equal weights.
    let (mut count, mut mean, mut squares) = (0.0, 0.0, 0.0);
    let (mut lse, mut lse_twice) = (LogSumExp::default(), LogSumExp::default());
    let mut done = 0;
    while done < n {
        let size = CHUNK.min(n - done);
        let z = standard_normal(size, model.dim(), rng);
        let (x, log_q) = model.sample_with_log_q(store, &z);
        let log_p = log_density_values(target, &x);
        for (lp, lq) in log_p.iter().zip(log_q.data()) {
            let log_w = lp - lq.to_f64();
            count += 1.0;
            let delta = log_w - mean;
            mean += delta / count;
            squares += delta * (log_w - mean);
            lse.add(log_w);
            lse_twice.add(2.0 * log_w);
        }
        done += size;
    }
    let count = f64::max(count, 1.0);
    let variance = squares / count;
    Diagnostics {
        samples: n,
        elbo: mean,
        elbo_se: (variance / count).sqrt(),
        log_z_is: lse.value() - count.ln(),
        ess_fraction: (2.0 * lse.value() - lse_twice.value()).exp() / count,
    }
}
