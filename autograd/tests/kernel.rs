//! The three matrix products of a matmul (forward C = A·B, backward ḡA = ḡC·Bᵀ
//! and ḡB = Aᵀ·ḡC), as the engine computes them, against a naive triple loop in
//! f64, on random shapes: every edge of the 6-row × 16- or 8-column register
//! tiles of `ops/kernel.rs`, on both sides of its size thresholds.
//!
//! **Tolerance.** An element c = Σ aᵢbᵢ summed in precision ε in any order is off
//! by at most about k·ε·Σ|aᵢ||bᵢ|; on random data the error grows like √k·ε.
//! [`TOL_F64`] = 1e-12 and [`TOL_F32`] = 1e-5, relative to Σ|aᵢ||bᵢ| (+ |c₀| when
//! the product is added into a c₀), leave room for sums of a few hundred terms while a wrong
//! element (a missing, doubled or misplaced term) is off by O(1) relative.

use autograd::ops::matmul::{backward_with, forward};
use autograd::{Float, Tensor};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const TOL_F64: f64 = 1e-12;
const TOL_F32: f64 = 1e-5;

/// An inner or column dimension: mostly 1..=40 (every column edge of the 16-
/// and 8-column tiles), and some multiples and near-multiples of the tile sizes.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 1usize..=40,
        1 => prop::sample::select(vec![6, 12, 15, 16, 17, 18, 31, 32, 33, 37, 48, 64, 129, 130]),
    ]
}

/// A row count: small (below the kernel's thresholds, so `matrixmultiply` and the
/// thin loops are checked too) or a few hundred (every residue modulo the
/// 6-row tile, above the kernel's thresholds in both precisions).
fn rows() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => 1usize..=40,
        2 => 256usize..=300,
        1 => prop::sample::select(vec![64, 65, 100, 513, 600]),
    ]
}

