//! MADE, the masked autoencoder for distribution estimation (Germain, Gregor,
//! Murray & Larochelle 2015): an MLP whose outputs for dimension i depend only
//! on the inputs that come before i in a chosen order. It is the conditioner
//! of the autoregressive flows in [`crate::autoregressive`].
//!
//! **Degrees.** Each input i gets a degree m(i) ∈ {1 … D}, its position in
//! the autoregressive order. Each hidden unit u gets a degree m(u) ∈
//! {1 … D − 1}, meaning "may see inputs of degree ≤ m(u)"; each output for
//! dimension i gets the degree m(i) of its dimension. The weight from unit u
//! to unit v of the next layer is kept by the mask
//!
//!   M[u, v] = [m(u) ≤ m(v)]   into a hidden layer,
//!   M[u, v] = [m(u) < m(v)]   into the output layer.
//!
//! **Why that is autoregressive.** By induction over the layers, a hidden unit
//! of degree k is a function of inputs of degree ≤ k only (≤ chains through
//! ≤). An output of degree m(i) sees hidden units of degree < m(i), hence
//! inputs of degree < m(i): never x_i itself nor anything after it. So the
//! Jacobian of the outputs with respect to the inputs, with both ordered by
//! degree, is strictly lower-triangular, for any weights.
//!
//! **Every unit connected.** Hidden degrees cycle through 1 … D − 1, so a
//! layer at least D − 1 wide holds every degree: every hidden unit sees at
//! least the first input and feeds at least the outputs of the last, and,
//! for generic weights, every output of degree m(i) depends on all inputs
//! before it (not just may). Degree 0 or D would make a unit useless (no
//! inputs, or no outputs). With D = 1 there is nothing to condition on: the
//! hidden units get degree 1 and the outputs are their biases.
//!
//! **Several outputs per input.** An autoregressive transform needs P numbers
//! per dimension (a shift and a log-scale, or a spline's parameters). Output
//! column i·P + p is parameter p of dimension i, with degree m(i): the P
//! parameters of one dimension are adjacent, so a reshape to `[n·D, P]` gives
//! one row per transformed number.
//!
//! The masks are applied to the weights at every forward pass, W ⊙ M, so the
//! masked entries get zero gradient and stay irrelevant whatever an optimizer
//! does to them.

use crate::conditioner::ConditionerShape;
use autograd::{Activation, Float, Linear, ParamStore, Tensor, Value};
use rand::Rng;
use std::sync::Arc;

/// y = x·(W ⊙ M) + b: a [`Linear`] with a fixed 0/1 mask on its weights.
#[derive(Clone, Debug)]
pub struct MaskedLinear {
    pub linear: Linear,
    /// `[inputs, outputs]`, row-major: entry i·outputs + j is true when
    /// output j may see input i.
    pub mask: Arc<[bool]>,
}

impl MaskedLinear {
    /// act((x·(W ⊙ M) + b), the masked product and the bias in one fused op.
    pub fn forward<F: Float, V: Value<F>>(
        &self,
        store: &ParamStore<F>,
        x: &V,
        activation: Option<Activation>,
    ) -> V {
        let (inputs, outputs) = (self.linear.inputs, self.linear.outputs);
        let mask: Vec<F> = self
            .mask
            .iter()
            .map(|&keep| if keep { F::ONE } else { F::ZERO })
            .collect();
        let w = x
            .param(store, self.linear.weight)
            .mul(&x.constant(&Tensor::new(mask, &[inputs, outputs])));
        x.dense(&w, &x.param(store, self.linear.bias), activation)
    }
}

/// The mask `[from.len(), to.len()]` from unit degrees: m(u) ≤ m(v) into a
/// hidden layer, m(u) < m(v) (`strict`) into the output layer.
pub fn degree_mask(from: &[usize], to: &[usize], strict: bool) -> Arc<[bool]> {
    from.iter()
        .flat_map(|&u| to.iter().map(move |&v| if strict { u < v } else { u <= v }))
        .collect()
}

/// Input degrees from an autoregressive order: `m(order[t]) = t + 1`.
pub fn degrees_of_order(order: &[usize]) -> Vec<usize> {
    let d = order.len();
    let mut degrees = vec![0; d];
    for (t, &i) in order.iter().enumerate() {
        assert!(
            i < d && degrees[i] == 0,
            "MADE: the order {order:?} is not a permutation of 0..{d}"
        );
        degrees[i] = t + 1;
    }
    degrees
}

/// A masked MLP with autoregressive outputs (see the module docs).
#[derive(Clone, Debug)]
pub struct Made {
    pub layers: Vec<MaskedLinear>,
    pub activation: Activation,
    /// m(i) of every input.
    pub degrees: Arc<[usize]>,
    /// The degrees of each hidden layer's units.
    pub hidden_degrees: Vec<Arc<[usize]>>,
    /// P: outputs per input.
    pub outputs_per_input: usize,
}

impl Made {
    /// A MADE on `order.len()` inputs, `x[order[0]]` first, with
    /// `outputs_per_input` outputs per input; layer l is `{prefix}.{l}`.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        order: &[usize],
        outputs_per_input: usize,
        net: ConditionerShape,
        rng: &mut R,
    ) -> Self {
        let degrees: Arc<[usize]> = degrees_of_order(order).into();
        let d = degrees.len();
        let cycle = d.saturating_sub(1).max(1);
        let hidden: Arc<[usize]> = (0..net.hidden).map(|u| 1 + u % cycle).collect();
        let hidden_degrees = vec![hidden; net.depth];
        let outputs: Vec<usize> = degrees
            .iter()
            .flat_map(|&m| std::iter::repeat_n(m, outputs_per_input))
            .collect();
        let mut from: &[usize] = &degrees;
        let mut layers = Vec::new();
        for (l, to) in hidden_degrees
            .iter()
            .map(|h| &h[..])
            .chain(std::iter::once(&outputs[..]))
            .enumerate()
        {
            let linear = Linear::new(store, &format!("{prefix}.{l}"), from.len(), to.len(), rng);
            let mask = degree_mask(from, to, l == net.depth);
            // The masked weights never act; zero them so the store shows the
            // matrix that is applied.
            for (w, &keep) in store
                .value_mut(linear.weight)
                .data_mut()
                .iter_mut()
                .zip(&*mask)
            {
                if !keep {
                    *w = F::ZERO;
                }
            }
            layers.push(MaskedLinear { linear, mask });
            from = to;
        }
        Made {
            layers,
            activation: net.activation,
            degrees,
            hidden_degrees,
            outputs_per_input,
        }
    }

    /// The outputs `[n, D·P]` for inputs x `[n, D]`; column i·P + p is
    /// parameter p of dimension i.
    pub fn forward<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> V {
        let last = self.layers.len() - 1;
        let mut h = x.clone();
        for (l, layer) in self.layers.iter().enumerate() {
            let activation = (l < last).then_some(self.activation);
            h = layer.forward(store, &h, activation);
        }
        h
    }

    /// The degree of every output column: m(i) for column i·P + p.
    pub fn output_degrees(&self) -> Vec<usize> {
        self.degrees
            .iter()
            .flat_map(|&m| std::iter::repeat_n(m, self.outputs_per_input))
            .collect()
    }

    /// Zeroes the output layer, so the network starts by outputting zeros.
    pub fn zero_last<F: Float>(&self, store: &mut ParamStore<F>) {
        if let Some(last) = self.layers.last() {
            last.linear.zero(store);
        }
    }
}
