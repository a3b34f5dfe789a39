//! Small dense linear algebra in f64 for the invertible linear layer:
//! products, transposes, triangular inverses and the LDLᵀ factorization.
//! Matrices are row-major `Vec<f64>` of size d×d; d is the data dimension,
//! so these are tiny.

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

/// A = L·D·Lᵀ for a symmetric positive-definite A: L unit lower-triangular,
/// D the diagonal (returned as a vector). Column by column,
///   D_j  = A_jj − Σ_{k<j} L_jk²·D_k,
///   L_ij = (A_ij − Σ_{k<j} L_ik·L_jk·D_k) / D_j   (i > j).
/// `None` if a pivot D_j is not positive (A is not positive definite, or is
/// so near singular that rounding made it look so).
pub fn ldl(a: &[f64], d: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let mut l = identity(d);
    let mut diag = vec![0.0; d];
    for j in 0..d {
        let pivot = a[j * d + j] - (0..j).map(|k| l[j * d + k].powi(2) * diag[k]).sum::<f64>();
        if !(pivot > 0.0 && pivot.is_finite()) {
            return None;
        }
        diag[j] = pivot;
        for i in j + 1..d {
            let known: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k] * diag[k]).sum();
            l[i * d + j] = (a[i * d + j] - known) / pivot;
        }
    }
    Some((l, diag))
}

/// A⁻¹ for a symmetric positive-definite A, from A = L·D·Lᵀ:
/// A⁻¹ = L⁻ᵀ·D⁻¹·L⁻¹. `None` where [`ldl`] fails.
pub fn invert_spd(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let (l, diag) = ldl(a, d)?;
    let l_inv = invert_lower(&l, d);
    let mut scaled = l_inv.clone();
    for i in 0..d {
        for j in 0..d {
            scaled[i * d + j] /= diag[i];
        }
    }
    Some(matmul(&transpose(&l_inv, d), &scaled, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn max_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// A random triangular matrix (lower if `lower`) with a diagonal of
    /// magnitudes in [0.5, 2] and random signs, and entries in [−1, 1] off it.
    fn triangular(d: usize, lower: bool, rng: &mut impl Rng) -> Vec<f64> {
        let mut m = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                m[i * d + j] = if i == j {
                    rng.random_range(0.5..2.0) * if rng.random() { 1.0 } else { -1.0 }
                } else if (i > j) == lower {
                    rng.random_range(-1.0..1.0)
                } else {
                    0.0
                };
            }
        }
        m
    }

    #[test]
    fn triangular_inverses_invert() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for d in 1..7 {
            let u = triangular(d, false, &mut rng);
            let l = triangular(d, true, &mut rng);
            assert!(max_diff(&matmul(&invert_upper(&u, d), &u, d), &identity(d)) < 1e-10);
            assert!(max_diff(&matmul(&u, &invert_upper(&u, d), d), &identity(d)) < 1e-10);
            assert!(max_diff(&matmul(&invert_lower(&l, d), &l, d), &identity(d)) < 1e-10);
        }
    }

    #[test]
    fn ldl_factors_and_inverts_positive_definite_matrices() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for d in 1..7 {
            // A = B·Bᵀ + I/2 is symmetric positive definite.
            let b = triangular(d, true, &mut rng);
            let mut a = matmul(&b, &transpose(&b, d), d);
            for i in 0..d {
                a[i * d + i] += 0.5;
            }
            let (l, diag) = ldl(&a, d).expect("positive definite");
            let mut ld = l.clone();
            for i in 0..d {
                for j in 0..d {
                    ld[i * d + j] *= diag[j];
                }
            }
            assert!(max_diff(&matmul(&ld, &transpose(&l, d), d), &a) < 1e-10);
            assert!((0..d).all(|i| l[i * d + i] == 1.0 && (i + 1..d).all(|j| l[i * d + j] == 0.0)));
            let inverse = invert_spd(&a, d).expect("positive definite");
            assert!(max_diff(&matmul(&a, &inverse, d), &identity(d)) < 1e-9);
        }
        // Not positive definite: a negative eigenvalue, and a singular matrix.
        assert!(ldl(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
        assert!(ldl(&[1.0, 1.0, 1.0, 1.0], 2).is_none());
    }
}
