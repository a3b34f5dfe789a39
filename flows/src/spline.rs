//! Rational-quadratic spline coupling (Durkan, Bekasov, Murray & Papamakarios
//! 2019, "Neural Spline Flows").
//!
//! As in [`Coupling`], a mask splits the dimensions into a conditioning half
//! x_a, which passes through, and a transformed half x_c; here each x_c is
//! mapped by its own monotone rational-quadratic spline g, whose knots and
//! slopes a network computes from x_a:
//!
//!   z_a = x_a,   z_c = g(x_c; θ(x_a)).
//!
//! **The spline.** On [−B, B], K bins with knots (x_k, y_k), k = 0 … K, from
//! softmaxed widths and heights (each at least [`MIN_BIN`]·2B, see
//! [`crate::bins`]), and derivatives d_k > 0 at the knots: d_0 = d_K = 1, so
//! that the identity tails outside [−B, B] join with matching slope, and the
//! K − 1 interior ones d_k = [`MIN_DERIVATIVE`] + softplus(r_k + β). In bin k,
//! with w = x_{k+1} − x_k, h = y_{k+1} − y_k, s = h/w, ξ = (x − x_k)/w ∈ [0, 1]:
//!
//!   g(x) = y_k + h·(s ξ² + d_k ξ(1−ξ)) / (s + (d_{k+1} + d_k − 2s) ξ(1−ξ)).
//!
//! It runs from (x_k, y_k) to (x_{k+1}, y_{k+1}) with slopes d_k and d_{k+1}
//! at the ends, so the pieces join into a C¹ curve, and it is strictly
//! increasing whenever s and the d's are positive (Gregory & Delbourgo 1982).
//!
//! **Log-det.** The Jacobian is block lower-triangular as in [`Coupling`],
//! with ∂z_c/∂x_c diagonal, so log|det ∂z/∂x| = Σ_c log g′(x_c), where
//!
//!   g′(x) = s² (d_{k+1} ξ² + 2s ξ(1−ξ) + d_k (1−ξ)²) / (s + (d_{k+1} + d_k − 2s) ξ(1−ξ))²,
//!
//! and log g′ = 0 in the tails.
//!
//! **Inverse.** Given y in bin k (located among the y_k, as x among the
//! x_k), clearing the denominator of g(x) = y gives a quadratic
//! a ξ² + b ξ + c = 0. With δ = y − y_k and δ̄ = y_{k+1} − y (δ + δ̄ = h),
//!
//!   b = d_k δ̄ − d_{k+1} δ + 2s δ,   a = s h − b,   c = −s δ,
//!   b² − 4ac = (d_k δ̄ − d_{k+1} δ)² + 4s² δ δ̄.
//!
//! The discriminant is a sum of squares: computed so, it has no cancellation
//! and is never negative (the textbook b² − 4ac cancels where 4ac ≈ b², as
//! at the top of a steep bin, and can round below 0). The root in [0, 1] is
//! ξ = (−b + √(b² − 4ac)) / 2a, evaluated in whichever of two equal forms
//! adds numbers of one sign:
//!
//!   ξ = 2sδ / (b + √(b² − 4ac))   for b ≥ 0,
//!   ξ = (√(b² − 4ac) − b) / 2a     for b < 0 (then a = sh − b > 0).
//!
//! Then x = x_k + ξ w and log|det ∂x/∂z| = −Σ log g′(x).
//!
//! **Knots land on knots.** Both directions interpolate between the bin's
//! ends as y_k (1 − r) + y_{k+1} r, exact at r = 0 and r = 1, so x_k maps to
//! y_k exactly, B to B included (y_k + h r can miss y_{k+1} by an ulp, and
//! past B that ulp would fall into the tail), and y_k back to x_k.
//!
//! **Identity at the start.** With all-zero network outputs the widths and
//! heights are equal (s = 1) and β = log(e^{1 − MIN_DERIVATIVE} − 1) makes
//! every d_k = 1, which turns g into y_k + h ξ = x. The network's last layer
//! starts at zero, so the layer starts as the identity map.
//!
//! [`Coupling`]: crate::coupling::Coupling

use crate::bins::{self, dims, indicator, lerp, one_hot, select, Tails};
use crate::conditioner::{ConditionerShape, Split};
use crate::flow::Flow;
use autograd::{Float, Mlp, ParamStore, Tensor, Value};
use rand::Rng;

pub use crate::bins::MIN_BIN;

/// The smallest derivative at an interior knot: keeps g′ > 0 and log g′
/// finite whatever the network outputs.
pub const MIN_DERIVATIVE: f64 = 1e-3;

/// A monotone rational-quadratic spline on [−B, B] with K bins and identity
/// tails, applied elementwise with parameters given per number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RationalQuadratic {
    /// K, the number of bins.
    pub bins: usize,
    /// B: the spline acts on [−B, B].
    pub bound: f64,
}

