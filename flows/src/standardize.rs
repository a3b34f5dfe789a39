//! Standardization: z = (x − μ)/σ per dimension, with μ and σ the mean and
//! standard deviation of the training data, fixed (not trained).
//!
//! Flows train best on data of unit scale, but users want densities of *their*
//! data. Making standardization the model's first (fixed) layer gives both:
//! the Jacobian is diag(1/σ), so
//!   log p(x) = log p_std((x − μ)/σ) − Σ_d log σ_d,
//! and every log-probability the model reports is in the data's own coordinates;
//! sampling ends with x = μ + σ⊙z_std.

use crate::flow::Flow;
use crate::stats::column_moments;
use autograd::{Float, ParamId, ParamStore, Tensor, Value};

#[derive(Clone, Debug)]
pub struct Standardize {
    /// Buffer `[d]`.
    pub mean: ParamId,
    /// Buffer `[d]`.
    pub std: ParamId,
}

impl Standardize {
    /// The identity until [`Standardize::fit`] is called.
    pub fn new<F: Float>(store: &mut ParamStore<F>, prefix: &str, d: usize) -> Self {
        Standardize {
            mean: store.add_buffer(&format!("{prefix}.mean"), Tensor::zeros(&[d])),
            std: store.add_buffer(&format!("{prefix}.std"), Tensor::full(&[d], F::ONE)),
        }
    }

    /// Sets μ and σ from data `[n, d]` (population std). A column with zero
    /// variance has no density to speak of: it is an error naming the column.
    pub fn fit<F: Float>(&self, store: &mut ParamStore<F>, x: &Tensor<F>) -> Result<(), String> {
        let (n, d) = (x.rows(), x.cols());
        if n < 2 {
            return Err(format!("need at least 2 points to standardize, got {n}"));
        }
        let (mean, std) = column_moments(x);
        // Relative to the column's magnitude: 1e9 + 1e-9 noise is constant,
        // values of 1e-30 that differ by 1e-30 are not.
        let magnitude = |j: usize| {
            (0..n)
                .map(|r| x.row(r)[j].to_f64().abs())
                .fold(0.0, f64::max)
        };
        if let Some(j) = (0..d).find(|&j| !(std[j] > 1e-12 * magnitude(j) && std[j].is_finite())) {
            return Err(format!(
                "column {} has zero variance (every value is {})",
                j + 1,
                mean[j]
            ));
        }
        *store.value_mut(self.mean) = Tensor::from_f64(&mean, &[d]);
        *store.value_mut(self.std) = Tensor::from_f64(&std, &[d]);
        Ok(())
    }
}

impl<F: Float> Flow<F> for Standardize {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let sigma = x.param(store, self.std);
        let z = x.sub(&x.param(store, self.mean)).div(&sigma);
        (z, sigma.log().sum().neg())
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let sigma = z.param(store, self.std);
        let x = z.mul(&sigma).add(&z.param(store, self.mean));
        (x, sigma.log().sum())
    }

    fn name(&self) -> String {
        "standardize".into()
    }
}
