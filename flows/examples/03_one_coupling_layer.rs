//! # Example 03 — one affine coupling layer, taken apart
//!
//! `cargo run -p flows --example 03_one_coupling_layer`
//!
//! **What it teaches.** The building block of RealNVP on 2-D points: x₁ passes
//! through and conditions an affine map of x₂,
//!
//! ```text
//! z₁ = x₁,    z₂ = x₂·exp(s(x₁)) + t(x₁),    s = c·tanh(ŝ/c)
//! ```
//!
//! with s and t small MLPs like the one of example 02. The example checks
//! the three facts a flow layer must satisfy, against independent numbers:
//!
//! 1. **Invertible:** `inverse(forward(x))` gives x back (round-trip error);
//!    the inverse recomputes s and t from z₁ = x₁ and undoes the affine map —
//!    the networks themselves are never inverted.
//! 2. **Its log-det is right:** the layer's cheap log|det| = s(x₁) equals
//!    `autograd::log_abs_det(autograd::jacobian(…))`, the log-determinant of
//!    the full Jacobian by central differences and Gaussian elimination.
//! 3. **Why it is cheap:** the Jacobian is lower-triangular — ∂z₁/∂x₂ is
//!    exactly 0 and ∂z₁/∂x₁ is 1 — so its determinant is exp(s), the
//!    bottom-right entry. And |s| ≤ c whatever the networks output (the
//!    soft clamp), even with weights far larger than training would make.
//!
//! The derivation is in `docs/REPORT.md`; the layer is `flows/src/coupling.rs`.
//! The test at the bottom checks every number printed; `cargo test` runs it.
//!
//! **Previous:** `autograd/examples/02_fit_an_mlp.rs`.
//! **Next:** `04_train_a_flow.rs` stacks six of these, with alternating masks
//! and ActNorm between them, and trains the stack on two moons.

use autograd::{jacobian, log_abs_det, Activation, ParamStore, Tensor};
use flows::{Coupling, CouplingKind, Flow, NetShape};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt;

/// The soft clamp c of the log-scale.
const CLAMP: f64 = 1.0;
/// The central-difference step of the numerical Jacobian.
const STEP: f64 = 1e-6;

/// Five 2-D points, rows of an `[n, 2]` matrix.
const POINTS: [[f64; 2]; 5] = [
    [0.5, -1.0],
    [1.5, 0.25],
    [-0.75, 1.0],
    [0.0, -0.5],
    [2.0, 2.0],
];

pub struct Report {
    pub x: Tensor<f64>,
    pub z: Tensor<f64>,
    /// log|det ∂z/∂x| per point, as the layer computes it (Σ s).
    pub log_det: Vec<f64>,
    /// log|det J| of the numerical Jacobian, per point.
    pub log_det_numeric: Vec<f64>,
    /// The inverse's log|det ∂x/∂z| at z, per point.
    pub inverse_log_det: Vec<f64>,
    /// max |f⁻¹(f(x)) − x|.
    pub round_trip_error: f64,
    /// The numerical Jacobian of the first point, row-major [∂z₁/∂x₁, ∂z₁/∂x₂, ∂z₂/∂x₁, ∂z₂/∂x₂].
    pub jacobian_first: [f64; 4],
    /// The largest |s| over many points with every weight scaled up 20×.
    pub largest_scale_with_huge_weights: f64,
}

/// A coupling layer whose networks (1→16→16→1, tanh) have random weights.
/// (`Coupling::new` zeroes the last layers so a fresh flow starts as the
/// identity; the example wants a layer that does something.)
fn random_layer(store: &mut ParamStore<f64>, rng: &mut StdRng) -> Coupling {
    let net = NetShape {
        hidden: 16,
        depth: 2,
        activation: Activation::Tanh,
        shared: false,
    };
    let mask = [true, false]; // x₁ conditions, x₂ is transformed
    let layer = Coupling::new(
        store,
        "coupling",
        &mask,
        CouplingKind::Affine { clamp: CLAMP },
        net,
        rng,
    );
    for p in store.iter_mut() {
        for v in p.value.data_mut() {
            *v = rng.random_range(-0.8..0.8);
        }
    }
    layer
}