/// The knots of every transformed number, each `[m, K + 1]` (one row per number).
#[derive(Clone, Debug)]
pub struct Knots<V> {
    pub xs: V,
    pub ys: V,
    pub derivatives: V,
}

impl RationalQuadratic {
    pub fn new(bins: usize, bound: f64) -> Self {
        // One bin with both end slopes fixed to 1 is the identity whatever
        // its parameters.
        crate::bins::check_bins("spline", bins, bound);
        RationalQuadratic { bins, bound }
    }

    /// Parameters per transformed number: K widths, K heights, K − 1 derivatives.
    pub fn params_per_dim(&self) -> usize {
        3 * self.bins - 1
    }

    /// The knots and derivatives from `raw` `[m, 3K − 1]`, laid out as
    /// [widths | heights | interior derivatives].
    pub fn knots<F: Float, V: Value<F>>(&self, raw: &V) -> Knots<V> {
        let (m, k) = (dims(raw, "spline").0, self.bins);
        let ones = raw.constant(&Tensor::full(&[m, 1], F::ONE));
        let offset = ((1.0 - MIN_DERIVATIVE).exp() - 1.0).ln();
        let interior = raw
            .slice_cols(2 * k, k - 1)
            .shift(F::from_f64(offset))
            .softplus()
            .shift(F::from_f64(MIN_DERIVATIVE));
        let derivatives = V::concat_cols(&[&ones, &interior, &ones]);
        Knots {
            xs: bins::knots(&raw.slice_cols(0, k), self.bound),
            ys: bins::knots(&raw.slice_cols(k, k), self.bound),
            derivatives,
        }
    }

    /// y = g(x) and log g′(x), both `[n, c]`, for x `[n, c]` and `raw`
    /// `[n, c·(3K − 1)]` (each number's parameters in consecutive columns).
    pub fn forward<F: Float, V: Value<F>>(&self, x: &V, raw: &V) -> (V, V) {
        self.apply(x, raw, false)
    }

    /// x = g⁻¹(y) and log (g⁻¹)′(y) = −log g′(x), shapes as in [`Self::forward`].
    pub fn inverse<F: Float, V: Value<F>>(&self, y: &V, raw: &V) -> (V, V) {
        self.apply(y, raw, true)
    }

    fn apply<F: Float, V: Value<F>>(&self, v: &V, raw: &V, inverse: bool) -> (V, V) {
        let (n, c) = dims(v, "spline");
        let m = n * c;
        let knots = self.knots(&raw.reshape(&[m, self.params_per_dim()]));
        let v = v.reshape(&[m, 1]);
        let tails = Tails::new(&v, self.bound);
        let inner = tails.inner(&v);
        let edges = if inverse { &knots.ys } else { &knots.xs };
        let bin = v.constant(&one_hot(&edges.to_tensor(), &inner.to_tensor()));
        let piece = Piece::select(&knots, &bin, self.bins);
        let (out, log_slope) = if inverse {
            piece.inverse(&inner)
        } else {
            piece.forward(&inner)
        };
        (
            tails.blend(&out, &v).reshape(&[n, c]),
            tails.inner(&log_slope).reshape(&[n, c]),
        )
    }
}

/// The numbers of the bin each element falls in, each `[m, 1]`.
struct Piece<V> {
    x0: V,
    x1: V,
    y0: V,
    y1: V,
    w: V,
    h: V,
    /// s = h / w
    s: V,
    d0: V,
    d1: V,
    /// d_k + d_{k+1} − 2s
    curvature: V,
}

impl<V> Piece<V> {
    fn select<F: Float>(knots: &Knots<V>, bin: &V, k: usize) -> Self
    where
        V: Value<F>,
    {
        // Knots 0 … K − 1 start a bin, knots 1 … K end one.
        let start = |v: &V| select(&v.slice_cols(0, k), bin);
        let end = |v: &V| select(&v.slice_cols(1, k), bin);
        let (x0, x1) = (start(&knots.xs), end(&knots.xs));
        let (y0, y1) = (start(&knots.ys), end(&knots.ys));
        let (w, h) = (x1.sub(&x0), y1.sub(&y0));
        let s = h.div(&w);
        let (d0, d1) = (start(&knots.derivatives), end(&knots.derivatives));
        let curvature = d0.add(&d1).sub(&s.scale(F::from_f64(2.0)));
        Piece {
            x0,
            x1,
            y0,
            y1,
            w,
            h,
            s,
            d0,
            d1,
            curvature,
        }
    }

