//! Small dense linear algebra in f64 for the invertible linear layer:
//! products, transposes and triangular inverses. Matrices are
//! row-major `Vec<f64>` of size d×d; d is the data dimension, so these are tiny.

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
}
