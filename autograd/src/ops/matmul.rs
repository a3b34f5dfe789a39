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
//!
//! The one exception: a product with a dimension of at most [`THIN`] (the 1-wide
//! input and output layers of a coupling network on 2-D data) goes to a direct
//! loop. gemm pads such a matrix to a full register panel and packs the other
//! operand anyway, so it spends more time packing than multiplying; the direct
//! loop was 3–10× faster on these shapes.

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

/// Products with a dimension this small skip gemm (see the module docs).
pub const THIN: usize = 4;

impl<F: Float> Operand<'_, F> {
    fn at(&self, i: usize, j: usize) -> F {
        self.data[i * self.row_stride as usize + j * self.col_stride as usize]
    }
}

/// out ← A·B + β·out by plain loops, for thin shapes.
fn thin_product<F: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &Operand<F>,
    b: &Operand<F>,
    beta: F,
    out: &mut [F],
) {
    if n == 1 {
        // One output column: a dot product per row.
        for (i, o) in out.iter_mut().enumerate().take(m) {
            let dot: F = (0..k).map(|l| a.at(i, l) * b.at(l, 0)).sum();
            *o = if beta == F::ZERO {
                dot
            } else {
                beta * *o + dot
            };
        }
        return;
    }
    if beta == F::ZERO {
        out[..m * n].fill(F::ZERO);
    } else if beta != F::ONE {
        out[..m * n].iter_mut().for_each(|o| *o *= beta);
    }
    for i in 0..m {
        let row = &mut out[i * n..(i + 1) * n];
        for l in 0..k {
            let ail = a.at(i, l);
            for (j, o) in row.iter_mut().enumerate() {
                *o += ail * b.at(l, j);
            }
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
    if m.min(k).min(n) <= THIN {
        return thin_product(m, k, n, &a, &b, beta, out);
    }
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
