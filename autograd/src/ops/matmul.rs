//! Matrix product C = A·B of an `[m, k]` and a `[k, n]` matrix.
//!
//! Backward (the two identities every student should derive once):
//!   ḡA += ḡC · Bᵀ      (`[m, n]·[n, k]`)
//!   ḡB += Aᵀ · ḡC      (`[k, m]·[m, n]`)
//!
//! The matrix products' performance lives here and in `ops/kernel.rs`. A product
//! whose A has contiguous rows — the forward `X·W` and the backward `ḡY·Wᵀ` of a
//! layer — goes to the hand-written register-tile kernel of `kernel.rs`, which
//! reads the big A in place instead of copying it first (its module docs tell
//! how); the rest (`Xᵀ·ḡY`, small shapes, CPUs without AVX2) go to
//! `matrixmultiply`'s gemm. (The engine's other speed tricks each sit beside the
//! code they speed up: the f32 tanh in `float.rs`, the bias-row path in
//! `ops/binary.rs`, buffer reuse in `tape.rs`.) The transposes are never materialized — a transposed
//! operand is the same memory read with its row and column strides swapped — and
//! the backward products use β = 1 to add into the gradient buffer in place,
//! which saves one temporary matrix and one extra pass per product.
//!
//! The one exception: a product with a dimension of [`THIN`] = 1 (the 1-wide
//! input and output layers of a coupling network on 2-D data) goes to a direct
//! loop. gemm pads such a matrix to a full register panel and packs the other
//! operand anyway, so it spends more time packing than multiplying; the direct
//! loop skips both (`cargo run --release -p autograd --example bench` measures it). (At widths 2–4 gemm is still the
//! faster of the two, so the cut-off is 1.)

