//! Checking derivatives against finite differences, as PyTorch's `gradcheck` does.
//!
//! Central differences, (f(x + h) − f(x − h)) / 2h, are accurate to O(h²) plus a
//! rounding error of about ε·|f|/h. In `f64` (ε ≈ 1e−16) with h = 1e−6 both terms
//! are near 1e−10, far below any real mistake in a derivative, which is why checks
//! run in `f64` even though training runs in `f32`.

use crate::tape::{Tape, Var};
use crate::tensor::Tensor;
use crate::value::Value;
use std::fmt;

/// The step of the central differences used by [`gradcheck`].
pub const FINITE_DIFFERENCE_STEP: f64 = 1e-6;

/// Where [`gradcheck`] found the backward pass and finite differences to disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError {
    pub input: usize,
    pub element: usize,
    pub analytic: f64,
    pub numeric: f64,
    pub error: f64,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck: input {} element {}: backward gives {:.10}, finite differences {:.10} (error {:.2e})",
            self.input, self.element, self.analytic, self.numeric, self.error
        )
    }
}

impl std::error::Error for GradcheckError {}

/// The error measure of [`gradcheck`]: relative for large values, absolute for
/// small ones, |a − n| / max(1, |a|, |n|).
pub fn mixed_error(a: f64, n: f64) -> f64 {
    (a - n).abs() / 1f64.max(a.abs()).max(n.abs())
}

/// Checks the gradient that [`Tape::backward`] gives for `f` at `inputs` against
/// central differences, element by element.
///
/// If `f` returns more than one number, the check uses L = Σᵢ wᵢ·yᵢ with fixed
/// pseudo-random weights w, which tests the vector-Jacobian product with a
/// cotangent that has no special structure (an all-ones cotangent could hide a
/// transposed or permuted gradient).
///
/// Returns the largest error found, or the first element whose error exceeds `tol`.
pub fn gradcheck<Fun>(f: Fun, inputs: &[Tensor<f64>], tol: f64) -> Result<f64, GradcheckError>
where
    Fun: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let loss_of = |values: &[Tensor<f64>], tape: &Tape<f64>| -> (Vec<usize>, usize) {
        let vars: Vec<Var<f64>> = values.iter().map(|v| tape.variable(v)).collect();
        let y = f(&vars);
        let loss = scalarize(y);
        (vars.iter().map(|v| v.id()).collect(), loss.id())
    };

    // Analytic gradients from one backward sweep.
    let tape = Tape::new();
    let (ids, loss) = loss_of(inputs, &tape);
    tape.backward(Var {
        id: loss,
        tape: &tape,
    });
    let analytic: Vec<Tensor<f64>> = ids
        .iter()
        .zip(inputs)
        .map(|(&id, x)| tape.grad_of(id).unwrap_or_else(|| Tensor::zeros(x.shape())))
        .collect();

    // Numeric gradients, one element at a time.
    let evaluate = |values: &[Tensor<f64>]| -> f64 {
        let tape = Tape::new();
        let (_, loss) = loss_of(values, &tape);
        tape.value_of(loss).item()
    };
    let mut worst = 0.0f64;
    let mut values = inputs.to_vec();
    for (i, x) in inputs.iter().enumerate() {
        for e in 0..x.len() {
            let h = FINITE_DIFFERENCE_STEP * x.data()[e].abs().max(1.0);
            values[i].data_mut()[e] = x.data()[e] + h;
            let up = evaluate(&values);
            values[i].data_mut()[e] = x.data()[e] - h;
            let down = evaluate(&values);
            values[i].data_mut()[e] = x.data()[e];
            let numeric = (up - down) / (2.0 * h);
            let a = analytic[i].data()[e];
            let error = mixed_error(a, numeric);
            if error > tol || !error.is_finite() {
                return Err(GradcheckError {
                    input: i,
                    element: e,
                    analytic: a,
                    numeric,
                    error,
                });
            }
            worst = worst.max(error);
        }
    }
    Ok(worst)
}

/// y itself if it holds one number, else Σ wᵢyᵢ with fixed weights in [0.5, 1.5).
fn scalarize<'t>(y: Var<'t, f64>) -> Var<'t, f64> {
    let shape = y.shape();
    let n: usize = shape.iter().product();
    if n == 1 {
        return y;
    }
    // A tiny linear congruential sequence: deterministic and free of structure.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let weights: Vec<f64> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            0.5 + (state >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    let w = y.constant(&Tensor::new(weights, &shape));
    y.mul(&w).sum()
}

/// The Jacobian ∂f/∂x by central differences: a `[len(f(x)), len(x)]` matrix with
/// J[i, j] = (f(x + h·eⱼ)ᵢ − f(x − h·eⱼ)ᵢ) / 2h.
pub fn jacobian(f: impl Fn(&Tensor<f64>) -> Tensor<f64>, x: &Tensor<f64>, h: f64) -> Tensor<f64> {
    let n = x.len();
    let m = f(x).len();
    let mut jac = Tensor::zeros(&[m, n]);
    let mut probe = x.clone();
    for j in 0..n {
        probe.data_mut()[j] = x.data()[j] + h;
        let up = f(&probe);
        probe.data_mut()[j] = x.data()[j] - h;
        let down = f(&probe);
        probe.data_mut()[j] = x.data()[j];
        for i in 0..m {
            jac.data_mut()[i * n + j] = (up.data()[i] - down.data()[i]) / (2.0 * h);
        }
    }
    jac
}

/// log|det A| of a square matrix by Gaussian elimination with partial pivoting
/// (the product of the pivots is ± det A). −∞ for a singular matrix.
pub fn log_abs_det(a: &Tensor<f64>) -> f64 {
    let (n, cols) = a.dims2("log_abs_det");
    assert_eq!(n, cols, "log_abs_det: matrix {:?} is not square", a.shape());
    let mut m = a.data().to_vec();
    let mut log_det = 0.0;
    for c in 0..n {
        let pivot = (c..n)
            .max_by(|&i, &j| m[i * n + c].abs().total_cmp(&m[j * n + c].abs()))
            .expect("non-empty range");
        if m[pivot * n + c] == 0.0 {
            return f64::NEG_INFINITY;
        }
        if pivot != c {
            for k in 0..n {
                m.swap(pivot * n + k, c * n + k);
            }
        }
        let p = m[c * n + c];
        log_det += p.abs().ln();
        for r in c + 1..n {
            let factor = m[r * n + c] / p;
            for k in c..n {
                m[r * n + k] -= factor * m[c * n + k];
            }
        }
    }
    log_det
}
