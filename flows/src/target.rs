//! [`Target`]: an unnormalized density p̃(x) = Z·p(x), known only as the
//! number log p̃(x) at any x, as a Bayesian posterior is (prior times
//! likelihood, with the evidence Z unknown). Variational inference
//! (`vi.rs`) fits a flow to one.
//!
//! A target is recorded on the tape like any other function, so its gradient
//! with respect to x reaches the flow's parameters through the samples. Any
//! closure over tape values is one ([`ClosureTarget`]); the built-in ones
//! are in `energies.rs`.

use crate::evaluate::{row_chunks, CHUNK};
use autograd::{Float, Tape, Tensor, Var};

/// An unnormalized log-density on `dim()` dimensions.
pub trait Target<F: Float> {
    fn dim(&self) -> usize;

    /// log p̃(x) per row, `[n]`, of `x` `[n, dim]`, recorded on x's tape.
    fn log_density<'t>(&self, x: &Var<'t, F>) -> Var<'t, F>;
}

/// A closure as a target: `ClosureTarget::new(2, |x| …)` with `x` a tape
/// value `[n, 2]` and the result `[n]`.
pub struct ClosureTarget<C> {
    pub dim: usize,
    pub log_density: C,
}

impl<C> ClosureTarget<C> {
    /// The bound is here, not only on the impl of [`Target`], so that Rust
    /// infers a closure that works on every tape (`for<'t>`) rather than on
    /// one.
    pub fn new<F: Float>(dim: usize, log_density: C) -> Self
    where
        C: for<'t> Fn(&Var<'t, F>) -> Var<'t, F>,
    {
        ClosureTarget { dim, log_density }
    }
}

impl<F: Float, C> Target<F> for ClosureTarget<C>
where
    C: for<'t> Fn(&Var<'t, F>) -> Var<'t, F>,
{
    fn dim(&self) -> usize {
        self.dim
    }
    fn log_density<'t>(&self, x: &Var<'t, F>) -> Var<'t, F> {
        (self.log_density)(x)
    }
}

/// log p̃ of every row of `x` as plain numbers, [`CHUNK`] rows at a time on a
/// throwaway tape (so memory does not grow with the number of rows).
pub fn log_density_values<F: Float>(target: &impl Target<F>, x: &Tensor<F>) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.rows());
    let mut tape = Tape::new();
    for chunk in row_chunks(x, 0..x.rows()) {
        tape.reset();
        let log_p = target.log_density(&tape.constant(&chunk)).value();
        out.extend(log_p.data().iter().map(|v| v.to_f64()));
    }
    out
}

/// A rectangle [x_min, x_max] × [y_min, y_max] of the plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: (f64, f64),
    pub y: (f64, f64),
}

impl Rect {
    pub fn square(half_width: f64) -> Self {
        Rect {
            x: (-half_width, half_width),
            y: (-half_width, half_width),
        }
    }
}

/// log Z = log ∫ p̃ of a 2-D target by the midpoint rule on `area` with
/// cells of side `step`: Z ≈ h²·Σ p̃(cell centres). The sum is taken in the
/// log domain (log Σ exp, with a running maximum), so a p̃ of e^−1000 or
/// e^+1000 is no problem. The error is O(h²) for a smooth p̃ whose mass lies
/// inside `area`; mass outside it is simply missing.
pub fn log_z_by_quadrature<F: Float>(target: &impl Target<F>, area: Rect, step: f64) -> f64 {
    assert_eq!(target.dim(), 2, "quadrature is for 2-D targets");
    let cells = |(lo, hi): (f64, f64)| ((hi - lo) / step).round().max(1.0) as usize;
    let (nx, ny) = (cells(area.x), cells(area.y));
    let (hx, hy) = (
        (area.x.1 - area.x.0) / nx as f64,
        (area.y.1 - area.y.0) / ny as f64,
    );
    let mut sum = LogSumExp::default();
    let rows_per_chunk = (CHUNK / nx).max(1);
    let mut tape = Tape::new();
    for first_row in (0..ny).step_by(rows_per_chunk) {
        let last_row = (first_row + rows_per_chunk).min(ny);
        let mut points = Vec::with_capacity((last_row - first_row) * nx * 2);
        for j in first_row..last_row {
            let y = area.y.0 + (j as f64 + 0.5) * hy;
            for i in 0..nx {
                points.extend([area.x.0 + (i as f64 + 0.5) * hx, y]);
            }
        }
        tape.reset();
        let x = tape.constant(&Tensor::from_f64(&points, &[points.len() / 2, 2]));
        for v in target.log_density(&x).value().data() {
            sum.add(v.to_f64());
        }
    }
    sum.value() + (hx * hy).ln()
}

/// log Σ exp(aᵢ) of a stream of numbers, without overflow: the sum is kept
/// as exp(max)·s and rescaled when a new maximum arrives.
#[derive(Clone, Copy, Debug)]
pub struct LogSumExp {
    max: f64,
    scaled_sum: f64,
}

impl Default for LogSumExp {
    fn default() -> Self {
        LogSumExp {
            max: f64::NEG_INFINITY,
            scaled_sum: 0.0,
        }
    }
}

impl LogSumExp {
    pub fn add(&mut self, a: f64) {
        if a.is_nan() {
            self.max = f64::NAN;
        } else if a > self.max {
            self.scaled_sum = self.scaled_sum * (self.max - a).exp() + 1.0;
            self.max = a;
        } else if a > f64::NEG_INFINITY {
            self.scaled_sum += (a - self.max).exp();
        }
    }

    /// log Σ exp(aᵢ); −∞ for no numbers (or all −∞).
    pub fn value(&self) -> f64 {
        if self.scaled_sum == 0.0 {
            if self.max.is_nan() {
                f64::NAN
            } else {
                f64::NEG_INFINITY
            }
        } else {
            self.max + self.scaled_sum.ln()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::Value;

    #[test]
    fn log_sum_exp_streams_without_overflow() {
        let mut s = LogSumExp::default();
        for a in [1000.0, 999.0, 1001.0, f64::NEG_INFINITY] {
            s.add(a);
        }
        let expected = 1001.0 + (1.0 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
        assert!((s.value() - expected).abs() < 1e-12, "{}", s.value());
        assert_eq!(LogSumExp::default().value(), f64::NEG_INFINITY);
    }

    /// An unnormalized N(μ, σ²I) in 2-D has Z = 2πσ²; the midpoint rule on a
    /// box of ±8σ around μ finds it to 1e-6.
    #[test]
    fn quadrature_finds_the_normalizer_of_a_gaussian() {
        let sigma = 0.7;
        let target = ClosureTarget::new(2, move |x: &Var<f64>| {
            x.shift(-1.0)
                .square()
                .sum_axis(1, false)
                .scale(-0.5 / (sigma * sigma))
        });
        let area = Rect {
            x: (1.0 - 8.0 * sigma, 1.0 + 8.0 * sigma),
            y: (1.0 - 8.0 * sigma, 1.0 + 8.0 * sigma),
        };
        let log_z = log_z_by_quadrature(&target, area, 0.01);
        let exact = (2.0 * std::f64::consts::PI * sigma * sigma).ln();
        assert!((log_z - exact).abs() < 1e-6, "{log_z} vs {exact}");
    }
}
