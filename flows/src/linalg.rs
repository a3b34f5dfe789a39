//! Small dense linear algebra in f64 for the invertible linear layer: a random
//! rotation, an LU decomposition, and triangular inverses. Matrices are
//! row-major `Vec<f64>` of size d×d; d is the data dimension, so these are tiny.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// A random rotation (orthogonal matrix, det ±1) from the Gram–Schmidt
/// orthonormalization of a Gaussian matrix, with column signs fixed so the result
/// is uniformly distributed (Haar).
pub fn random_orthogonal<R: Rng + ?Sized>(d: usize, rng: &mut R) -> Vec<f64> {
    loop {
        let a: Vec<f64> = (0..d * d).map(|_| StandardNormal.sample(rng)).collect();
        if let Some(q) = gram_schmidt(&a, d) {
            return q;
        }
        // A numerically dependent draw has probability ~0; draw again.
    }
}

/// Orthonormalizes the columns of `a`; None if they are (nearly) dependent.
fn gram_schmidt(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut q = a.to_vec();
    for j in 0..d {
        for k in 0..j {
            let dot: f64 = (0..d).map(|i| q[i * d + j] * q[i * d + k]).sum();
            for i in 0..d {
                q[i * d + j] -= dot * q[i * d + k];
            }
        }
        let norm = (0..d).map(|i| q[i * d + j].powi(2)).sum::<f64>().sqrt();
        if norm < 1e-8 {
            return None;
        }
        for i in 0..d {
            q[i * d + j] /= norm;
        }
    }
    Some(q)
}

/// LU decomposition with partial pivoting: a = P·L·U where P is the permutation
/// matrix returned as `p` (row-major 0/1), L unit lower triangular, U upper.
pub fn lu(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut u = a.to_vec();
    let mut l = identity(d);
    let mut rows: Vec<usize> = (0..d).collect(); // row i of P⁻¹a is row rows[i] of a
    for c in 0..d {
        let pivot = (c..d)
            .max_by(|&i, &j| u[i * d + c].abs().total_cmp(&u[j * d + c].abs()))
            .expect("non-empty");
        if pivot != c {
            for k in 0..d {
                u.swap(pivot * d + k, c * d + k);
            }
            for k in 0..c {
                l.swap(pivot * d + k, c * d + k);
            }
            rows.swap(pivot, c);
        }
        for r in c + 1..d {
            let f = u[r * d + c] / u[c * d + c];
            l[r * d + c] = f;
            for k in c..d {
                u[r * d + k] -= f * u[c * d + k];
            }
        }
    }
    // P⁻¹·a = L·U with (P⁻¹a)[i] = a[rows[i]], so P[rows[i], i] = 1.
    let mut p = vec![0.0; d * d];
    for (i, &r) in rows.iter().enumerate() {
        p[r * d + i] = 1.0;
    }
    (p, l, u)
}

pub fn identity(d: usize) -> Vec<f64> {
    let mut m = vec![0.0; d * d];
    for i in 0..d {
        m[i * d + i] = 1.0;
    }
    m
}

pub fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            let aik = a[i * d + k];
            for j in 0..d {
                c[i * d + j] += aik * b[k * d + j];
            }
        }
    }
    c
}

pub fn transpose(a: &[f64], d: usize) -> Vec<f64> {
    let mut t = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            t[j * d + i] = a[i * d + j];
        }
    }
    t
}

/// U⁻¹ for an upper-triangular U, by back substitution against each unit vector
/// (a triangular solve per column).
pub fn invert_upper(u: &[f64], d: usize) -> Vec<f64> {
    let mut inv = vec![0.0; d * d];
    for col in 0..d {
        for i in (0..d).rev() {
            let rhs = if i == col { 1.0 } else { 0.0 };
            let known: f64 = (i + 1..d).map(|k| u[i * d + k] * inv[k * d + col]).sum();
            inv[i * d + col] = (rhs - known) / u[i * d + i];
        }
    }
    inv
}

/// L⁻¹ for a lower-triangular L, by forward substitution per column.
pub fn invert_lower(l: &[f64], d: usize) -> Vec<f64> {
    let mut inv = vec![0.0; d * d];
    for col in 0..d {
        for i in 0..d {
            let rhs = if i == col { 1.0 } else { 0.0 };
            let known: f64 = (0..i).map(|k| l[i * d + k] * inv[k * d + col]).sum();
            inv[i * d + col] = (rhs - known) / l[i * d + i];
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn max_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn lu_reconstructs_and_rotation_is_orthogonal() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for d in 1..7 {
            let q = random_orthogonal(d, &mut rng);
            // QᵀQ = I to rounding error.
            assert!(max_diff(&matmul(&transpose(&q, d), &q, d), &identity(d)) < 1e-12);
            let (p, l, u) = lu(&q, d);
            assert!(max_diff(&matmul(&p, &matmul(&l, &u, d), d), &q) < 1e-12);
            assert!(max_diff(&matmul(&invert_upper(&u, d), &u, d), &identity(d)) < 1e-10);
            assert!(max_diff(&matmul(&invert_lower(&l, d), &l, d), &identity(d)) < 1e-10);
        }
    }
}
