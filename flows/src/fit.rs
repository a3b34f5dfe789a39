//! [`fit`]: the whole training procedure as one call.
//!
//! Maximum likelihood with model selection on held-out data:
//!
//! 1. fit the standardization and every data-dependent initialization
//!    (ActNorm) on the training points;
//! 2. take optimizer steps ([`Trainer::step`]) on minibatches drawn without
//!    replacement from a shuffled order, reshuffled once a pass is used up;
//! 3. every `eval_every` steps (and after the last), measure the held-out NLL
//!    and keep a copy of the parameters whenever it is the best so far;
//!    gross outliers among the held-out points do not take part in that
//!    choice (see [`outliers`]), or one point a million units away would make
//!    the untrained model, whose tails are widest, the best;
//! 4. stop after the budget, when the loss or its gradient stops being finite
//!    (the parameters of that step are not applied), or when the
//!    [`Observer`] asks to (Ctrl-C, say). Steps 2–4 are one selection run at
//!    one level of input noise; with several levels
//!    ([`TrainConfig::noise_levels`]) each gets its own run from the same
//!    initialized model, and the run whose best model scores lowest on the
//!    held-out points wins: the held-out split picks the amount of smoothing,
//!    as cross-validation picks a kernel density estimate's bandwidth;
//! 5. if [`TrainConfig::refit`] is on and the budget was used: start again
//!    from the same initial parameters, fit the initialization on the
//!    training and held-out points together, and take as many steps on all of
//!    them as the best model had taken (the same schedule, so the same
//!    learning rates), and keep that model. The held-out split has done its
//!    job — choosing when to stop — and its points are then worth more as
//!    training data: a fifth more data is a better density (and, for a small
//!    table, a better covariance). The refit uses the winning noise level.
//!
//! The result is the best parameters, not the last: on small data the last
//! step has usually begun to overfit.

use crate::evaluate;
use crate::model::FlowModel;
use crate::train::{StepReport, Trainer};
use crate::train_config::TrainConfig;
use autograd::{Float, ParamStore, Tensor};
use rand::seq::SliceRandom;
use rand::Rng;
use std::time::Instant;

/// One row of the training record: the minibatch NLL of a step, and the
/// held-out NLL where it was measured (nats per point).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricRow {
    /// 0 is the model before training (its train NLL on all training points).
    pub step: usize,
    pub train_nll: f64,
    pub heldout_nll: Option<f64>,
    /// Since training started.
    pub seconds: f64,
}

/// Why training ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The whole budget was used.
    Finished,
    /// The observer asked to stop before this step.
    Interrupted { at_step: usize },
    /// The loss or its gradient was not finite at this step (not applied).
    Diverged { at_step: usize },
}

/// Watches training: progress, per-step metrics, and a way to stop early.
/// Every method has a default that does nothing, so `&mut ()` is an observer.
pub trait Observer {
    /// Called before each step; returning true ends training there.
    fn should_stop(&mut self) -> bool {
        false
    }

    /// Called after each step with its row, the planned number of steps, and
    /// the most recent held-out NLL.
    fn on_step(&mut self, _row: &MetricRow, _total_steps: usize, _latest_heldout: f64) {}

    /// Called before the first step (step 0, the initialized model) and after
    /// each step with the parameters of the model being judged: the running
    /// average when `averaging` is on (what the held-out NLL is measured on
    /// and what may be kept), the live parameters otherwise. Copy the steps
    /// you want (`cli train --animate` keeps a few dozen to draw the density
    /// as it is learned); a shared reference cannot change the training.
    fn on_params<F: Float>(&mut self, _step: usize, _params: &ParamStore<F>) {}

    /// Called before each selection run, `run` of `runs` (one per level of
    /// [`TrainConfig::noise_levels`]), with its input-noise level; the steps
    /// of every run are reported through [`Observer::on_step`] and
    /// [`Observer::on_params`], counted from 1 in each.
    fn on_selection_run(&mut self, _run: usize, _runs: usize, _noise: f64) {}

    /// Called after each step of the refit on all points (see [`fit`]) with
    /// its minibatch NLL.
    fn on_refit_step(&mut self, _step: usize, _total_steps: usize, _train_nll: f64) {}
}

impl Observer for () {}

/// The second run of [`fit`] on the training and held-out points together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Refit {
    /// Training plus held-out points.
    pub points: usize,
    /// As many as the selected model had taken.
    pub steps: usize,
    /// Wall time of the refit alone.
    pub seconds: f64,
}

