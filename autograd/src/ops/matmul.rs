//! Matrix product C = A·B of an `[m, k]` and a `[k, n]` matrix.
//!
//! Backward (the two identities every student should derive once):
//!   ḡA += ḡC · Bᵀ      (`[m, n]·[n, k]`)
//!   ḡB += Aᵀ · ḡC      (`[k, m]·[m, n]`)
//!
//! Performance lives here and only here: all three products go to
//! `matrixmultiply`'s gemm. The transposes are never materialized — a transposed
//! operand is the same memory read with its row and column strides swapped — and
//! the backward products use β = 1 to add into the gradient buffer in place,
//! which saves one temporary matrix and one extra pass per product.

use crate::float::Float;
use crate::tensor::{Shape, Tensor};
use smallvec::smallvec;

/// `[m, k] x [k, n] → [m, n]`, or a panic naming both shapes.
pub fn shape<F: Float>(a: &Tensor<F>, b: &Tensor<F>) -> Shape {
    match (a.shape(), b.shape()) {
        ([m, k], [k2, n]) if k == k2 => smallvec![*m, *n],
        (sa, sb) => panic!("matmul: {sa:?} x {sb:?}"),
    }
}

/// A matrix operand for gemm: data and (row, column) strides.
struct Operand<'a, F> {
    data: &'a [F],
    row_stride: isize,
    col_stride: isize,
}

impl<'a, F: Float> Operand<'a, F> {
    /// A row-major `[rows, cols]` matrix.
    fn plain(data: &'a [F], cols: usize) -> Self {
        Operand {
            data,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major `[rows, cols]` matrix: same data, strides swapped.
    fn transposed(data: &'a [F], cols: usize) -> Self {
        Operand {
            data,
            row_stride: 1,
            col_stride: cols as isize,
        }
    }
}

/// out (`[m, n]`, row-major) ← A·B + β·out.
fn gemm<F: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: Operand<F>,
    b: Operand<F>,
    beta: F,
    out: &mut [F],
) {
    assert!(a.data.len() >= m * k && b.data.len() >= k * n && out.len() >= m * n);
    // SAFETY: the lengths were just checked against the shapes and strides describe
    // in-bounds row-major (or transposed row-major) layouts; `out` is a unique borrow.
    unsafe {
        F::gemm(
            m,
            k,
            n,
            F::ONE,
            a.data.as_ptr(),
            a.row_stride,
            a.col_stride,
            b.data.as_ptr(),
            b.row_stride,
            b.col_stride,
            beta,
            out.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

pub fn forward<F: Float>(a: &Tensor<F>, b: &Tensor<F>, c: &mut [F]) {
    let (m, k) = a.dims2("matmul");
    let n = b.cols();
    gemm(
        m,
        k,
        n,
        Operand::plain(&a.data, k),
        Operand::plain(&b.data, n),
        F::ZERO,
        c,
    );
}

/// Adds operand `k`'s share of ḡC into its gradient buffer `gx`.
pub fn backward<F: Float>(which: usize, g: &[F], a: &Tensor<F>, b: &Tensor<F>, gx: &mut [F]) {
    let (m, k) = a.dims2("matmul");
    let n = b.cols();
    if which == 0 {
        // ḡA[m,k] += ḡC[m,n] · Bᵀ[n,k]
        gemm(
            m,
            n,
            k,
            Operand::plain(g, n),
            Operand::transposed(&b.data, n),
            F::ONE,
            gx,
        );
    } else {
        // ḡB[k,n] += Aᵀ[k,m] · ḡC[m,n]
        gemm(
            k,
            m,
            n,
            Operand::transposed(&a.data, k),
            Operand::plain(g, n),
            F::ONE,
            gx,
        );
    }
}
