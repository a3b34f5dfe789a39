//! What the coupling layers ([`Coupling`], [`SplineCoupling`],
//! [`PiecewiseLinearCoupling`]) share: the split of the dimensions into a
//! conditioning half and a transformed half, and (for the elementwise ones)
//! the network that maps the first to the parameters of the transform of the
//! second.
//!
//! Instead of multiplying by the mask b (and feeding the networks zeros in
//! half their inputs), the two halves are gathered as separate column blocks
//! and z is put back together in the original order: the map is the same,
//! and the networks are half as wide at the input.
//!
//! [`SplineCoupling`]: crate::spline::SplineCoupling
//! [`PiecewiseLinearCoupling`]: crate::piecewise_linear::PiecewiseLinearCoupling
//! [`Coupling`]: crate::coupling::Coupling

use autograd::{Activation, Float, Mlp, ParamStore, Value};
use rand::Rng;
use std::sync::Arc;

/// The hidden layers of a conditioner network (an [`Mlp`] or a MADE).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConditionerShape {
    pub hidden: usize,
    /// Number of hidden layers.
    pub depth: usize,
    pub activation: Activation,
}

/// A fixed split of the dimensions: b = 1 conditions, b = 0 is transformed.
#[derive(Clone, Debug)]
pub struct Split {
    /// Dimensions that pass through and condition (b = 1).
    pub condition: Arc<[usize]>,
    /// Dimensions that are transformed (b = 0).
    pub transform: Arc<[usize]>,
    /// Puts [x_a, x_c] back in the original order of the dimensions.
    merge: Arc<[usize]>,
}

impl Split {
    /// `mask[d]` is true for the dimensions that condition; each side must keep
    /// at least one dimension, else the layer would be no coupling at all.
    pub fn new(mask: &[bool]) -> Self {
        let condition: Vec<usize> = (0..mask.len()).filter(|&d| mask[d]).collect();
        let transform: Vec<usize> = (0..mask.len()).filter(|&d| !mask[d]).collect();
        assert!(
            !condition.is_empty() && !transform.is_empty(),
            "coupling: the mask {mask:?} must keep at least one dimension on each side"
        );
        let mut merge = vec![0; mask.len()];
        for (position, &d) in condition.iter().chain(&transform).enumerate() {
            merge[d] = position;
        }
        Split {
            condition: condition.into(),
            transform: transform.into(),
            merge: merge.into(),
        }
    }

    /// The mask b this split was built from.
    pub fn mask(&self) -> Vec<bool> {
        let mut m = vec![false; self.merge.len()];
        for &d in self.condition.iter() {
            m[d] = true;
        }
        m
    }

    /// (x_a, x_c): the conditioning and the transformed columns.
    pub fn halves<F: Float, V: Value<F>>(&self, x: &V) -> (V, V) {
        (
            x.gather_cols(&self.condition),
            x.gather_cols(&self.transform),
        )
    }

    /// The two halves back in the original order of the dimensions (no gather
    /// when the conditioning dimensions already come first).
    pub fn merge<F: Float, V: Value<F>>(&self, a: &V, c: &V) -> V {
        let joined = V::concat_cols(&[a, c]);
        if self.merge.iter().enumerate().all(|(i, &j)| i == j) {
            joined
        } else {
            joined.gather_cols(&self.merge)
        }
    }

    /// The pattern of every elementwise coupling, in either direction: the
    /// conditioning half passes through and, through `net`, gives the raw
    /// parameters with which `transform` maps the other half elementwise;
    /// `transform` returns the mapped half and each element's log-slope, and
    /// the log-det is their sum per sample (the Jacobian is triangular with
    /// those slopes on the diagonal).
    pub fn couple<F: Float, V: Value<F>>(
        &self,
        store: &ParamStore<F>,
        net: &Mlp,
        v: &V,
        transform: impl FnOnce(&V, &V) -> (V, V),
    ) -> (V, V) {
        let (va, vc) = self.halves(v);
        let raw = net.forward(store, &va);
        let (out, log_slope) = transform(&vc, &raw);
        (self.merge(&va, &out), log_slope.sum_axis(1, false))
    }

    /// The network from the conditioning half to `per_dim` parameters for each
    /// transformed dimension, laid out dimension by dimension (columns
    /// `j·per_dim .. (j+1)·per_dim` belong to transformed dimension j), so that
    /// a reshape to `[n·c, per_dim]` gives one row per transformed number. Its
    /// last layer starts at zero: the transforms are built so that all-zero
    /// parameters are the identity.
    pub fn conditioner<F: Float, R: Rng + ?Sized>(
        &self,
        store: &mut ParamStore<F>,
        prefix: &str,
        per_dim: usize,
        net: ConditionerShape,
        rng: &mut R,
    ) -> Mlp {
        let sizes: Vec<usize> = std::iter::once(self.condition.len())
            .chain(std::iter::repeat_n(net.hidden, net.depth))
            .chain(std::iter::once(self.transform.len() * per_dim))
            .collect();
        let mlp = Mlp::new(store, prefix, &sizes, net.activation, None, rng);
        mlp.zero_last(store);
        mlp
    }
}
