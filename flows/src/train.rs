//! One training step of maximum likelihood, with the tape and the optimizer
//! state kept between steps.
//!
//! A step: rewind the tape, record NLL = −mean log p(x) on the batch, sweep
//! backwards, clip the gradient norm, and let Adam update the parameters at the
//! learning rate of the schedule.

use crate::model::FlowModel;
use autograd::{clip_grad_norm, Adam, CosineSchedule, Float, ParamStore, Tape, Tensor, Var};

/// Adam with a cosine schedule and gradient clipping, and a reusable tape.
pub struct Trainer<F: Float> {
    tape: Tape<F>,
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

impl<F: Float> Trainer<F> {
    pub fn new(schedule: CosineSchedule, max_grad_norm: f64) -> Self {
        Trainer {
            tape: Tape::new(),
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
    pub fn step(
        &mut self,
        model: &FlowModel,
        store: &mut ParamStore<F>,
        batch: &Tensor<F>,
    ) -> StepReport {
        self.step_with(store, |tape, store| model.nll(store, &tape.constant(batch)))
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
            return StepReport {
                nll,
                grad_norm: f64::NAN,
                lr,
            };
        }
        self.tape.backward_into(loss, store);
        let grad_norm = clip_grad_norm(store, self.max_grad_norm);
        if grad_norm.is_finite() {
            self.adam.lr = lr;
            self.adam.step(store);
            self.step += 1;
        }
        StepReport { nll, grad_norm, lr }
    }
}
