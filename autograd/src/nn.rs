//! Building blocks with parameters: [`Linear`] and [`Mlp`].
//!
//! A layer owns no numbers, only the [`ParamId`]s of its entries in a
//! [`ParamStore`]; its `forward` is generic over [`Value`], so the same code trains
//! on a tape and evaluates on plain tensors.

use crate::float::Float;
use crate::params::{ParamId, ParamStore};
use crate::tensor::Tensor;
use crate::value::Value;
use rand::Rng;
use rand_distr::{Distribution, Uniform};

/// y = x·W + b for x of shape `[n, in]`, W `[in, out]`, b `[out]` (broadcast over rows).
///
/// W is stored `[in, out]` (PyTorch stores its transpose) so the forward product
/// needs no transpose at all.
#[derive(Clone, Debug)]
pub struct Linear {
    pub weight: ParamId,
    pub bias: ParamId,
    pub inputs: usize,
    pub outputs: usize,
}

impl Linear {
    /// PyTorch's default initialization: W and b drawn from U(−1/√in, 1/√in)
    /// (what `kaiming_uniform_(a = √5)` works out to), registered as
    /// `{prefix}.weight` and `{prefix}.bias`.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        inputs: usize,
        outputs: usize,
        rng: &mut R,
    ) -> Self {
        let bound = 1.0 / (inputs.max(1) as f64).sqrt();
        let uniform = Uniform::new_inclusive(-bound, bound).expect("a finite, ordered range");
        let mut draw =
            |n: usize| -> Vec<F> { (0..n).map(|_| F::from_f64(uniform.sample(rng))).collect() };
        let weight = store.add(
            &format!("{prefix}.weight"),
            Tensor::new(draw(inputs * outputs), &[inputs, outputs]),
        );
        let bias = store.add(
            &format!("{prefix}.bias"),
            Tensor::new(draw(outputs), &[outputs]),
        );
        Linear {
            weight,
            bias,
            inputs,
            outputs,
        }
    }

    pub fn forward<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> V {
        self.forward_then(store, x, None)
    }

    /// act(x·W + b), recorded as one fused op.
    pub fn forward_then<F: Float, V: Value<F>>(
        &self,
        store: &ParamStore<F>,
        x: &V,
        activation: Option<Activation>,
    ) -> V {
        let w = x.param(store, self.weight);
        let b = x.param(store, self.bias);
        x.dense(&w, &b, activation)
    }

    /// Sets W and b to zero, so the layer starts by outputting zeros (flows use this
    /// to start every coupling layer at the identity map).
    pub fn zero<F: Float>(&self, store: &mut ParamStore<F>) {
        store.value_mut(self.weight).data_mut().fill(F::ZERO);
        store.value_mut(self.bias).data_mut().fill(F::ZERO);
    }
}

/// An element-wise nonlinearity between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Tanh,
    Relu,
    Sigmoid,
    Softplus,
}

impl Activation {
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Softplus => "softplus",
        }
    }

    pub fn apply<F: Float, V: Value<F>>(&self, x: &V) -> V {
        match self {
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.relu(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Softplus => x.softplus(),
        }
    }
}

/// A multilayer perceptron: Linear, activation, Linear, activation, …, Linear
/// (and an optional activation on the output).
#[derive(Clone, Debug)]
pub struct Mlp {
    pub layers: Vec<Linear>,
    pub hidden: Activation,
    pub output: Option<Activation>,
}

impl Mlp {
    /// `sizes` = [inputs, hidden₁, …, outputs]; layer `i` is named `{prefix}.{i}`.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        sizes: &[usize],
        hidden: Activation,
        output: Option<Activation>,
        rng: &mut R,
    ) -> Self {
        assert!(
            sizes.len() >= 2,
            "Mlp::new: need at least input and output sizes, got {sizes:?}"
        );
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| Linear::new(store, &format!("{prefix}.{i}"), w[0], w[1], rng))
            .collect();
        Mlp {
            layers,
            hidden,
            output,
        }
    }

    pub fn forward<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> V {
        let last = self.layers.len() - 1;
        let mut h = x.clone();
        for (i, layer) in self.layers.iter().enumerate() {
            let activation = if i < last {
                Some(self.hidden)
            } else {
                self.output
            };
            h = layer.forward_then(store, &h, activation);
        }
        h
    }

    /// Zeroes the last layer, so the network starts by outputting zeros.
    pub fn zero_last<F: Float>(&self, store: &mut ParamStore<F>) {
        if let Some(last) = self.layers.last() {
            last.zero(store);
        }
    }
}