use super::kernel::Plan;
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
pub(crate) struct Operand<'a, F> {
    pub(crate) data: &'a [F],
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl<'a, F: Float> Operand<'a, F> {
    /// A row-major `[rows, cols]` matrix.
    fn plain(data: &'a [F], cols: usize) -> Self {
        Operand {
            data,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major `[rows, cols]` matrix: same data, strides swapped.
    fn transposed(data: &'a [F], cols: usize) -> Self {
        Operand {
            data,
            row_stride: 1,
            col_stride: cols,
        }
    }
}

/// Products with a dimension this small skip gemm (see the module docs).
pub const THIN: usize = 1;

impl<F: Float> Operand<'_, F> {
    fn at(&self, i: usize, j: usize) -> F {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// Whether the data holds every element of a `[rows, cols]` matrix.
    fn spans(&self, rows: usize, cols: usize) -> bool {
        let (rs, cs) = (self.row_stride, self.col_stride);
        rows == 0 || cols == 0 || (rows - 1) * rs + (cols - 1) * cs < self.data.len()
    }

    /// The same matrix without its first `first` rows.
    fn without_rows(&self, first: usize) -> Self {
        Operand {
            data: &self.data[(first * self.row_stride).min(self.data.len())..],
            ..*self
        }
    }
}

/// out ← A·B + β·out by plain loops, for thin shapes. The loops are ordered so
/// the innermost one walks contiguous memory (which the compiler vectorizes):
/// a dot product of two contiguous runs, or an "axpy" o += a·b over a row.
fn thin_product<F: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &Operand<F>,
    b: &Operand<F>,
    beta: F,
    out: &mut [F],
) {
    let out = &mut out[..m * n];
    let (rsa, csa, rsb, csb) = (a.row_stride, a.col_stride, b.row_stride, b.col_stride);
    if n == 1 && csa == 1 && rsb == 1 {
        // One output column, rows of A contiguous: a dot product per row,
        // written (β = 0) or added in the same pass.
        let column = &b.data[..k];
        for (i, o) in out.iter_mut().enumerate() {
            let d = dot(&a.data[i * rsa..i * rsa + k], column);
            *o = if beta == F::ZERO { d } else { beta * *o + d };
        }
        return;
    }
    if k == 1 && csb == 1 && beta == F::ZERO {
        // An outer product written straight into out: out[i, :] = A[i, 0]·B[0, :]
        // (one pass instead of zeroing out and then adding).
        let row_of_b = &b.data[..n];
        for (i, row) in out.chunks_exact_mut(n).enumerate() {
            let ai = a.at(i, 0);
            for (o, &x) in row.iter_mut().zip(row_of_b) {
                *o = ai * x;
            }
        }
        return;
    }
    if beta == F::ZERO {
        out.fill(F::ZERO);
    } else if beta != F::ONE {
        out.iter_mut().for_each(|o| *o *= beta);
    }
    if n == 1 && rsa == 1 {
        // One output column, A transposed: columns of Aᵀ are contiguous, so
        // add column l of Aᵀ times B[l] into the output, l by l.
        for l in 0..k {
            let bl = b.data[l * rsb];
            for (o, &x) in out.iter_mut().zip(&a.data[l * csa..l * csa + m]) {
                *o += x * bl;
            }
        }
    } else if csb == 1 {
        // Rows of B contiguous: out[i, :] += A[i, l]·B[l, :].
        for i in 0..m {
            let row = &mut out[i * n..(i + 1) * n];
            for l in 0..k {
                let ail = a.at(i, l);
                for (o, &x) in row.iter_mut().zip(&b.data[l * rsb..l * rsb + n]) {
                    *o += ail * x;
                }
            }
        }
    } else {
        for i in 0..m {
            for j in 0..n {
                let sum: F = (0..k).map(|l| a.at(i, l) * b.at(l, j)).sum();
                out[i * n + j] += sum;
            }
        }
    }
}

/// Σ xᵢyᵢ with eight running sums, so the loop vectorizes (a single running sum
/// would force the additions into one sequential chain).
fn dot<F: Float>(x: &[F], y: &[F]) -> F {
    let mut lanes = [F::ZERO; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let tail: F = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| *a * *b)
        .sum();
    for (xs, ys) in xc.zip(yc) {
        for j in 0..8 {
            lanes[j] += xs[j] * ys[j];
        }
    }
    lanes.iter().copied().sum::<F>() + tail
}

/// out (`[m, n]`, row-major) ← A·B + β·out, in blocks of rows of out (and
/// so of A) on as many threads as the work is worth (`threads.rs`).
fn gemm<F: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: Operand<F>,
    b: Operand<F>,
    beta: F,
    out: &mut [F],
) {
    assert!(a.spans(m, k) && b.spans(k, n) && out.len() >= m * n);
    // Decided once for the whole product, so every row block computes its rows
    // the same way (the same bits at any thread count).
    let plan = match m.min(k).min(n) {
        0..=THIN => None,
        _ => Plan::new(m, k, n, &a, &b),
    };
    crate::threads::for_row_blocks(&mut out[..m * n], n, k * n, |first, block| {
        let rows = block.len() / n;
        let a = a.without_rows(first);
        match &plan {
            Some(plan) => plan.product(rows, k, n, &a, beta, block),
            None => product(rows, k, n, &a, &b, beta, block),
        }
    });
}

/// One block of [`gemm`]: `rows` rows of the output.
fn product<F: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &Operand<F>,
    b: &Operand<F>,
    beta: F,
    out: &mut [F],
) {
    if m == 0 {
        return;
    }
    if m.min(k).min(n) <= THIN {
        return thin_product(m, k, n, a, b, beta, out);
    }
    // SAFETY: `spans` checked that the strides describe in-bounds layouts of
    // these shapes; `out` is a unique borrow of m·n numbers.
    unsafe {
        F::gemm(
            m,
            k,
            n,
            F::ONE,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
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
    backward_with(which, g, a, b, gx, false)
}

/// [`backward`], or with `overwrite` the share written into `gx` instead of
/// added (β = 0: gemm then never reads `gx`, so it need not be zeroed first).
pub fn backward_with<F: Float>(
    which: usize,
    g: &[F],
    a: &Tensor<F>,
    b: &Tensor<F>,
    gx: &mut [F],
    overwrite: bool,
) {
    let (m, k) = a.dims2("matmul");
    let n = b.cols();
    let beta = if overwrite { F::ZERO } else { F::ONE };
    if which == 0 {
        // ḡA[m,k] += ḡC[m,n] · Bᵀ[n,k]
        gemm(
            m,
            n,
            k,
            Operand::plain(g, n),
            Operand::transposed(&b.data, n),
            beta,
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
            beta,
            gx,
        );
    }
}
