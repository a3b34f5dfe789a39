//! One training step of maximum likelihood, with the tape and the optimizer
//! state kept between steps.
//!
//! A step: rewind the tape, record NLL = −mean log p(x) on the batch, sweep
//! backwards, clip the gradient norm, and let Adam update the parameters at the
//! learning rate of the schedule.

use crate::model::FlowModel;
use autograd::{
    clip_grad_norm, map_parts, thread_count, Adam, CosineSchedule, Float, ParamStore, Tape, Tensor,
    Value, Var,
};
use std::sync::Mutex;

/// A batch is cut into one share per thread (see [`Trainer::step`]) when
/// every share gets at least this many rows: below that, the per-op
/// splitting of `autograd` does better.
pub const MIN_SHARE_ROWS: usize = 1024;

/// Adam with a cosine schedule and gradient clipping, and a reusable tape.
pub struct Trainer<F: Float> {
    tape: Tape<F>,
    /// One tape per share of a batch cut across threads, kept between steps
    /// for their buffers.
    share_tapes: Vec<Mutex<Tape<F>>>,
    pub adam: Adam<F>,
    pub schedule: CosineSchedule,
    /// Largest gradient norm let through (∞: no clipping).
    pub max_grad_norm: f64,
    step: usize,
}

/// What one step measured.
#[derive(Clone, Copy, Debug)]
pub struct StepReport {
    /// The loss before the update: the batch's mean NLL in nats per point
    /// (or, through [`Trainer::step_with`], whatever loss was recorded).
    pub nll: f64,
    pub grad_norm: f64,
    pub lr: f64,
}

impl StepReport {
    /// A step whose loss was not finite: nothing was updated.
    fn diverged(nll: f64, lr: f64) -> Self {
        StepReport {
            nll,
            grad_norm: f64::NAN,
            lr,
        }
    }
}

impl<F: Float> Trainer<F> {
    /// The learning rate of the next step relative to the peak: the input
    /// noise of noise regularization is annealed with it.
    pub fn noise_factor(&self) -> f64 {
        self.schedule.lr(self.step) / self.schedule.lr_max
    }

    pub fn new(schedule: CosineSchedule, max_grad_norm: f64) -> Self {
        Trainer {
            tape: Tape::new(),
            share_tapes: Vec::new(),
            adam: Adam::new(schedule.lr_max),
            schedule,
            max_grad_norm,
            step: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// One update on `batch`: the loss is its NLL.
    ///
    /// A big batch (at least [`MIN_SHARE_ROWS`] rows per thread) is cut into
    /// one share per thread, as [`Trainer::step_in_shares`] does; otherwise
    /// the step is recorded on one tape and its big ops split their rows.
    pub fn step(
        &mut self,
        model: &FlowModel,
        store: &mut ParamStore<F>,
        batch: &Tensor<F>,
    ) -> StepReport {
        let shares = (batch.rows() / MIN_SHARE_ROWS).min(thread_count());
        if shares >= 2 {
            return self.step_in_shares(model, store, batch, shares);
        }
        self.step_with(store, |tape, store| model.nll(store, &tape.constant(batch)))
    }

    /// One update on `batch` cut into `shares` consecutive shares of rows,
    /// each recorded and swept on its own tape, on its own thread when there
    /// are several. The loss is a mean over rows, so
    ///   ∇ NLL(batch) = Σₖ (nₖ / n) ∇ NLL(shareₖ):
    /// each share's loss is weighed by nₖ/n before its sweep, and the shares'
    /// parameter gradients are added up in order. The result is the full
    /// batch's gradient up to rounding (the sum over rows is split in
    /// `shares` parts), the same for any number of threads at a given
    /// `shares`, and the whole step runs in parallel with one hand-off.
    pub fn step_in_shares(
        &mut self,
        model: &FlowModel,
        store: &mut ParamStore<F>,
        batch: &Tensor<F>,
        shares: usize,
    ) -> StepReport {
        let n = batch.rows();
        let shares = shares.clamp(1, n.max(1));
        while self.share_tapes.len() < shares {
            self.share_tapes.push(Mutex::default());
        }
        let tapes = &self.share_tapes[..shares];
        let params: &ParamStore<F> = store;
        let losses = map_parts(shares, |k| {
            let mut tape = tapes[k].lock().unwrap_or_else(|e| e.into_inner());
            tape.reset();
            let rows: Vec<usize> = (n * k / shares..n * (k + 1) / shares).collect();
            let weight = F::from_f64(rows.len() as f64 / n as f64);
            let share = tape.constant(&batch.select_rows(&rows));
            let loss = model.nll(params, &share).scale(weight);
            let value = loss.item().to_f64();
            if value.is_finite() {
                tape.backward(loss);
            }
            value
        });
        let nll: f64 = losses.iter().sum();
        let lr = self.schedule.lr(self.step);
        if !nll.is_finite() {
            return StepReport::diverged(nll, lr);
        }
        store.zero_grads();
        for tape in tapes {
            let tape = tape.lock().unwrap_or_else(|e| e.into_inner());
            tape.accumulate_param_grads(store);
        }
        self.update(store, nll, lr)
    }

    /// One update on the loss that `record` writes on the (rewound) tape,
    /// reading parameters from the store it is given. A non-finite loss or
    /// gradient leaves the parameters untouched and is reported in the
    /// result, so the caller can stop cleanly.
    pub fn step_with(
        &mut self,
        store: &mut ParamStore<F>,
        record: impl for<'t> FnOnce(&'t Tape<F>, &ParamStore<F>) -> Var<'t, F>,
    ) -> StepReport {
        self.tape.reset();
        let loss = record(&self.tape, store);
        let nll = loss.item().to_f64();
        let lr = self.schedule.lr(self.step);
        if !nll.is_finite() {
            return StepReport::diverged(nll, lr);
        }
        self.tape.backward_into(loss, store);
        self.update(store, nll, lr)
    }

    /// Clips the gradient in `store` and lets Adam take the step (unless the
    /// gradient is not finite).
    fn update(&mut self, store: &mut ParamStore<F>, nll: f64, lr: f64) -> StepReport {
        let grad_norm = clip_grad_norm(store, self.max_grad_norm);
        if grad_norm.is_finite() {
            self.adam.lr = lr;
            self.adam.step(store);
            self.step += 1;
        }
        StepReport { nll, grad_norm, lr }
    }
}
