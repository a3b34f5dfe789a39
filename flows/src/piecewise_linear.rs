//! Piecewise-linear coupling (Müller, McWilliams, Rousselle, Gross & Novák
//! 2019, "Neural Importance Sampling"): the simplest monotone piecewise map,
//! here for teaching what the spline of [`crate::spline`] refines.
//!
//! As in [`Coupling`], the conditioning half x_a passes through and a network
//! computes, from x_a, the map g applied to each number of the transformed
//! half x_c: z_a = x_a, z_c = g(x_c; q(x_a)).
//!
//! **The map.** [−B, B] is cut into K bins of equal width w = 2B/K at the knots
//! x_k = −B + k·w. The network gives each bin a probability q_k (a softmax,
//! at least [`MIN_BIN`]), and g = −B + 2B·F with F the CDF of the density
//! that is constant, q_k/w, on bin k. It is linear on each bin, from
//! (x_k, y_k) to (x_{k+1}, y_{k+1}) with heights h_k = 2B·q_k and
//! y_k = −B + Σ_{i<k} h_i (see [`crate::bins`]); with ξ = (x − x_k)/w,
//!
//!   g(x) = y_k + h_k·ξ.
//!
//! Since Σ h_k = 2B, g maps [−B, B] onto [−B, B], so the identity tails
//! outside join continuously (but with a kink: g is only C⁰, and its slope
//! jumps at every knot — what the spline's matched derivatives avoid).
//!
//! **Log-det.** The Jacobian is block lower-triangular as in [`Coupling`],
//! with diagonal ∂z_c/∂x_c, and g′ = h_k/w = K·q_k in bin k, so
//!   log|det ∂z/∂x| = Σ_c log(h_k / w) over the bin k of each x_c,
//! and 0 for the numbers in the tails. At a knot, g′ is that of the bin to
//! its right (at B, the last bin's).
//!
//! **Inverse.** Locate y among the y_k; then ξ = (y − y_k)/h_k and
//! x = x_k + ξ w, with log|det ∂x/∂z| = −Σ log(h_k/w).
//!
//! Both directions are evaluated as y_k (1 − ξ) + y_{k+1} ξ (and
//! x_k (1 − ξ) + x_{k+1} ξ), exact at ξ = 0 and 1, so knots map exactly onto
//! knots, ±B onto ±B: an ulp past B would land in the tail, where the slope
//! jumps to 1.
//!
//! **Identity at the start.** All-zero network outputs give q_k = 1/K, so
//! h_k = w and g(x) = x; the network's last layer starts at zero.
//!
//! [`Coupling`]: crate::coupling::Coupling

use crate::bins::{self, dims, lerp, one_hot, select, Tails};
use crate::conditioner::{ConditionerShape, Split};
use crate::flow::Flow;
use autograd::{Float, Mlp, ParamStore, Tensor, Value};
use rand::Rng;

pub use crate::bins::MIN_BIN;

/// A monotone piecewise-linear map on [−B, B] with K equal-width bins and
/// identity tails, applied elementwise with K raw parameters per number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PiecewiseLinear {
    /// K, the number of bins.
    pub bins: usize,
    /// B: the map acts on [−B, B].
    pub bound: f64,
}

impl PiecewiseLinear {
    pub fn new(bins: usize, bound: f64) -> Self {
        // One bin spanning [−B, B] onto [−B, B] is the identity.
        crate::bins::check_bins("piecewise linear", bins, bound);
        PiecewiseLinear { bins, bound }
    }

    /// Parameters per transformed number: the K bin logits.
    pub fn params_per_dim(&self) -> usize {
        self.bins
    }

    /// The fixed knots x_k = −B + k·2B/K, `[m, K + 1]`; the ends are ±B exactly.
    pub fn x_knots<F: Float>(&self, m: usize) -> Tensor<F> {
        let k = self.bins;
        let row: Vec<f64> = (0..=k)
            .map(|j| -self.bound + 2.0 * self.bound * (j as f64 / k as f64))
            .collect();
        let data: Vec<f64> = (0..m).flat_map(|_| row.iter().copied()).collect();
        Tensor::from_f64(&data, &[m, k + 1])
    }

    /// The knots y_k, `[m, K + 1]`, from `raw` `[m, K]`.
    pub fn y_knots<F: Float, V: Value<F>>(&self, raw: &V) -> V {
        bins::knots(raw, self.bound)
    }

