//! The radial flow (Rezende & Mohamed 2015):
//!
//!   y = x + β·h(r)·(x − x₀),   r = ‖x − x₀‖,   h(r) = 1/(α + r),
//!
//! which pulls points towards (β < 0) or pushes them away from (β > 0) a
//! centre x₀, by an amount that fades with the distance from it.
//!
//! **Log-det.** Write x − x₀ = r·e with e a unit vector. The map keeps the
//! direction e and sends the radius r to ρ(r) = r·(1 + β·h(r)). In the d − 1
//! directions across e lengths are stretched by ρ/r = 1 + β·h, and along e by
//! ρ′(r) = 1 + β·h + β·h′(r)·r = 1 + β·α/(α + r)², so
//!   log|det ∂y/∂x| = (d − 1)·log(1 + β·h) + log(1 + β·α/(α + r)²).
//!
//! **Invertibility.** ρ must be strictly increasing: with α > 0 and β > −α
//! both factors are positive (β·h > −α/(α + r) > −1, and
//! β·α/(α + r)² > −α²/(α + r)² ≥ −1). The trained numbers are therefore
//! re-parameterized: α = softplus(α̂), β = −α + softplus(β̂).
//!
//! **Inverse**, in closed form. The direction e is the same on both sides, so
//! only the radius is unknown: ‖y − x₀‖ = ρ(r) = r·(α + β + r)/(α + r) gives
//!   r² + (α + β − ρ)·r − α·ρ = 0,
//! a quadratic with one non-negative root,
//!   r = 2αρ / (b + √(b² + 4αρ)),   b = α + β − ρ
//! (that form of the root never subtracts nearly equal numbers, whatever the
//! sign of b; its denominator is 0 only when ρ = 0, where r = 0), and then
//! x = x₀ + (y − x₀)/(1 + β·h(r)). The root is taken on the current values,
//! so gradients do not flow through the inverse; the flow is trained through
//! `forward`.

use crate::flow::Flow;
use autograd::{Float, ParamId, ParamStore, Tensor, Value};
use rand::Rng;
use rand_distr::{Distribution, Uniform};

#[derive(Clone, Debug)]
pub struct Radial {
    pub dim: usize,
    /// `[1, d]`: the centre x₀.
    pub centre: ParamId,
    /// `[1]`: α̂, with α = softplus(α̂).
    pub alpha: ParamId,
    /// `[1]`: β̂, with β = −α + softplus(β̂).
    pub beta: ParamId,
}

/// Keeps r = ‖x − x₀‖ = √(‖x − x₀‖² + ε) differentiable at the centre itself,
/// where the slope of a bare square root is infinite; it moves r by at most
/// √ε = 1e-15.
const RADIUS_GUARD: f64 = 1e-30;

/// softplus⁻¹(1) = ln(e − 1): α̂ and β̂ at this value give α = 1 and β = 0.
const SOFTPLUS_INV_ONE: f64 = 0.541_324_854_612_918_1;

impl Radial {
    /// x₀ drawn from U(−1/√d, 1/√d); α = 1; β = −1 + softplus(β̂) with β̂
    /// near softplus⁻¹(1), so β starts small and of either sign.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        d: usize,
        rng: &mut R,
    ) -> Self {
        let bound = 1.0 / (d as f64).sqrt();
        let uniform = Uniform::new_inclusive(-bound, bound).expect("ordered bounds");
        let centre: Vec<f64> = (0..d).map(|_| uniform.sample(rng)).collect();
        let beta = SOFTPLUS_INV_ONE + 0.5 * uniform.sample(rng);
        Radial {
            dim: d,
            centre: store.add(
                &format!("{prefix}.centre"),
                Tensor::from_f64(&centre, &[1, d]),
            ),
            alpha: store.add(
                &format!("{prefix}.alpha"),
                Tensor::from_f64(&[SOFTPLUS_INV_ONE], &[1]),
            ),
            beta: store.add(&format!("{prefix}.beta"), Tensor::from_f64(&[beta], &[1])),
        }
    }

    /// (x₀, α, β) in the context of `x`, α and β as `[1]`.
    fn numbers<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V, V) {
        let alpha = x.param(store, self.alpha).softplus();
        let beta = x.param(store, self.beta).softplus().sub(&alpha);
        (x.param(store, self.centre), alpha, beta)
    }

    /// log|det ∂y/∂x| per sample from r `[n, 1]` (the radius on the x side).
    fn log_det<F: Float, V: Value<F>>(&self, r: &V, alpha: &V, beta: &V) -> V {
        let n = r.shape()[0];
        let alpha_r = r.add(alpha);
        let across = beta.div(&alpha_r).shift(F::ONE).log(); // log(1 + βh)
        let along = beta.mul(alpha).div(&alpha_r.square()).shift(F::ONE).log(); // log(1 + βα/(α + r)²)
        let d_minus_1 = F::from_usize(self.dim - 1);
        across.scale(d_minus_1).add(&along).reshape(&[n])
    }
}

