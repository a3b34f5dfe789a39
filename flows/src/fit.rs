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
//! 4. stop after the budget, when the loss or its gradient stops being finite
//!    (the parameters of that step are not applied), or when the
//!    [`Observer`] asks to (Ctrl-C, say).
//!
//! The result is the best parameters, not the last: on small data the last
//! step has usually begun to overfit.

use crate::model::FlowModel;
use crate::train::Trainer;
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
}

impl Observer for () {}

/// What [`fit`] returns.
#[derive(Clone, Debug)]
pub struct Fitted<F> {
    /// The parameters with the lowest held-out NLL seen.
    pub best: ParamStore<F>,
    pub best_step: usize,
    /// The held-out NLL of `best`, in precision `F`.
    pub best_heldout_nll: f64,
    /// Row 0 (before training), then one row per step taken.
    pub metrics: Vec<MetricRow>,
    pub stop: Stop,
    /// Steps the budget allowed.
    pub planned_steps: usize,
    /// Points per step.
    pub batch: usize,
    /// Wall time of the training loop.
    pub seconds: f64,
}

impl<F> Fitted<F> {
    /// Steps actually taken.
    pub fn steps_taken(&self) -> usize {
        self.metrics.last().map_or(0, |m| m.step)
    }
}

/// Trains `model` (parameters in `store`) on `train`, selecting on `heldout`.
/// `store` ends at the last step's parameters; the best ones are returned.
/// Errors are about the data or the settings (a constant column, an invalid
/// config) and come before any step is taken.
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
    model.fit_initialization(store, train)?;
    let n = train.rows();
    let batch = config.batch.size(n);
    let steps = config.total_steps(n).map_err(|e| e.to_string())?;
    let mut trainer = Trainer::new(config.lr_schedule(steps), config.clip);
    let mut batches = Batches::new(n, batch);
    let start = Instant::now();

    let initial = model.nll(store, heldout).item().to_f64();
    let mut metrics = vec![MetricRow {
        step: 0,
        train_nll: model.nll(store, train).item().to_f64(),
        heldout_nll: Some(initial),
        seconds: 0.0,
    }];
    let mut best = (initial, 0, store.clone());
    let mut latest_heldout = initial;
    let mut stop = Stop::Finished;
    for step in 1..=steps {
        if observer.should_stop() {
            stop = Stop::Interrupted { at_step: step };
            break;
        }
        let report = trainer.step(model, store, &batches.next(train, rng));
        if !report.nll.is_finite() || !report.grad_norm.is_finite() {
            stop = Stop::Diverged { at_step: step };
            break;
        }
        let heldout_nll = (step % config.eval_every == 0 || step == steps)
            .then(|| model.nll(store, heldout).item().to_f64());
        if let Some(h) = heldout_nll {
            latest_heldout = h;
            if h < best.0 {
                best = (h, step, store.clone());
            }
        }
        let row = MetricRow {
            step,
            train_nll: report.nll,
            heldout_nll,
            seconds: start.elapsed().as_secs_f64(),
        };
        metrics.push(row);
        observer.on_step(&row, steps, latest_heldout);
    }
    let (best_heldout_nll, best_step, best) = best;
    Ok(Fitted {
        best,
        best_step,
        best_heldout_nll,
        metrics,
        stop,
        planned_steps: steps,
        batch,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Minibatches without replacement: a shuffled order of the training points,
/// cut into consecutive batches and reshuffled when too few points are left
/// for a whole batch.
struct Batches {
    order: Vec<usize>,
    cursor: usize,
    batch: usize,
}

impl Batches {
    fn new(n: usize, batch: usize) -> Self {
        Batches {
            order: (0..n).collect(),
            cursor: n, // forces a shuffle before the first batch
            batch,
        }
    }

    fn next<F: Float, R: Rng + ?Sized>(&mut self, train: &Tensor<F>, rng: &mut R) -> Tensor<F> {
        let n = self.order.len();
        if self.cursor + self.batch > n {
            self.order.shuffle(rng);
            self.cursor = 0;
        }
        let picked = &self.order[self.cursor..self.cursor + self.batch];
        self.cursor += self.batch;
        if self.batch == n {
            train.clone()
        } else {
            train.select_rows(picked)
        }
    }
}
