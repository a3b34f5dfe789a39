//! The [`Flow`] trait: one invertible map with its log-determinant. Every
//! layer implements it; `layer.rs` puts them together.
//!
//! Convention (as in the papers): a flow maps data x to latent z = f(x).
//! `forward` returns z and log|det ∂z/∂x| for each sample; `inverse` returns
//! x = f⁻¹(z) and log|det ∂x/∂z| = −log|det ∂z/∂x| at that x.
//!
//! The log-det comes back either per sample (shape `[n]`) or, for layers whose
//! Jacobian does not depend on x (ActNorm, LU-linear, permutations), as a single
//! number (shape `[]`) that broadcasting adds to every sample. That keeps
//! constant-Jacobian layers from paying for a per-sample copy.
//!
//! Methods are generic over [`Value`], so the same code runs on a tape
//! (training: `V = Var`) and on plain tensors (sampling, evaluation: `V = Tensor`).

use autograd::{Float, ParamStore, Tensor, Value};

/// One invertible layer.
pub trait Flow<F: Float> {
    /// z = f(x) and log|det ∂z/∂x|, shape `[n]` or `[]`.
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V);

    /// x = f⁻¹(z) and log|det ∂x/∂z|, shape `[n]` or `[]`.
    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V);

    /// Data-dependent initialization from a batch of this layer's inputs.
    /// Layers without one ignore it.
    fn initialize(&self, _store: &mut ParamStore<F>, _x: &Tensor<F>) {}

    /// A short name for plots and printouts (`"coupling"`, `"actnorm"`, …).
    fn name(&self) -> String;
}

/// A zero log-det (shape `[]`) in the context of `x`.
pub fn zero_logdet<F: Float, V: Value<F>>(x: &V) -> V {
    x.constant(&Tensor::scalar(F::ZERO))
}