/// What [`fit`] returns.
#[derive(Clone, Debug)]
pub struct Fitted<F> {
    /// The model to keep: the refit one if [`Fitted::refit`] is set,
    /// otherwise the same as `selected`.
    pub best: ParamStore<F>,
    /// The parameters with the lowest held-out NLL seen in the selection run.
    pub selected: ParamStore<F>,
    pub best_step: usize,
    /// The held-out NLL of `selected` (all held-out points), in precision `F`.
    pub best_heldout_nll: f64,
    /// The input-noise level of the selection run that gave `selected` (and
    /// of the refit).
    pub input_noise: f64,
    /// Every level tried ([`TrainConfig::noise_levels`]) with the best
    /// held-out NLL of its run, in the order run.
    pub noise_trials: Vec<(f64, f64)>,
    /// Set if the kept model was trained again on all the points.
    pub refit: Option<Refit>,
    /// Held-out rows left out of model selection, with their NLL under the
    /// initial model (see [`outliers`]).
    pub outliers: Vec<(usize, f64)>,
    /// Row 0 (before training), then one row per step taken.
    pub metrics: Vec<MetricRow>,
    pub stop: Stop,
    /// Steps the budget allowed.
    pub planned_steps: usize,
    /// Points per step.
    pub batch: usize,
    /// Optimizer steps taken in all: every selection run's and the refit's.
    pub steps_run: usize,
    /// Wall time of the training loop (and the refit).
    pub seconds: f64,
}

impl<F> Fitted<F> {
    /// Steps actually taken.
    pub fn steps_taken(&self) -> usize {
        self.metrics.last().map_or(0, |m| m.step)
    }
}