    /// g(x) and log g′(x).
    fn forward<F: Float>(&self, x: &V) -> (V, V)
    where
        V: Value<F>,
    {
        let xi = x.sub(&self.x0).div(&self.w);
        let t = xi.mul(&xi.neg().shift(F::ONE));
        let numerator = self.s.mul(&xi.square()).add(&self.d0.mul(&t));
        let rise = numerator.div(&self.denominator(&t));
        (lerp(&self.y0, &self.y1, &rise), self.log_slope(&xi))
    }

    /// s + (d_k + d_{k+1} − 2s)·ξ(1−ξ), from t = ξ(1−ξ); at least s/2, as
    /// t ≤ 1/4.
    fn denominator<F: Float>(&self, t: &V) -> V
    where
        V: Value<F>,
    {
        self.s.add(&self.curvature.mul(t))
    }

    /// log g′ at ξ.
    fn log_slope<F: Float>(&self, xi: &V) -> V
    where
        V: Value<F>,
    {
        let two = F::from_f64(2.0);
        let rest = xi.neg().shift(F::ONE);
        let t = xi.mul(&rest);
        let numerator = self
            .d1
            .mul(&xi.square())
            .add(&self.s.mul(&t).scale(two))
            .add(&self.d0.mul(&rest.square()));
        self.s
            .log()
            .scale(two)
            .add(&numerator.log())
            .sub(&self.denominator(&t).log().scale(two))
    }

    /// g⁻¹(y) and log (g⁻¹)′(y) = −log g′(g⁻¹(y)), by the module docs'
    /// root. Which form of the root applies is a constant mask, like the
    /// bin (the two agree at b = 0, so the switch is smooth); each form is
    /// fed a harmless 1 in place of the denominator it must not use, so no
    /// 0/0 reaches the output or the gradients.
    fn inverse<F: Float>(&self, y: &V) -> (V, V)
    where
        V: Value<F>,
    {
        let two = F::from_f64(2.0);
        let (below, above) = (y.sub(&self.y0), self.y1.sub(y));
        let split = self.d0.mul(&above).sub(&self.d1.mul(&below));
        let b = split.add(&self.s.mul(&below).scale(two));
        let spread = self
            .s
            .square()
            .scale(F::from_f64(4.0))
            .mul(&below)
            .mul(&above);
        let root = split.square().add(&spread).sqrt();
        let negative = indicator(&b, |b| b < F::ZERO);
        let positive = negative.neg().shift(F::ONE);
        // denominator where it is used, 1 where it is not
        let guard = |denominator: V, used: &V, unused: &V| denominator.mul(used).add(unused);
        let rising = self.s.mul(&below).scale(two);
        let xi_positive = rising.div(&guard(b.add(&root), &positive, &negative));
        let a = self.s.mul(&self.h).sub(&b);
        let xi_negative = root.sub(&b).div(&guard(a.scale(two), &negative, &positive));
        let xi = xi_positive.mul(&positive).add(&xi_negative.mul(&negative));
        (lerp(&self.x0, &self.x1, &xi), self.log_slope(&xi).neg())
    }
}

/// A coupling layer whose transformed half goes through rational-quadratic
/// splines conditioned on the other half (see the module docs).
#[derive(Clone, Debug)]
pub struct SplineCoupling {
    pub spline: RationalQuadratic,
    pub split: Split,
    /// x_a ↦ the `3K − 1` raw parameters of each transformed dimension.
    pub net: Mlp,
}

impl SplineCoupling {
    /// A spline coupling on `mask.len()` dimensions; `mask[d]` is true for the
    /// dimensions that condition. The network is `{prefix}.net`; its last
    /// layer starts at zero, so the layer starts as the identity map.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        mask: &[bool],
        spline: RationalQuadratic,
        net: ConditionerShape,
        rng: &mut R,
    ) -> Self {
        let split = Split::new(mask);
        let net = split.conditioner(
            store,
            &format!("{prefix}.net"),
            spline.params_per_dim(),
            net,
            rng,
        );
        SplineCoupling { spline, split, net }
    }

    /// Which dimensions condition (the mask b).
    pub fn mask(&self) -> Vec<bool> {
        self.split.mask()
    }

    /// The knots of the splines applied to x's transformed half, one row per
    /// transformed number (sample-major: row i·c + j is sample i, dimension
    /// `split.transform[j]`). They depend on x's conditioning half only.
    pub fn knots<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> Knots<V> {
        let (xa, xc) = self.split.halves(x);
        let m = dims(&xc, "spline coupling").0 * self.split.transform.len();
        let raw = self.net.forward(store, &xa);
        self.spline
            .knots(&raw.reshape(&[m, self.spline.params_per_dim()]))
    }
}

impl<F: Float> Flow<F> for SplineCoupling {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        self.split
            .couple(store, &self.net, x, |xc, raw| self.spline.forward(xc, raw))
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        self.split
            .couple(store, &self.net, z, |zc, raw| self.spline.inverse(zc, raw))
    }

    fn name(&self) -> String {
        "spline coupling".into()
    }
}