    /// y = g(x) and log g′(x), both `[n, c]`, for x `[n, c]` and `raw`
    /// `[n, c·K]` (each number's K logits in consecutive columns).
    pub fn forward<F: Float, V: Value<F>>(&self, x: &V, raw: &V) -> (V, V) {
        self.apply(x, raw, false)
    }

    /// x = g⁻¹(y) and −log g′(x), shapes as in [`Self::forward`].
    pub fn inverse<F: Float, V: Value<F>>(&self, y: &V, raw: &V) -> (V, V) {
        self.apply(y, raw, true)
    }

    fn apply<F: Float, V: Value<F>>(&self, v: &V, raw: &V, inverse: bool) -> (V, V) {
        let (n, c) = dims(v, "piecewise linear");
        let (m, k) = (n * c, self.bins);
        let xs = v.constant(&self.x_knots(m));
        let ys = self.y_knots(&raw.reshape(&[m, k]));
        let v = v.reshape(&[m, 1]);
        let tails = Tails::new(&v, self.bound);
        let inner = tails.inner(&v);
        let edges = if inverse { &ys } else { &xs };
        let bin = v.constant(&one_hot(&edges.to_tensor(), &inner.to_tensor()));
        // Knots 0 … K − 1 start a bin, knots 1 … K end one.
        let start = |knots: &V| select(&knots.slice_cols(0, k), &bin);
        let end = |knots: &V| select(&knots.slice_cols(1, k), &bin);
        let (x0, x1) = (start(&xs), end(&xs));
        let (y0, y1) = (start(&ys), end(&ys));
        let (w, h) = (x1.sub(&x0), y1.sub(&y0));
        let log_slope = h.log().sub(&w.log());
        let (out, log_slope) = if inverse {
            let xi = inner.sub(&y0).div(&h);
            (lerp(&x0, &x1, &xi), log_slope.neg())
        } else {
            let xi = inner.sub(&x0).div(&w);
            (lerp(&y0, &y1, &xi), log_slope)
        };
        (
            tails.blend(&out, &v).reshape(&[n, c]),
            tails.inner(&log_slope).reshape(&[n, c]),
        )
    }
}

/// A coupling layer whose transformed half goes through piecewise-linear maps
/// conditioned on the other half (see the module docs).
#[derive(Clone, Debug)]
pub struct PiecewiseLinearCoupling {
    pub transform: PiecewiseLinear,
    pub split: Split,
    /// x_a ↦ the K logits of each transformed dimension.
    pub net: Mlp,
}

impl PiecewiseLinearCoupling {
    /// A piecewise-linear coupling on `mask.len()` dimensions; `mask[d]` is
    /// true for the dimensions that condition. The network is `{prefix}.net`;
    /// its last layer starts at zero, so the layer starts as the identity map.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        mask: &[bool],
        transform: PiecewiseLinear,
        net: ConditionerShape,
        rng: &mut R,
    ) -> Self {
        let split = Split::new(mask);
        let net = split.conditioner(
            store,
            &format!("{prefix}.net"),
            transform.params_per_dim(),
            net,
            rng,
        );
        PiecewiseLinearCoupling {
            transform,
            split,
            net,
        }
    }

    /// Which dimensions condition (the mask b).
    pub fn mask(&self) -> Vec<bool> {
        self.split.mask()
    }

    /// The knots y_k of the maps applied to x's transformed half, `[n·c, K + 1]`
    /// (row i·c + j: sample i, dimension `split.transform[j]`).
    pub fn y_knots<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> V {
        let (xa, xc) = self.split.halves(x);
        let m = dims(&xc, "piecewise-linear coupling").0 * self.split.transform.len();
        let raw = self.net.forward(store, &xa);
        self.transform
            .y_knots(&raw.reshape(&[m, self.transform.bins]))
    }
}

impl<F: Float> Flow<F> for PiecewiseLinearCoupling {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        self.split.couple(store, &self.net, x, |xc, raw| {
            self.transform.forward(xc, raw)
        })
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        self.split.couple(store, &self.net, z, |zc, raw| {
            self.transform.inverse(zc, raw)
        })
    }

    fn name(&self) -> String {
        "piecewise-linear coupling".into()
    }
}