/// Deterministic pseudo-random numbers in (−1, 1) (a xorshift), so a case is
/// reproduced from its seed.
fn numbers(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

/// Compares `got` with C = c₀ + A·B (c₀ = 0 when `c0` is `None`), A[i, l] and
/// B[l, j] given as closures, element by element.
#[allow(clippy::too_many_arguments)]
fn compare<F: Float>(
    what: &str,
    (m, k, n): (usize, usize, usize),
    a: impl Fn(usize, usize) -> f64,
    b: impl Fn(usize, usize) -> f64,
    c0: Option<&[f64]>,
    got: &[F],
    tol: f64,
) -> Result<(), TestCaseError> {
    for i in 0..m {
        for j in 0..n {
            let (mut sum, mut scale) = (0.0, 0.0);
            for l in 0..k {
                sum += a(i, l) * b(l, j);
                scale += (a(i, l) * b(l, j)).abs();
            }
            if let Some(c0) = c0 {
                sum += c0[i * n + j];
                scale += c0[i * n + j].abs();
            }
            let g = got[i * n + j].to_f64();
            let err = (g - sum).abs();
            // NaN (a β = 0 product that read C) fails too.
            if err.is_nan() || err > tol * scale.max(1e-30) {
                return Err(TestCaseError::fail(format!(
                    "{what} {} [{m}×{k}]·[{k}×{n}]: C[{i},{j}] = {g}, expected {sum} (error {err:e}, scale {scale:e})",
                    F::NAME
                )));
            }
        }
    }
    Ok(())
}

/// Checks the three products of a `[m, k]·[k, n]` matmul in precision `F`,
/// written (`overwrite`: into a buffer of NaN, which β = 0 must never read) or
/// added into a random buffer.
fn check_products<F: Float>(
    m: usize,
    k: usize,
    n: usize,
    overwrite: bool,
    seed: u64,
    tol: f64,
) -> Result<(), TestCaseError> {
    let round = |x: Vec<f64>| -> Vec<f64> { x.iter().map(|&v| F::from_f64(v).to_f64()).collect() };
    let (av, bv, gv) = (
        round(numbers(m * k, seed)),
        round(numbers(k * n, seed ^ 0x9e37)),
        round(numbers(m * n, seed ^ 0x7f4a)),
    );
    let a = Tensor::<F>::from_f64(&av, &[m, k]);
    let b = Tensor::<F>::from_f64(&bv, &[k, n]);
    let g: Vec<F> = gv.iter().map(|&v| F::from_f64(v)).collect();
    // The buffer a product starts from: NaN to be overwritten, or random to add to.
    let start = |len: usize, salt: u64| -> (Vec<F>, Option<Vec<f64>>) {
        if overwrite {
            (vec![F::from_f64(f64::NAN); len], None)
        } else {
            let c0 = round(numbers(len, seed ^ salt));
            (c0.iter().map(|&v| F::from_f64(v)).collect(), Some(c0))
        }
    };

    // Forward: C = A·B (always written).
    let mut c = vec![F::from_f64(f64::NAN); m * n];
    forward(&a, &b, &mut c);
    compare(
        "A·B",
        (m, k, n),
        |i, l| av[i * k + l],
        |l, j| bv[l * n + j],
        None,
        &c,
        tol,
    )?;

    // ḡA = ḡC·Bᵀ: [m, n]·[n, k].
    let (mut ga, ga0) = start(m * k, 0x1234);
    backward_with(0, &g, &a, &b, &mut ga, overwrite);
    compare(
        "ḡC·Bᵀ",
        (m, n, k),
        |i, l| gv[i * n + l],
        |l, j| bv[j * n + l],
        ga0.as_deref(),
        &ga,
        tol,
    )?;

    // ḡB = Aᵀ·ḡC: [k, m]·[m, n].
    let (mut gb, gb0) = start(k * n, 0x5678);
    backward_with(1, &g, &a, &b, &mut gb, overwrite);
    compare(
        "Aᵀ·ḡC",
        (k, m, n),
        |i, l| av[l * k + i],
        |l, j| gv[l * n + j],
        gb0.as_deref(),
        &gb,
        tol,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn products_match_a_naive_loop_in_f64(
        m in rows(), k in dim(), n in dim(), overwrite: bool, seed: u64,
    ) {
        // Keep each case small enough for the naive loop (three products).
        prop_assume!(m * k * n <= 4_000_000);
        check_products::<f64>(m, k, n, overwrite, seed, TOL_F64)?;
    }

    #[test]
    fn products_match_a_naive_loop_in_f32(
        m in rows(), k in dim(), n in dim(), overwrite: bool, seed: u64,
    ) {
        prop_assume!(m * k * n <= 4_000_000);
        check_products::<f32>(m, k, n, overwrite, seed, TOL_F32)?;
    }
}

/// The shapes of a training step with hidden width 128 (and an odd one, and a
/// long sum of a width-512 layer), in both precisions and both β.
#[test]
fn training_shapes_match_a_naive_loop() {
    for (m, k, n) in [
        (300, 128, 128),
        (130, 37, 129),
        (262, 512, 40),
        (300, 2, 128),
        (300, 128, 2),
    ] {
        for overwrite in [true, false] {
            check_products::<f64>(m, k, n, overwrite, 7, TOL_F64).unwrap();
            check_products::<f32>(m, k, n, overwrite, 7, TOL_F32).unwrap();
        }
    }
}

/// A row of C comes out to the same bits whichever rows are around it — what
/// lets threads split the rows without changing the result. Dropping A's first
/// row (or, for ḡB = Aᵀ·ḡC, A's first column) shifts every other row of C by
/// one, so it moves each row to a different place in the 6-row tiles.
#[test]
fn a_row_does_not_depend_on_its_neighbours() {
    let (m, k, n) = (301, 45, 37);
    let av = numbers(m * k, 1);
    let bv = numbers(k * n, 2);
    let gv = numbers(m * n, 3);
    let (a, b) = (
        Tensor::<f32>::from_f64(&av, &[m, k]),
        Tensor::<f32>::from_f64(&bv, &[k, n]),
    );
    let g: Vec<f32> = gv.iter().map(|&v| v as f32).collect();

    // A without its first row, and A without its first column.
    let a_rows = Tensor::<f32>::from_f64(&av[k..], &[m - 1, k]);
    let cols: Vec<f64> = av.chunks(k).flat_map(|row| row[1..].to_vec()).collect();
    let a_cols = Tensor::<f32>::from_f64(&cols, &[m, k - 1]);
    let b_cols = Tensor::<f32>::from_f64(&bv[n..], &[k - 1, n]);

    let (mut c, mut c_rows) = (vec![0.0f32; m * n], vec![0.0f32; (m - 1) * n]);
    forward(&a, &b, &mut c);
    forward(&a_rows, &b, &mut c_rows);
    assert_eq!(c[n..], c_rows[..], "A·B");

    let (mut ga, mut ga_rows) = (vec![0.0f32; m * k], vec![0.0f32; (m - 1) * k]);
    backward_with(0, &g, &a, &b, &mut ga, true);
    backward_with(0, &g[n..], &a_rows, &b, &mut ga_rows, true);
    assert_eq!(ga[k..], ga_rows[..], "ḡC·Bᵀ");

    let (mut gb, mut gb_rows) = (vec![0.0f32; k * n], vec![0.0f32; (k - 1) * n]);
    backward_with(1, &g, &a, &b, &mut gb, true);
    backward_with(1, &g, &a_cols, &b_cols, &mut gb_rows, true);
    assert_eq!(gb[n..], gb_rows[..], "Aᵀ·ḡC");
}