pub fn run() -> Report {
    let mut rng = StdRng::seed_from_u64(3);
    let mut store = ParamStore::<f64>::new();
    let layer = random_layer(&mut store, &mut rng);
    let x = Tensor::from_rows(&POINTS);

    // Plain tensors: the inference path, nothing recorded.
    let (z, log_det) = layer.forward(&store, &x);
    let (x_back, inverse_log_det) = layer.inverse(&store, &z);
    let round_trip_error = x_back.max_abs_diff(&x);

    let mut log_det_numeric = Vec::new();
    let mut jacobian_first = [0.0; 4];
    for (i, point) in POINTS.iter().enumerate() {
        let xi = Tensor::new(point.to_vec(), &[1, 2]);
        let jac = jacobian(|v| layer.forward(&store, v).0, &xi, STEP);
        if i == 0 {
            jacobian_first.copy_from_slice(jac.data());
        }
        log_det_numeric.push(log_abs_det(&jac));
    }

    // The clamp: scale every weight by 20 and look at s = log-det over a
    // wide range of x₁.
    for p in store.iter_mut() {
        for v in p.value.data_mut() {
            *v *= 20.0;
        }
    }
    let wide: Vec<[f64; 2]> = (0..201).map(|i| [-5.0 + 0.05 * i as f64, 0.0]).collect();
    let (_, s) = layer.forward(&store, &Tensor::from_rows(&wide));
    let largest_scale_with_huge_weights = s.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));

    Report {
        x,
        z,
        log_det: log_det.data().to_vec(),
        log_det_numeric,
        inverse_log_det: inverse_log_det.data().to_vec(),
        round_trip_error,
        jacobian_first,
        largest_scale_with_huge_weights,
    }
}

impl Report {
    /// The largest |layer log-det − numerical log|det J||.
    pub fn log_det_error(&self) -> f64 {
        self.log_det
            .iter()
            .zip(&self.log_det_numeric)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "One affine coupling layer, z₁ = x₁, z₂ = x₂·exp(s(x₁)) + t(x₁), s = {CLAMP}·tanh(ŝ/{CLAMP})\n"
        )?;
        writeln!(
            f,
            "        x₁        x₂  →        z₁        z₂    log|det| (layer)  log|det J| (numerical)"
        )?;
        for i in 0..self.x.rows() {
            let (x, z) = (self.x.row(i), self.z.row(i));
            writeln!(
                f,
                "  {:>8.4}  {:>8.4}  →  {:>8.4}  {:>8.4}    {:>+.12}     {:>+.12}",
                x[0], x[1], z[0], z[1], self.log_det[i], self.log_det_numeric[i]
            )?;
        }
        writeln!(
            f,
            "\nlargest |layer − numerical| log-det   {:.1e}",
            self.log_det_error()
        )?;
        writeln!(
            f,
            "inverse log-det + forward log-det     {:.1e}  (largest |sum|)",
            self.log_det
                .iter()
                .zip(&self.inverse_log_det)
                .map(|(a, b)| (a + b).abs())
                .fold(0.0, f64::max)
        )?;
        writeln!(
            f,
            "round trip max |f⁻¹(f(x)) − x|        {:.1e}",
            self.round_trip_error
        )?;
        let j = self.jacobian_first;
        writeln!(f, "\nJacobian at the first point (central differences):")?;
        writeln!(f, "  [ {:>+.9}  {:>+.9} ]   ∂z₁/∂x = [1, 0]", j[0], j[1])?;
        writeln!(
            f,
            "  [ {:>+.9}  {:>+.9} ]   ∂z₂/∂x₂ = exp(s) = {:.9}",
            j[2],
            j[3],
            self.log_det[0].exp()
        )?;
        writeln!(
            f,
            "\nwith every weight ×20, the largest |s| over x₁ ∈ [−5, 5]: {:.6} (clamp {CLAMP})",
            self.largest_scale_with_huge_weights
        )
    }
}

fn main() {
    print!("{}", run());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_undoes_the_forward_map() {
        let r = run();
        // x₂ = (z₂ − t)·exp(−s) with the same s and t: a few ulps of values ~2.
        assert!(r.round_trip_error < 1e-12, "{}", r.round_trip_error);
        for (a, b) in r.log_det.iter().zip(&r.inverse_log_det) {
            assert!((a + b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn the_log_det_is_that_of_the_full_jacobian() {
        let r = run();
        // Central differences at h = 1e-6: truncation ~h²·|f‴| ≈ 1e-12,
        // rounding ~1e-16/h ≈ 1e-10 per entry; 1e-8 leaves room and still
        // catches any wrong term of the log-det (they are of order 0.1).
        assert!(r.log_det_error() < 1e-8, "{r}");
        assert!(r.log_det.iter().any(|s| s.abs() > 0.05), "a trivial layer");
    }

    #[test]
    fn the_jacobian_is_triangular() {
        let j = run().jacobian_first;
        // z₁ = x₁ is copied, so moving x₂ leaves it bit for bit unchanged.
        assert_eq!(j[1], 0.0);
        assert!((j[0] - 1.0).abs() < 1e-9, "{}", j[0]);
        assert!(j[2].abs() > 1e-3, "z₂ should depend on x₁: {}", j[2]);
    }

    #[test]
    fn the_soft_clamp_bounds_the_log_scale() {
        let r = run();
        assert!(r.largest_scale_with_huge_weights <= CLAMP);
        // … and the bound is reached: the clamp is doing work here.
        assert!(r.largest_scale_with_huge_weights > 0.9 * CLAMP, "{r}");
    }
}
