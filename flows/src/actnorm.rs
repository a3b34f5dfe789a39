//! ActNorm (Kingma & Dhariwal 2018, Glow): a per-dimension affine map
//!
//!   z = (x − μ) ⊙ exp(−log σ)    i.e.  z_d = (x_d − μ_d)/σ_d
//!
//! with μ and log σ trainable. The Jacobian is diagonal with entries 1/σ_d, so
//!   log|det ∂z/∂x| = −Σ_d log σ_d,
//! the same for every sample (returned as a single number).
//!
//! **Data-dependent initialization.** On the first batch it sees, μ and σ are set
//! to that batch's per-dimension mean and standard deviation, so the layer's
//! outputs start with zero mean and unit variance. Whether that has happened is
//! *state*: it is kept in the parameter store as a buffer, saved with the
//! checkpoint, so a reloaded model never re-initializes and overwrites trained
//! values (the bug of nflows issue #4).

use crate::flow::Flow;
use crate::stats::column_moments;
use autograd::{Float, ParamId, ParamStore, Tensor, Value};

#[derive(Clone, Debug)]
pub struct ActNorm {
    pub shift: ParamId,
    pub log_scale: ParamId,
    /// A one-element buffer: 1 once initialized, 0 before.
    pub initialized: ParamId,
}

/// Keeps σ away from 0 when a batch has (nearly) constant columns.
const MIN_STD: f64 = 1e-6;

impl ActNorm {
    pub fn new<F: Float>(store: &mut ParamStore<F>, prefix: &str, dim: usize) -> Self {
        ActNorm {
            shift: store.add(&format!("{prefix}.shift"), Tensor::zeros(&[dim])),
            log_scale: store.add(&format!("{prefix}.log_scale"), Tensor::zeros(&[dim])),
            initialized: store.add_buffer(&format!("{prefix}.initialized"), Tensor::zeros(&[1])),
        }
    }

    pub fn is_initialized<F: Float>(&self, store: &ParamStore<F>) -> bool {
        store.value(self.initialized).item() != F::ZERO
    }
}

impl<F: Float> Flow<F> for ActNorm {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let mu = x.param(store, self.shift);
        let log_sigma = x.param(store, self.log_scale);
        let z = x.sub(&mu).mul(&log_sigma.neg().exp());
        (z, log_sigma.sum().neg())
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let mu = z.param(store, self.shift);
        let log_sigma = z.param(store, self.log_scale);
        (z.mul(&log_sigma.exp()).add(&mu), log_sigma.sum())
    }

    /// Sets μ and log σ from the batch `x`, once.
    fn initialize(&self, store: &mut ParamStore<F>, x: &Tensor<F>) {
        if self.is_initialized(store) || x.rows() == 0 {
            return;
        }
        let d = x.cols();
        let (mean, std) = column_moments(x);
        let log_std: Vec<f64> = std.iter().map(|s| s.max(MIN_STD).ln()).collect();
        *store.value_mut(self.shift) = Tensor::from_f64(&mean, &[d]);
        *store.value_mut(self.log_scale) = Tensor::from_f64(&log_std, &[d]);
        *store.value_mut(self.initialized) = Tensor::full(&[1], F::ONE);
    }

    fn name(&self) -> String {
        "actnorm".into()
    }
}
