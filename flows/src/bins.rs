//! The machinery of monotone piecewise maps on [−B, B] with identity tails,
//! shared by the rational-quadratic spline ([`crate::spline`]) and the
//! piecewise-linear map ([`crate::piecewise_linear`]).
//!
//! **Knots from free parameters.** K unconstrained numbers r become K bin
//! sizes that are at least μ = [`MIN_BIN`] and sum to 1,
//!   size_k = μ + (1 − Kμ)·softmax(r)_k,
//! whose running sums, scaled to [−B, B], are the knots
//!   k_0 = −B,  k_j = −B + 2B·Σ_{i<j} size_i,  k_K = B.
//! The two ends are pinned to ±B rather than summed, so the last knot is B
//! exactly, not B plus the rounding of K additions. The running sums are one
//! matmul with a constant triangular matrix, so gradients come from the
//! engine's existing ops.
//!
//! **Bin lookup.** Which bin a number falls in is piecewise constant in the
//! number and in the knots, so it carries no gradient: it is computed on the
//! current values, as a constant one-hot row per number, and a bin's
//! quantities are picked out with a product and a sum along the bin axis,
//! both recorded. The bin of v is the number of interior knots k_1 … k_{K−1}
//! at or below it: a number exactly on k_j is in bin j (it starts the bin),
//! and B is in bin K − 1 (it ends it), never in a bin K that does not exist
//! (the index bug of nflows #79, where the search counted k_K too).
//!
//! **Tails.** Outside [−B, B] the map is the identity. The piecewise formula
//! is evaluated at 0 there instead (a finite, in-range stand-in) and then
//! multiplied by 0, so that no infinity or NaN from a formula outside its
//! range reaches the output or the gradients.

use autograd::{Float, Tensor, Value};

/// The smallest bin width or height, as a fraction of 2B: bins never vanish,
/// so neither log(height/width) nor any division by a width is unbounded.
pub const MIN_BIN: f64 = 1e-3;

/// The settings every binned transform needs, checked once for all of them:
/// at least two bins (one bin with fixed ends is the identity), bins of at
/// least [`MIN_BIN`] that fit in the interval, and a positive finite bound.
/// `what` names the transform in the message.
pub fn check_bins(what: &str, bins: usize, bound: f64) {
    assert!(bins >= 2, "{what}: need at least two bins, got {bins}");
    assert!(
        (bins as f64) * MIN_BIN < 1.0,
        "{what}: {bins} bins of at least {MIN_BIN} do not fit"
    );
    assert!(
        bound.is_finite() && bound > 0.0,
        "{what}: the bound must be positive, got {bound}"
    );
}

/// `(rows, cols)` of a matrix-shaped value.
pub(crate) fn dims<F: Float, V: Value<F>>(v: &V, what: &str) -> (usize, usize) {
    let shape = v.shape();
    assert!(shape.len() == 2, "{what}: expected a matrix, got {shape:?}");
    (shape[0], shape[1])
}

/// The knots −B = k_0 < … < k_K = B, `[m, K + 1]`, from `raw` `[m, K]` (see
/// the module docs).
pub fn knots<F: Float, V: Value<F>>(raw: &V, bound: f64) -> V {
    let (m, k) = dims(raw, "knots");
    assert!(k >= 2, "knots: need at least two bins, got {k}");
    let softmax = raw.sub(&raw.logsumexp(1, true)).exp();
    let sizes = softmax
        .scale(F::from_f64(1.0 - k as f64 * MIN_BIN))
        .shift(F::from_f64(MIN_BIN));
    let zero = raw.constant(&Tensor::zeros(&[m, 1]));
    let one = raw.constant(&Tensor::full(&[m, 1], F::ONE));
    let interior = sizes.matmul(&raw.constant(&running_sums(k)));
    V::concat_cols(&[&zero, &interior, &one])
        .scale(F::from_f64(2.0 * bound))
        .shift(F::from_f64(-bound))
}

/// T `[K, K − 1]` with T[i, j] = 1 for i ≤ j: (sizes·T)_j = Σ_{i≤j} size_i,
/// the interior knots k_1 … k_{K−1} in units of 2B.
fn running_sums<F: Float>(k: usize) -> Tensor<F> {
    let data = (0..k)
        .flat_map(|i| (0..k - 1).map(move |j| if i <= j { F::ONE } else { F::ZERO }))
        .collect();
    Tensor::new(data, &[k, k - 1])
}

/// One-hot rows `[m, K]`: row r marks the bin of `v[r]` among the knots
/// `knots[r]` (`[m, K + 1]`): the number of interior knots at or below it.
pub fn one_hot<F: Float>(knots: &Tensor<F>, v: &Tensor<F>) -> Tensor<F> {
    let (m, k) = (knots.rows(), knots.cols() - 1);
    let mut out = vec![F::ZERO; m * k];
    for r in 0..m {
        let value = v.data()[r];
        let bin = knots.row(r)[1..k].iter().filter(|&&e| e <= value).count();
        out[r * k + bin] = F::ONE;
    }
    Tensor::new(out, &[m, k])
}

/// Σ_k values[:, k]·bin[:, k], `[m, 1]`: the value of each row's bin.
pub fn select<F: Float, V: Value<F>>(values: &V, bin: &V) -> V {
    values.mul(bin).sum_axis(1, true)
}

/// a·(1 − t) + b·t: exactly a at t = 0 and exactly b at t = 1, so the ends
/// of a bin land exactly on its knots (a + t·(b − a) can miss b by an ulp,
/// and at B that ulp would fall into the tail).
pub fn lerp<F: Float, V: Value<F>>(a: &V, b: &V, t: &V) -> V {
    a.mul(&t.neg().shift(F::ONE)).add(&b.mul(t))
}

/// A constant 0/1 mask of `v`'s shape, 1 where `keep` holds for the current
/// value: which branch a number takes is piecewise constant, so it carries
/// no gradient.
pub fn indicator<F: Float, V: Value<F>>(v: &V, keep: impl Fn(F) -> bool) -> V {
    v.constant(
        &v.to_tensor()
            .map(|x| if keep(x) { F::ONE } else { F::ZERO }),
    )
}

/// Which numbers of a column `[m, 1]` are in [−B, B] (constants: the
/// boundary carries no gradient).
pub struct Tails<V> {
    inside: V,
    outside: V,
}

impl<V> Tails<V> {
    pub fn new<F: Float>(v: &V, bound: f64) -> Self
    where
        V: Value<F>,
    {
        let b = F::from_f64(bound);
        let inside = indicator(v, |x| -b <= x && x <= b);
        Tails {
            outside: inside.neg().shift(F::ONE),
            inside,
        }
    }

    /// v inside [−B, B], 0 outside: what the piecewise formula is evaluated on.
    pub fn inner<F: Float>(&self, v: &V) -> V
    where
        V: Value<F>,
    {
        v.mul(&self.inside)
    }

    /// `mapped` inside [−B, B], the identity `v` outside.
    pub fn blend<F: Float>(&self, mapped: &V, v: &V) -> V
    where
        V: Value<F>,
    {
        mapped.mul(&self.inside).add(&v.mul(&self.outside))
    }
}
