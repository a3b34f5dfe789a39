//! [`Layer`], the closed set of layers this crate offers, and [`Sequential`],
//! a chain of them. This file imports every layer; no layer imports it.

use crate::actnorm::ActNorm;
use crate::autoregressive::MaskedAutoregressive;
use crate::coupling::Coupling;
use crate::flow::{zero_logdet, Flow};
use crate::linear::InvertibleLinear;
use crate::permutation::Permutation;
use crate::piecewise_linear::PiecewiseLinearCoupling;
use crate::planar::Planar;
use crate::radial::Radial;
use crate::spline::SplineCoupling;
use autograd::{Float, ParamStore, Tensor, Value};

/// Every layer of the crate. An enum rather than trait objects: the set is closed,
/// a `match` shows all of them at once, and checkpoints can name each kind.
#[derive(Clone, Debug)]
pub enum Layer {
    Coupling(Coupling),
    ActNorm(ActNorm),
    Permutation(Permutation),
    InvertibleLinear(InvertibleLinear),
    Planar(Planar),
    Radial(Radial),
    Spline(SplineCoupling),
    PiecewiseLinear(PiecewiseLinearCoupling),
    Autoregressive(MaskedAutoregressive),
    Sequential(Sequential),
    /// The layer used the other way round: its inverse as the forward map.
    /// See [`crate::config::Direction`] for why.
    Reversed(Reversed),
}

macro_rules! dispatch {
    ($self:ident, $layer:ident => $call:expr) => {
        match $self {
            Layer::Coupling($layer) => $call,
            Layer::ActNorm($layer) => $call,
            Layer::Permutation($layer) => $call,
            Layer::InvertibleLinear($layer) => $call,
            Layer::Planar($layer) => $call,
            Layer::Radial($layer) => $call,
            Layer::Spline($layer) => $call,
            Layer::PiecewiseLinear($layer) => $call,
            Layer::Autoregressive($layer) => $call,
            Layer::Sequential($layer) => $call,
            Layer::Reversed($layer) => $call,
        }
    };
}

impl Layer {
    /// Whether the layer bends the density (couplings, planar flows) rather than
    /// only shifting, scaling, permuting or rotating it: the layers a per-layer
    /// figure shows. A new variant must say which it is.
    pub fn bends_the_density(&self) -> bool {
        match self {
            Layer::Coupling(_)
            | Layer::Planar(_)
            | Layer::Radial(_)
            | Layer::Spline(_)
            | Layer::PiecewiseLinear(_)
            | Layer::Autoregressive(_) => true,
            Layer::ActNorm(_) | Layer::Permutation(_) | Layer::InvertibleLinear(_) => false,
            Layer::Sequential(chain) => chain.layers.iter().any(Layer::bends_the_density),
            Layer::Reversed(r) => r.layer.bends_the_density(),
        }
    }
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

/// A layer g run backwards: forward is g⁻¹ and inverse is g. By the
/// [`Flow`] convention each direction already reports its own log-det, so
/// nothing is negated here: forward returns log|det ∂g⁻¹/∂x| as g's inverse
/// computes it.
#[derive(Clone, Debug)]
pub struct Reversed {
    pub layer: Box<Layer>,
}

impl Reversed {
    pub fn new(layer: Layer) -> Self {
        Reversed {
            layer: Box::new(layer),
        }
    }
}

impl<F: Float> Flow<F> for Reversed {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        self.layer.inverse(store, x)
    }
    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        self.layer.forward(store, z)
    }
    /// None: a data-dependent initialization (ActNorm's) is fitted to the
    /// inputs of the layer's own forward map, which here are its outputs.
    fn initialize(&self, _store: &mut ParamStore<F>, _x: &Tensor<F>) {}
    fn name(&self) -> String {
        format!("{}⁻¹", Flow::<F>::name(self.layer.as_ref()))
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

    /// The output of every layer on `x` (evaluated, not recorded), beside the
    /// layer: pictures of how the data flows through the model.
    pub fn stages<F: Float>(
        &self,
        store: &ParamStore<F>,
        x: &Tensor<F>,
    ) -> Vec<(&Layer, Tensor<F>)> {
        let mut h = x.clone();
        self.layers
            .iter()
            .map(|layer| {
                h = layer.forward(store, &h).0;
                (layer, h.clone())
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
