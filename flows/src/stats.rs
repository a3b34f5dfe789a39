//! Column statistics shared by the layers that are fitted to data.

use autograd::{Float, Tensor};

/// Per-column mean and population standard deviation of `x` (`[n, d]`, n ≥ 1),
/// in f64 whatever `F` is. Standardization and ActNorm's data-dependent
/// initialization both start from these.
pub fn column_moments<F: Float>(x: &Tensor<F>) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = (x.rows(), x.cols());
    let mut mean = vec![0.0; d];
    for r in 0..n {
        for (m, v) in mean.iter_mut().zip(x.row(r)) {
            *m += v.to_f64();
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0; d];
    for r in 0..n {
        for ((s, v), m) in var.iter_mut().zip(x.row(r)).zip(&mean) {
            *s += (v.to_f64() - m).powi(2);
        }
    }
    let std = var.iter().map(|v| (v / n as f64).sqrt()).collect();
    (mean, std)
}

/// The sample covariance S = (1/n)·Σₖ xₖxₖᵀ of `x` (`[n, d]`, n ≥ 1; xₖ the
/// rows minus their mean), row-major d×d, in f64.
pub fn covariance<F: Float>(x: &Tensor<F>) -> Vec<f64> {
    let (mean, _) = column_moments(x);
    let d = x.cols();
    let mut s = vec![0.0; d * d];
    let mut row = vec![0.0; d];
    for r in 0..x.rows() {
        centered_row(x, r, &mean, &mut row);
        for i in 0..d {
            for j in 0..d {
                s[i * d + j] += row[i] * row[j];
            }
        }
    }
    s.iter_mut().for_each(|v| *v /= x.rows() as f64);
    s
}

/// Row `r` of `x` minus `mean`, in f64, into `out`.
fn centered_row<F: Float>(x: &Tensor<F>, r: usize, mean: &[f64], out: &mut [f64]) {
    for ((o, v), m) in out.iter_mut().zip(x.row(r)).zip(mean) {
        *o = v.to_f64() - m;
    }
}

/// The covariance of `x` (`[n, d]`, n ≥ 1) shrunk towards a multiple of the
/// identity by Ledoit & Wolf's (2004) estimate of the best amount,
///   Σ̂ = (1 − ρ)·S + ρ·m·I,   m = tr(S)/d,
///   ρ = min(β̄², δ²)/δ²,  δ² = ‖S − m·I‖²/d,  β̄² = (1/n²)·Σₖ ‖xₖxₖᵀ − S‖²/d,
/// with S the sample [`covariance`]. ρ is near 0 when n ≫ d and grows as S
/// gets noisy; Σ̂ is positive definite even with fewer rows than columns,
/// where S is singular (unless every xₖxₖᵀ equals S, as with 2 rows: then
/// ρ = 0). Row-major d×d, in f64.
pub fn shrunk_covariance<F: Float>(x: &Tensor<F>) -> Vec<f64> {
    let (n, d) = (x.rows(), x.cols());
    let mut s = covariance(x);
    let (mean, _) = column_moments(x);
    let mut row = vec![0.0; d];
    let m = (0..d).map(|i| s[i * d + i]).sum::<f64>() / d as f64;
    let delta2 = (0..d * d)
        .map(|k| (s[k] - if k / d == k % d { m } else { 0.0 }).powi(2))
        .sum::<f64>()
        / d as f64;
    let beta2 = (0..n)
        .map(|r| {
            centered_row(x, r, &mean, &mut row);
            (0..d * d)
                .map(|k| (row[k / d] * row[k % d] - s[k]).powi(2))
                .sum::<f64>()
        })
        .sum::<f64>()
        / (n as f64).powi(2)
        / d as f64;
    let rho = if delta2 > 0.0 {
        beta2.min(delta2) / delta2
    } else {
        0.0
    };
    for (k, v) in s.iter_mut().enumerate() {
        *v *= 1.0 - rho;
        if k / d == k % d {
            *v += rho * m;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn 1.9's `sklearn.covariance.ledoit_wolf` on the same five
    /// rows gives this matrix (shrinkage 0.3229): an independent
    /// implementation of the same estimate.
    #[test]
    fn shrunk_covariance_is_ledoit_wolf() {
        let rows = [
            [0.3, 1.2, -0.5],
            [1.1, 0.4, 0.2],
            [-0.7, -0.3, 0.9],
            [0.5, 2.0, -1.1],
            [-1.2, 0.1, 0.4],
        ];
        let x = Tensor::<f64>::from_rows(&rows);
        let sklearn = [
            0.67223793,
            0.2559611,
            -0.21533236,
            0.2559611,
            0.65977845,
            -0.39030683,
            -0.21533236,
            -0.39030683,
            0.53518362,
        ];
        let ours = shrunk_covariance(&x);
        for (a, b) in ours.iter().zip(sklearn) {
            assert!((a - b).abs() < 1e-7, "{ours:?} vs {sklearn:?}");
        }
    }

    /// With fewer rows than columns the sample covariance is singular; the
    /// shrunk one is still positive definite (its LDLᵀ pivots are positive).
    #[test]
    fn shrunk_covariance_of_few_rows_is_positive_definite() {
        let x = Tensor::<f64>::from_rows(&[
            [1.0, 2.0, 0.5, -1.0],
            [0.0, 1.0, 1.5, 2.0],
            [0.5, -1.0, 0.0, 0.3],
        ]);
        assert!(crate::linalg::ldl(&shrunk_covariance(&x), 4).is_some());
    }
}