/// Trains `model` (parameters in `store`) on `train`, selecting on `heldout`.
/// `store` ends at the last step's parameters of the last selection run; the
/// best ones are returned. Errors are about the data or the settings (a
/// constant column, an invalid config) and come before any step is taken.
pub fn fit<F: Float, R: Rng + ?Sized>(
    model: &FlowModel,
    store: &mut ParamStore<F>,
    train: &Tensor<F>,
    heldout: &Tensor<F>,
    config: &TrainConfig,
    rng: &mut R,
    observer: &mut impl Observer,
) -> Result<Fitted<F>, String> {
    config.validate().map_err(|e| e.to_string())?;
    let untrained = config.refit.then(|| store.clone());
    model.fit_initialization(store, train)?;
    let n = train.rows();
    let batch = config.batch.size(n);
    let steps = config.total_steps(n).map_err(|e| e.to_string())?;
    let start = Instant::now();

    let initial_each = evaluate::log_prob(model, store, heldout);
    let outliers = outliers(&initial_each);
    let judge = Judge::new(heldout.rows(), &outliers);
    let initial = Initial {
        store: store.clone(),
        train_nll: evaluate::mean_nll(model, store, train),
        heldout: judge.score(&initial_each),
    };
    let levels = config.noise_levels();
    let mut trials = Vec::with_capacity(levels.len());
    let mut winner: Option<(f64, Selection<F>)> = None;
    let mut interrupted = None;
    let mut steps_run = 0;
    for (i, &noise) in levels.iter().enumerate() {
        if i > 0 {
            *store = initial.store.clone();
        }
        observer.on_selection_run(i, levels.len(), noise);
        let run = Selection::run(
            model,
            store,
            (train, heldout),
            &judge,
            &initial,
            config,
            (noise, steps),
            start,
            rng,
            observer,
        );
        trials.push((noise, run.best_heldout_nll));
        steps_run += run.metrics.len() - 1;
        if let Stop::Interrupted { .. } = run.stop {
            interrupted = Some(run.stop);
        }
        if winner
            .as_ref()
            .is_none_or(|(_, w)| run.best_score < w.best_score)
        {
            winner = Some((noise, run));
        }
        if interrupted.is_some() {
            // Ctrl-C ends the whole fit; the best model so far is kept.
            break;
        }
    }
    let (input_noise, selection) = winner.expect("at least one noise level");
    let Selection {
        best_heldout_nll,
        best_step,
        selected,
        metrics,
        stop,
        ..
    } = selection;
    let mut stop = interrupted.unwrap_or(stop);
    let mut refit = None;
    let mut kept = None;
    if let (Some(mut fresh), Stop::Finished) = (untrained, stop) {
        let refit_start = Instant::now();
        let all = train.concat_rows(heldout);
        model.fit_initialization(&mut fresh, &all)?;
        match refit_on(
            model,
            fresh,
            &all,
            config,
            (input_noise, best_step, steps),
            rng,
            observer,
        ) {
            Ok(store) => {
                kept = Some(store);
                steps_run += best_step;
                refit = Some(Refit {
                    points: all.rows(),
                    steps: best_step,
                    seconds: refit_start.elapsed().as_secs_f64(),
                });
            }
            // The selection run had finished: that is as far as it got.
            Err(RefitEnd::Interrupted) => stop = Stop::Interrupted { at_step: steps },
            // A refit that diverges leaves the selected model, which did not.
            Err(RefitEnd::Diverged) => {}
        }
    }
    Ok(Fitted {
        best: kept.unwrap_or_else(|| selected.clone()),
        selected,
        refit,
        best_step,
        best_heldout_nll,
        input_noise,
        noise_trials: trials,
        outliers: outliers.iter().map(|&i| (i, -initial_each[i])).collect(),
        metrics,
        stop,
        planned_steps: steps,
        batch,
        steps_run,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The initialized model every selection run starts from, and its scores.
struct Initial<F: Float> {
    store: ParamStore<F>,
    train_nll: f64,
    /// (mean held-out NLL, selection score), as [`Judge::score`] gives them.
    heldout: (f64, f64),
}

/// One selection run (steps 2–4 of [`fit`]) at one input-noise level.
struct Selection<F: Float> {
    /// The lowest selection score seen, and that model's held-out NLL, step
    /// and parameters.
    best_score: f64,
    best_heldout_nll: f64,
    best_step: usize,
    selected: ParamStore<F>,
    metrics: Vec<MetricRow>,
    stop: Stop,
}

impl<F: Float> Selection<F> {
    /// From `initial` (already in `store`), `steps` steps on `train` with
    /// input noise `noise`, judged on `heldout` every `eval_every` steps.
    #[allow(clippy::too_many_arguments)]
    fn run<R: Rng + ?Sized>(
        model: &FlowModel,
        store: &mut ParamStore<F>,
        (train, heldout): (&Tensor<F>, &Tensor<F>),
        judge: &Judge,
        initial: &Initial<F>,
        config: &TrainConfig,
        (noise, steps): (f64, usize),
        start: Instant,
        rng: &mut R,
        observer: &mut impl Observer,
    ) -> Self {
        let (initial_nll, initial_score) = initial.heldout;
        let mut metrics = vec![MetricRow {
            step: 0,
            train_nll: initial.train_nll,
            heldout_nll: Some(initial_nll),
            seconds: start.elapsed().as_secs_f64(),
        }];
        let mut best = (initial_score, initial_nll, 0, initial.store.clone());
        let mut run = Steps::new(config, train, steps, store, noise);
        observer.on_params(0, run.judged(store));
        let mut latest_heldout = initial_nll;
        let mut stop = Stop::Finished;
        for step in 1..=steps {
            if observer.should_stop() {
                stop = Stop::Interrupted { at_step: step };
                break;
            }
            let Some(report) = run.take(model, store, train, rng) else {
                stop = Stop::Diverged { at_step: step };
                break;
            };
            let measure = step % config.eval_every == 0 || step == steps;
            let heldout_nll = measure.then(|| {
                let judged = run.judged(store);
                let (mean, score) = judge.score(&evaluate::log_prob(model, judged, heldout));
                if score < best.0 {
                    best = (score, mean, step, judged.clone());
                }
                mean
            });
            latest_heldout = heldout_nll.unwrap_or(latest_heldout);
            let row = MetricRow {
                step,
                train_nll: report.nll,
                heldout_nll,
                seconds: start.elapsed().as_secs_f64(),
            };
            metrics.push(row);
            observer.on_step(&row, steps, latest_heldout);
            observer.on_params(step, run.judged(store));
        }
        let (best_score, best_heldout_nll, best_step, selected) = best;
        Selection {
            best_score,
            best_heldout_nll,
            best_step,
            selected,
            metrics,
            stop,
        }
    }
}

/// The machinery of a run of optimizer steps, shared by the selection run
/// and the refit: Adam with `config`'s schedule, clipping and weight decay,
/// the minibatches (with their input noise, annealed with the learning rate)
/// and the running average of the parameters, if asked for — what is judged
/// and kept then.
struct Steps<F: Float> {
    trainer: Trainer<F>,
    batches: Batches,
    averaged: Option<ParamStore<F>>,
    averaging: f64,
}

impl<F: Float> Steps<F> {
    /// A run on `data` whose schedule spans `planned_steps`, from `store`,
    /// with input noise `noise` (standard deviations of each column).
    fn new(
        config: &TrainConfig,
        data: &Tensor<F>,
        planned_steps: usize,
        store: &ParamStore<F>,
        noise: f64,
    ) -> Self {
        let mut trainer = Trainer::new(config.lr_schedule(planned_steps), config.clip);
        trainer.adam.weight_decay = config.weight_decay;
        let n = data.rows();
        Steps {
            trainer,
            batches: Batches::new(n, config.batch.size(n), noise_scale(noise, data)),
            averaged: (config.averaging > 0.0).then(|| store.clone()),
            averaging: config.averaging,
        }
    }

    /// One step on the next minibatch of `data`; `None` if its loss or
    /// gradient was not finite (then nothing was applied).
    fn take<R: Rng + ?Sized>(
        &mut self,
        model: &FlowModel,
        store: &mut ParamStore<F>,
        data: &Tensor<F>,
        rng: &mut R,
    ) -> Option<StepReport> {
        let batch = self.batches.next(data, self.trainer.noise_factor(), rng);
        let report = self.trainer.step(model, store, &batch);
        if !report.nll.is_finite() || !report.grad_norm.is_finite() {
            return None;
        }
        if let Some(avg) = self.averaged.as_mut() {
            average_into(avg, store, self.averaging);
        }
        Some(report)
    }

    /// The parameters judged and kept: the running average, or the live
    /// ones in `store`.
    fn judged<'a>(&'a self, store: &'a ParamStore<F>) -> &'a ParamStore<F> {
        self.averaged.as_ref().unwrap_or(store)
    }
}

/// Why a refit gave no model.
enum RefitEnd {
    Interrupted,
    Diverged,
}

/// Step 5 of [`fit`]: from the initialized `store`, `steps` steps on `all`
/// the points with input noise `noise` and the learning rates of a run of
/// `planned_steps`; the parameters
/// after the last one (their running average if averaging is on, as in the
/// selection run).
fn refit_on<F: Float, R: Rng + ?Sized>(
    model: &FlowModel,
    mut store: ParamStore<F>,
    all: &Tensor<F>,
    config: &TrainConfig,
    (noise, steps, planned_steps): (f64, usize, usize),
    rng: &mut R,
    observer: &mut impl Observer,
) -> Result<ParamStore<F>, RefitEnd> {
    let mut run = Steps::new(config, all, planned_steps, &store, noise);
    for step in 1..=steps {
        if observer.should_stop() {
            return Err(RefitEnd::Interrupted);
        }
        let report = run
            .take(model, &mut store, all, rng)
            .ok_or(RefitEnd::Diverged)?;
        observer.on_refit_step(step, steps, report.nll);
    }
    Ok(run.averaged.unwrap_or(store))
}

/// θ̄ ← a·θ̄ + (1 − a)·θ for every trainable entry (an exponential moving
/// average of the parameters, Polyak–Ruppert style): it smooths out the
/// minibatch noise of the last steps, which on small data generalizes better
/// than any single iterate.
fn average_into<F: Float>(averaged: &mut ParamStore<F>, store: &ParamStore<F>, a: f64) {
    let (a, b) = (F::from_f64(a), F::from_f64(1.0 - a));
    for ((_, p), q) in store.iter().zip(averaged.iter_mut()) {
        if p.trainable {
            for (avg, &v) in q.value.data_mut().iter_mut().zip(p.value.data()) {
                *avg = a * *avg + b * v;
            }
        } else {
            // Buffers (ActNorm's flag, say) follow the live model.
            q.value.data_mut().copy_from_slice(p.value.data());
        }
    }
}

/// How many interquartile ranges above the median a held-out point's NLL
/// under the initial model must lie to count as a gross outlier.
const OUTLIER_IQRS: f64 = 20.0;

/// At most this fraction of the held-out points is ever left out: more than
/// that many far points are a heavy tail of the data, not a few bad rows.
const MAX_OUTLIER_FRACTION: f64 = 0.01;

/// The held-out rows left out of model selection: those whose NLL under the
/// initial model (the standardized Gaussian every flow starts from) lies more
/// than [`OUTLIER_IQRS`] interquartile ranges above the median NLL — for a
/// Gaussian in 2-D, points beyond about 6 standard deviations — unless that
/// is more than [`MAX_OUTLIER_FRACTION`] of them. The set is fixed before
/// training, so every model is judged on the same points.
pub fn outliers(initial_log_p: &[f64]) -> Vec<usize> {
    let mut nll: Vec<f64> = initial_log_p.iter().map(|l| -l).collect();
    nll.sort_by(f64::total_cmp);
    let n = nll.len();
    if n < 4 {
        return Vec::new();
    }
    let quantile = |q: f64| nll[((n - 1) as f64 * q).round() as usize];
    let cut = quantile(0.5) + OUTLIER_IQRS * (quantile(0.75) - quantile(0.25));
    // A NaN NLL counts as far: it must not pass for an ordinary point.
    let far: Vec<usize> = (0..n)
        .filter(|&i| {
            let nll = -initial_log_p[i];
            nll.is_nan() || nll > cut
        })
        .collect();
    let allowed = (MAX_OUTLIER_FRACTION * n as f64).ceil() as usize;
    if far.len() <= allowed {
        far
    } else {
        Vec::new()
    }
}

/// Scores held-out log-probabilities: the plain mean NLL, and the mean NLL
/// without the outliers that model selection uses.
struct Judge {
    counted: Vec<bool>,
}

impl Judge {
    fn new(n: usize, outliers: &[usize]) -> Self {
        let mut counted = vec![true; n];
        for &i in outliers {
            counted[i] = false;
        }
        Judge { counted }
    }

    /// (mean NLL of all points, mean NLL of the counted points).
    fn score(&self, log_p: &[f64]) -> (f64, f64) {
        let n = log_p.len().max(1) as f64;
        let all = -log_p.iter().sum::<f64>() / n;
        let (kept, sum) = (log_p.iter().zip(&self.counted))
            .filter(|(_, &c)| c)
            .fold((0usize, 0.0), |(k, s), (l, _)| (k + 1, s - l));
        let score = if kept == 0 { all } else { sum / kept as f64 };
        // A NaN score must never win a comparison.
        (all, if score.is_nan() { f64::INFINITY } else { score })
    }
}

/// The standard deviation of the noise added to each column of a batch:
/// `noise` times the column's spread; `None` for none.
fn noise_scale<F: Float>(noise: f64, train: &Tensor<F>) -> Option<Vec<f64>> {
    (noise > 0.0).then(|| {
        let (_, std) = crate::stats::column_moments(train);
        std.iter().map(|s| s * noise).collect()
    })
}

/// Minibatches without replacement: a shuffled order of the training points,
/// cut into consecutive batches and reshuffled when too few points are left
/// for a whole batch; with Gaussian noise of `noise[j]` added to column j if
/// asked for (noise regularization).
struct Batches {
    order: Vec<usize>,
    cursor: usize,
    batch: usize,
    noise: Option<Vec<f64>>,
}

impl Batches {
    fn new(n: usize, batch: usize, noise: Option<Vec<f64>>) -> Self {
        Batches {
            order: (0..n).collect(),
            cursor: n, // forces a shuffle before the first batch
            batch,
            noise,
        }
    }

    /// The next batch, its noise (if any) scaled by `noise_factor`.
    fn next<F: Float, R: Rng + ?Sized>(
        &mut self,
        train: &Tensor<F>,
        noise_factor: f64,
        rng: &mut R,
    ) -> Tensor<F> {
        let n = self.order.len();
        if self.cursor + self.batch > n {
            self.order.shuffle(rng);
            self.cursor = 0;
        }
        let picked = &self.order[self.cursor..self.cursor + self.batch];
        self.cursor += self.batch;
        let mut batch = if self.batch == n {
            train.clone()
        } else {
            train.select_rows(picked)
        };
        if let Some(noise) = &self.noise {
            let d = noise.len();
            for (k, v) in batch.data_mut().iter_mut().enumerate() {
                let z: f64 = rng.sample(rand_distr::StandardNormal);
                *v += F::from_f64(noise_factor * noise[k % d] * z);
            }
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Noise of `noise[j]·factor` standard deviations lands on column j of
    /// every batch; with factor 0 (the end of the schedule) the batch is the
    /// data itself.
    #[test]
    fn batches_carry_the_scheduled_noise() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let data = Tensor::<f64>::zeros(&[20_000, 2]);
        let mut batches = Batches::new(20_000, 20_000, Some(vec![0.5, 2.0]));
        let batch = batches.next(&data, 0.5, &mut rng);
        for (j, want) in [(0, 0.25), (1, 1.0)] {
            let column: Vec<f64> = (0..batch.rows()).map(|r| batch.row(r)[j]).collect();
            let sd = (column.iter().map(|v| v * v).sum::<f64>() / column.len() as f64).sqrt();
            assert!(
                (sd / want - 1.0).abs() < 0.03,
                "column {j}: sd {sd}, want {want}"
            );
        }
        let last = batches.next(&data, 0.0, &mut rng);
        assert!(last.data().iter().all(|&v| v == 0.0));
    }
}
