//! The planar flow (Rezende & Mohamed 2015):
//!
//!   z = x + û·h(wᵀx + b),   h = tanh,
//!
//! a shift of x along the direction û by an amount that depends on x only
//! through the projection wᵀx.
//!
//! **Log-det.** ∂z/∂x = I + û·h′(wᵀx + b)·wᵀ is the identity plus a rank-one
//! matrix, and det(I + a·bᵀ) = 1 + bᵀa (the matrix determinant lemma), so
//!   log|det ∂z/∂x| = log|1 + h′(wᵀx + b)·ûᵀw|.
//!
//! **Invertibility.** That determinant is positive for every x when
//! ûᵀw > −1, since 0 < h′ ≤ 1 (at ûᵀw = −1 it reaches 0 where h′ = 1, and
//! below −1 it changes sign). The trained vector u is therefore
//! re-parameterized:
//!   û = u + (m(wᵀu) − wᵀu)·w/‖w‖²,   m(a) = −1 + softplus(a),
//! which makes wᵀû = m(wᵀu) > −1 whatever u and w are.
//!
//! **Inverse.** z − x is a multiple of û, so x is known once the single number
//! α = wᵀx is. Taking wᵀ of the forward map gives a one-dimensional equation
//!   wᵀz = α + (wᵀû)·h(α + b),
//! whose left side is known and whose right side is strictly increasing in α
//! (its slope 1 + wᵀû·h′ is positive), so it has exactly one root, and it lies
//! within |wᵀû| of wᵀz because |h| ≤ 1. A bracketed Newton iteration finds it to
//! ~1e-15 (relative); then x = z − û·h(α + b). No D-dimensional solve is needed.
//! The root is found on the current values, so gradients do not flow through
//! the inverse; the flow is trained through `forward`.

use crate::flow::Flow;
use autograd::{Float, ParamId, ParamStore, Tensor, Value};
use rand::Rng;
use rand_distr::{Distribution, Uniform};

#[derive(Clone, Debug)]
pub struct Planar {
    pub dim: usize,
    /// `[d, 1]`
    pub w: ParamId,
    /// `[1, d]`
    pub u: ParamId,
    /// `[1]`
    pub b: ParamId,
}

/// Guards ‖w‖² against 0 in the re-parameterization.
const NORM_GUARD: f64 = 1e-12;

impl Planar {
    /// w and u drawn from U(−1/√d, 1/√d), b = 0.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        d: usize,
        rng: &mut R,
    ) -> Self {
        let bound = 1.0 / (d as f64).sqrt();
        let uniform = Uniform::new_inclusive(-bound, bound).expect("ordered bounds");
        let mut draw = |shape: &[usize]| {
            let data: Vec<f64> = (0..d).map(|_| uniform.sample(rng)).collect();
            Tensor::from_f64(&data, shape)
        };
        Planar {
            dim: d,
            w: store.add(&format!("{prefix}.w"), draw(&[d, 1])),
            u: store.add(&format!("{prefix}.u"), draw(&[1, d])),
            b: store.add(&format!("{prefix}.b"), Tensor::zeros(&[1])),
        }
    }

    /// (w, û, ûᵀw) in the context of `x`.
    fn vectors<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V, V) {
        let w = x.param(store, self.w);
        let u = x.param(store, self.u);
        let wu = u.matmul(&w); // [1, 1]
        let norm2 = w.square().sum().shift(F::from_f64(NORM_GUARD));
        let m = wu.softplus().shift(-F::ONE);
        let u_hat = u.add(&m.sub(&wu).div(&norm2).mul(&w.transpose()));
        let uw = u_hat.matmul(&w);
        (w, u_hat, uw)
    }

    /// log|1 + h′·ûᵀw| per sample, given h = tanh(wᵀx + b) as `[n, 1]`.
    fn log_det<F: Float, V: Value<F>>(h: &V, uw: &V) -> V {
        let n = h.shape()[0];
        let h_prime = h.square().neg().shift(F::ONE);
        h_prime.mul(uw).shift(F::ONE).abs().log().reshape(&[n])
    }
}

impl<F: Float> Flow<F> for Planar {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let (w, u_hat, uw) = self.vectors(store, x);
        let h = x.matmul(&w).add(&x.param(store, self.b)).tanh(); // [n, 1]
        let z = x.add(&h.mul(&u_hat));
        let log_det = Self::log_det(&h, &uw);
        (z, log_det)
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let (w, u_hat, uw) = self.vectors(store, z);
        let c = uw.to_tensor().item().to_f64(); // wᵀû
        let b = store.value(self.b).item().to_f64();
        let wz = z.matmul(&w).to_tensor(); // [n, 1]
        let h: Vec<f64> = wz
            .data()
            .iter()
            .map(|wz| (solve_projection(wz.to_f64(), c, b) + b).tanh())
            .collect();
        let h = z.constant(&Tensor::from_f64(&h, &[h.len(), 1]));
        let x = z.sub(&h.mul(&u_hat));
        (x, Self::log_det(&h, &uw).neg())
    }

    fn name(&self) -> String {
        "planar".into()
    }
}

/// The root α of  α + c·tanh(α + b) = target  (c > −1): Newton's method kept
/// inside a shrinking bracket, falling back to bisection when a Newton step
/// would leave it (which happens where the slope 1 + c·h′ is nearly 0).
pub fn solve_projection(target: f64, c: f64, b: f64) -> f64 {
    let g = |a: f64| a + c * (a + b).tanh() - target;
    let (mut lo, mut hi) = (target - c.abs(), target + c.abs());
    let mut a = target;
    for _ in 0..200 {
        let value = g(a);
        if value == 0.0 {
            return a;
        }
        if value < 0.0 {
            lo = a;
        } else {
            hi = a;
        }
        let slope = 1.0 + c * (1.0 - (a + b).tanh().powi(2));
        let newton = a - value / slope;
        let next = if slope > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - a).abs() <= 1e-15 * a.abs().max(1.0) || hi - lo <= 1e-15 * a.abs().max(1.0) {
            return next;
        }
        a = next;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::solve_projection;

    #[test]
    fn projection_root_is_exact_even_where_the_slope_vanishes() {
        // c close to −1 and α + b near 0 make the slope 1 + c·h′ almost 0:
        // the case Newton alone would overshoot.
        for &(target, c, b) in &[
            (0.3, 2.0, -0.5),
            (-1.0, -0.999, 1.0),
            (0.0, -0.999999, 0.0),
            (5.0, 0.1, 2.0),
        ] {
            let a = solve_projection(target, c, b);
            let residual = a + c * f64::tanh(a + b) - target;
            assert!(
                residual.abs() < 1e-12,
                "target {target} c {c} b {b}: residual {residual}"
            );
        }
    }
}
