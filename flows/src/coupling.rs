//! Coupling layers: RealNVP's affine coupling (Dinh, Sohl-Dickstein & Bengio 2016)
//! and NICE's additive coupling (Dinh, Krueger & Bengio 2014).
//!
//! A binary mask b splits the dimensions in two. The masked half passes through
//! unchanged and conditions a transformation of the other half:
//!
//!   z = b⊙x + (1−b)⊙(x⊙exp(s(b⊙x)) + t(b⊙x))
//!
//! **Log-det.** Order the dimensions as (conditioning a, transformed c). Then
//! ∂z_a/∂x_a = I, ∂z_a/∂x_c = 0, and ∂z_c/∂x_c = diag(exp(s(x_a))): the Jacobian is
//! block lower-triangular, so its determinant is the product of the diagonal,
//!   log|det ∂z/∂x| = Σ_c s_c(x_a) = Σ (1−b)⊙s.
//! However complex the networks s and t are, they never need to be inverted or
//! differentiated for the determinant.
//!
//! **Inverse.** z_a = x_a, so s and t can be recomputed from z and undone:
//!   x_c = (z_c − t(z_a)) ⊙ exp(−s(z_a)),   log|det ∂x/∂z| = −Σ s.
//!
//! **Additive** (NICE) is the case s = 0: volume-preserving, log-det 0.
//!
//! **Bounded scale.** Unbounded s lets exp(s) overflow early in training (nflows
//! issue #49). We use a soft clamp s = c·tanh(ŝ/c) of the network output ŝ: close
//! to ŝ when it is small, never beyond ±c. With c = 1 this is the reference's tanh.
//!
//! **Implementation.** Instead of multiplying by b (and feeding the networks
//! zeros in half their inputs), the layer gathers the two halves as separate
//! column blocks and puts z back together in the original order (a [`Split`],
//! shared with the spline couplings). The map is the same; the networks are
//! half as wide at the input.

use crate::conditioner::Split;
use crate::flow::{zero_logdet, Flow};
use autograd::{Activation, Float, Mlp, ParamStore, Value};
use rand::Rng;

/// Affine (RealNVP) or additive (NICE).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CouplingKind {
    /// z_c = x_c⊙exp(s) + t with s = clamp·tanh(ŝ/clamp).
    Affine { clamp: f64 },
    /// z_c = x_c + t.
    Additive,
}

/// The networks that compute s and t from the conditioning half.
#[derive(Clone, Debug)]
pub enum CouplingNets {
    /// Separate s and t networks, as in the RealNVP reference.
    Separate { s: Mlp, t: Mlp },
    /// One network whose output columns are [ŝ, t]: half the matmuls.
    Shared(Mlp),
    /// Additive coupling has only t.
    TranslationOnly(Mlp),
}

/// How to build the networks of a coupling layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetShape {
    pub hidden: usize,
    /// Number of hidden layers.
    pub depth: usize,
    pub activation: Activation,
    /// One shared network for s and t instead of two.
    pub shared: bool,
}

/// A coupling layer with a fixed split of the dimensions.
#[derive(Clone, Debug)]
pub struct Coupling {
    pub kind: CouplingKind,
    /// Which dimensions condition and which are transformed (the mask b).
    pub split: Split,
    pub nets: CouplingNets,
}

impl Coupling {
    /// A coupling layer on `mask.len()` dimensions; `mask[d]` is true for the
    /// dimensions that condition. The networks' last layers start at zero, so the
    /// layer starts as the identity map and training starts from the base density
    /// pushed through the other layers.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        mask: &[bool],
        kind: CouplingKind,
        net: NetShape,
        rng: &mut R,
    ) -> Self {
        let split = Split::new(mask);
        let (a, c) = (split.condition.len(), split.transform.len());
        let sizes = |out: usize| -> Vec<usize> {
            std::iter::once(a)
                .chain(std::iter::repeat_n(net.hidden, net.depth))
                .chain(std::iter::once(out))
                .collect()
        };
        let mut mlp = |name: &str, out: usize, store: &mut ParamStore<F>| {
            let m = Mlp::new(
                store,
                &format!("{prefix}.{name}"),
                &sizes(out),
                net.activation,
                None,
                rng,
            );
            m.zero_last(store);
            m
        };
        let nets = match (kind, net.shared) {
            (CouplingKind::Additive, _) => CouplingNets::TranslationOnly(mlp("t", c, store)),
            (CouplingKind::Affine { .. }, true) => CouplingNets::Shared(mlp("st", 2 * c, store)),
            (CouplingKind::Affine { .. }, false) => CouplingNets::Separate {
                s: mlp("s", c, store),
                t: mlp("t", c, store),
            },
        };
        Coupling { kind, split, nets }
    }

    /// Which dimensions condition (the mask b).
    pub fn mask(&self) -> Vec<bool> {
        self.split.mask()
    }

    /// (s, t) from the conditioning half; s is None for additive coupling.
    fn scale_and_shift<F: Float, V: Value<F>>(
        &self,
        store: &ParamStore<F>,
        xa: &V,
    ) -> (Option<V>, V) {
        let clamp = |raw: V| match self.kind {
            // c = 1 is plain tanh: no need to record two scalings by 1.
            CouplingKind::Affine { clamp: 1.0 } => raw.tanh(),
            CouplingKind::Affine { clamp } => {
                let c = F::from_f64(clamp);
                raw.scale(F::ONE / c).tanh().scale(c)
            }
            CouplingKind::Additive => raw,
        };
        match &self.nets {
            CouplingNets::Separate { s, t } => {
                (Some(clamp(s.forward(store, xa))), t.forward(store, xa))
            }
            CouplingNets::Shared(net) => {
                let out = net.forward(store, xa);
                let c = self.split.transform.len();
                (Some(clamp(out.slice_cols(0, c))), out.slice_cols(c, c))
            }
            CouplingNets::TranslationOnly(t) => (None, t.forward(store, xa)),
        }
    }
}

impl<F: Float> Flow<F> for Coupling {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let (xa, xc) = self.split.halves(x);
        let (s, t) = self.scale_and_shift(store, &xa);
        let (zc, logdet) = match s {
            Some(s) => (xc.mul(&s.exp()).add(&t), s.sum_axis(1, false)),
            None => (xc.add(&t), zero_logdet(x)),
        };
        (self.split.merge(&xa, &zc), logdet)
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let (za, zc) = self.split.halves(z);
        let (s, t) = self.scale_and_shift(store, &za);
        let (xc, logdet) = match s {
            Some(s) => (zc.sub(&t).mul(&s.neg().exp()), s.sum_axis(1, false).neg()),
            None => (zc.sub(&t), zero_logdet(z)),
        };
        (self.split.merge(&za, &xc), logdet)
    }

    fn name(&self) -> String {
        match self.kind {
            CouplingKind::Affine { .. } => "affine coupling".into(),
            CouplingKind::Additive => "additive coupling".into(),
        }
    }
}
