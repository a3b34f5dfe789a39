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
