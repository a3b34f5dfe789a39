//! The [`Flow`] trait: one invertible map with its log-determinant, and
//! [`Layer`], the closed set of layers this crate offers.
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

use crate::actnorm::ActNorm;
use crate::coupling::Coupling;
use crate::linear::InvertibleLinear;
use crate::permutation::Permutation;
use crate::planar::Planar;
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

/// Every layer of the crate. An enum rather than trait objects: the set is closed,
/// a `match` shows all of them at once, and checkpoints can name each kind.
#[derive(Clone, Debug)]
pub enum Layer {
    Coupling(Coupling),
    ActNorm(ActNorm),
    Permutation(Permutation),
    InvertibleLinear(InvertibleLinear),
    Planar(Planar),
    Sequential(Sequential),
}

macro_rules! dispatch {
    ($self:ident, $layer:ident => $call:expr) => {
        match $self {
            Layer::Coupling($layer) => $call,
            Layer::ActNorm($layer) => $call,
            Layer::Permutation($layer) => $call,
            Layer::InvertibleLinear($layer) => $call,
            Layer::Planar($layer) => $call,
            Layer::Sequential($layer) => $call,
        }
    };
}

impl<F: Float> Flow<F> for Layer {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        dispatch!(self, l => l.forward(store, x))
    }
    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        dispatch!(self, l => l.inverse(store, z))
    }
    fn initialize(&self, store: &mut ParamStore<F>, x: &Tensor<F>) {
        dispatch!(self, l => Flow::<F>::initialize(l, store, x))
    }
    fn name(&self) -> String {
        dispatch!(self, l => Flow::<F>::name(l))
    }
}

/// A chain f = f_K ∘ … ∘ f₁. By the chain rule the Jacobian is the product of
/// the layers' Jacobians, so the log-dets add:
///   log|det ∂z/∂x| = Σₖ log|det ∂hₖ/∂hₖ₋₁|,  h₀ = x, h_K = z.
/// The inverse runs the layers backwards, each inverted.
#[derive(Clone, Debug, Default)]
pub struct Sequential {
    pub layers: Vec<Layer>,
}

impl Sequential {
    pub fn new(layers: Vec<Layer>) -> Self {
        Sequential { layers }
    }

    /// The output of every layer on `x` (evaluated, not recorded), each with its
    /// layer's name: pictures of how the data flows through the model.
    pub fn stages<F: Float>(
        &self,
        store: &ParamStore<F>,
        x: &Tensor<F>,
    ) -> Vec<(String, Tensor<F>)> {
        let mut h = x.clone();
        self.layers
            .iter()
            .map(|layer| {
                h = layer.forward(store, &h).0;
                (Flow::<F>::name(layer), h.clone())
            })
            .collect()
    }
}

impl<F: Float> Flow<F> for Sequential {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let mut h = x.clone();
        let mut logdet = zero_logdet(x);
        for layer in &self.layers {
            let (next, ld) = layer.forward(store, &h);
            logdet = logdet.add(&ld);
            h = next;
        }
        (h, logdet)
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let mut h = z.clone();
        let mut logdet = zero_logdet(z);
        for layer in self.layers.iter().rev() {
            let (next, ld) = layer.inverse(store, &h);
            logdet = logdet.add(&ld);
            h = next;
        }
        (h, logdet)
    }

    /// Initializes each layer on the output of the ones before it.
    fn initialize(&self, store: &mut ParamStore<F>, x: &Tensor<F>) {
        let mut h = x.clone();
        for layer in &self.layers {
            layer.initialize(store, &h);
            h = layer.forward(store, &h).0;
        }
    }

    fn name(&self) -> String {
        "sequential".into()
    }
}