impl<F: Float> Flow<F> for Radial {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let (centre, alpha, beta) = self.numbers(store, x);
        let offset = x.sub(&centre);
        let r = offset
            .square()
            .sum_axis(1, true)
            .shift(F::from_f64(RADIUS_GUARD))
            .sqrt(); // [n, 1]
        let beta_h = beta.div(&r.add(&alpha));
        let y = x.add(&offset.mul(&beta_h));
        let log_det = self.log_det(&r, &alpha, &beta);
        (y, log_det)
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, y: &V) -> (V, V) {
        let (centre, alpha, beta) = self.numbers(store, y);
        let (a, b) = (
            alpha.to_tensor().item().to_f64(),
            beta.to_tensor().item().to_f64(),
        );
        let offset = y.sub(&centre);
        let rho = offset.square().sum_axis(1, false).sqrt().to_tensor(); // [n]
        let r: Vec<f64> = rho
            .data()
            .iter()
            .map(|rho| radius_before(rho.to_f64(), a, b))
            .collect();
        let n = r.len();
        let shrink: Vec<f64> = r.iter().map(|&r| 1.0 / (1.0 + b / (a + r))).collect();
        let r = y.constant(&Tensor::from_f64(&r, &[n, 1]));
        let shrink = y.constant(&Tensor::from_f64(&shrink, &[n, 1]));
        let x = centre.add(&offset.mul(&shrink));
        (x, self.log_det(&r, &alpha, &beta).neg())
    }

    fn name(&self) -> String {
        "radial".into()
    }
}

/// The radius r ≥ 0 that the forward map sends to ρ, for α > 0 and β > −α:
/// the non-negative root of r² + (α + β − ρ)·r − α·ρ = 0 (see the module docs).
pub fn radius_before(rho: f64, alpha: f64, beta: f64) -> f64 {
    let b = alpha + beta - rho;
    let c = 4.0 * alpha * rho;
    if b >= 0.0 {
        if rho == 0.0 {
            0.0
        } else {
            2.0 * alpha * rho / (b + (b * b + c).sqrt())
        }
    } else {
        // b < 0: the textbook root (−b + √(b² + c))/2 adds two positive numbers.
        (-b + (b * b + c).sqrt()) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::radius_before;

    /// ρ(r) = r(α + β + r)/(α + r) undone, for radii from 0 to far away and
    /// β from almost −α (a strong pull) to large (a strong push).
    #[test]
    fn radius_before_inverts_the_radial_stretch() {
        for &(alpha, beta) in &[
            (1.0, 0.0),
            (0.5, -0.499),
            (2.0, 5.0),
            (1e-3, 1e-3),
            (3.0, -2.9),
        ] {
            for &r in &[0.0, 1e-12, 1e-3, 0.3, 1.0, 7.0, 1e4] {
                let rho = r * (alpha + beta + r) / (alpha + r);
                let back = radius_before(rho, alpha, beta);
                assert!(
                    (back - r).abs() <= 1e-12 * (1.0 + r),
                    "α {alpha} β {beta}: r {r} → ρ {rho} → {back}"
                );
            }
        }
    }
}
