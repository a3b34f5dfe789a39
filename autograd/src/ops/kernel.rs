//! The hand-written matrix-product kernel: C ← A·B + β·C when the rows of A
//! are contiguous in memory, which is the case for two of the three products of
//! every dense layer: the forward `Y = X·W` and the backward `ḡX = ḡY·Wᵀ`. It is
//! faster than a general gemm because it skips a copy a general gemm must make.
//!
//! ## Register blocking
//!
//! A multiply-add needs two numbers from memory and one to add into. Done one
//! element of C at a time, the loads cost more than the arithmetic. So the kernel
//! computes a *tile* of C — [`MR`] = 6 rows by NR columns (NR = 16 `f32` or 8
//! `f64`: two 256-bit AVX2 registers) — whose 12 partial sums stay in registers
//! for the whole sum over k. Each step l of that sum loads one row of B's tile
//! (B[l, j..j+NR], two registers), broadcasts each of the six A[i, l] in turn,
//! and does 12 fused multiply-adds (FMAs) of 8 (or 4) lanes each: 8 loads feed
//! 96 (or 48) multiply-adds. Only when the sum is complete does the tile touch
//! C, once: written (β = 0, so C is never read and may hold garbage) or added
//! into.
//!
//! ## Why A is not packed
//!
//! A general gemm (`matrixmultiply`, BLAS) first copies ("packs") both operands
//! into buffers laid out in exactly the order its tile reads them. That makes any
//! layout fast, but each copy is one more pass over the operand. The tile needs
//! only two things: the six A[i, l] it broadcasts, and a contiguous row of NR
//! numbers of B. When A's rows are contiguous, A[i, l] is simply the l-th number
//! of row i: A — the big `[rows, k]` activation or gradient, thousands of rows —
//! is read in place. B is the small weight matrix (or its transpose, whose rows
//! are *not* contiguous), and B is packed: into column panels of width NR,
//! zero-padded at the right edge. That is k·n numbers, a small cost beside the
//! m·k·n multiply-adds, paid once per product and shared by all threads.
//!
//! The third product of a layer, `ḡW = Xᵀ·ḡY`, reads A = Xᵀ by columns: the six
//! A[i, l] of a tile are six neighbours in row l of X, so they could be read in
//! place too — but each step l then lands on a new cache line of X and of ḡY,
//! 512 bytes apart, and those columns do not stay in the L1 cache. There, and
//! for any layout this file does not handle, `matmul.rs` calls `matrixmultiply`,
//! whose packing pays off exactly in that case.
//!
//! ## Loop order, and what it saves
//!
//! For each band of 6 rows of A (6·k numbers, which stay in the L1 cache), the
//! tiles sweep the panels of packed B left to right. Each row of A is therefore
//! read from memory once for the whole product, and the packed B (k·n numbers)
//! stays in the L2 cache, where every band re-reads it. The big operand streams
//! through once with no copy; the small one is copied once.
//!
//! ## The same bits at any thread count
//!
//! `threads.rs` gives each thread a block of rows of C, so a row may fall in a
//! full tile or in a last, shorter one ([`MR`] is a maximum: tiles of 1–6 rows are
//! separate compiled copies of one function, and the last columns of C are
//! computed in a full-width tile over B's zero padding). Every element of C is
//! computed by the same chain of FMAs, l = 0, 1, …, k − 1, whichever tile it lands
//! in; and `matmul.rs` chooses between this kernel and `matrixmultiply` once per
//! product, never per row block.
//!
//! The kernel runs on x86-64 with AVX2 and FMA, detected at run time (once);
//! elsewhere `matmul.rs` uses `matrixmultiply`.

use super::matmul::Operand;
use crate::float::Float;

/// Rows of C in a register tile.
pub const MR: usize = 6;

/// The widest tile any precision uses (f32: 16 numbers).
const MAX_NR: usize = 16;

/// Where one tile's operands are, for a [`TileFn`]: A[r, l] at `a + r·rsa + l·csa`,
/// B[l, j] at `b + l·rsb + j`, C[r, j] at `c + r·rsc + j`, for r < the tile's
/// rows, l < k, j < NR.
pub struct TileArgs<F> {
    pub k: usize,
    pub a: *const F,
    pub rsa: usize,
    pub csa: usize,
    pub b: *const F,
    pub rsb: usize,
    pub c: *mut F,
    pub rsc: usize,
    pub beta: F,
}

/// C[r, j] ← Σ_l A[r, l]·B[l, j] (+ β·C[r, j] unless β = 0) on one tile.
///
/// # Safety
/// Every address [`TileArgs`] names must be valid (C's for writing, and not
/// overlapping A or B), and the CPU must have the tile's instruction set.
pub type TileFn<F> = unsafe fn(&TileArgs<F>);

/// A register-tile kernel for one precision.
pub struct Microkernel<F: 'static> {
    /// Columns of C in a tile.
    pub nr: usize,
    /// `tiles[rows - 1]` computes a tile of `rows` rows (1 ≤ rows ≤ [`MR`]).
    pub tiles: [TileFn<F>; MR],
    /// The fewest rows of A, and the shortest sum k, for which the kernel beats
    /// `matrixmultiply` (measured with `examples/bench.rs`-style timings): with
    /// fewer rows, packing B is not paid back; with a shorter sum, each tile
    /// spends more time storing C and being called than multiplying.
    pub min_rows: usize,
    pub min_k: usize,
}

/// The f32 kernel of this CPU, if it has one.
pub fn f32_microkernel() -> Option<&'static Microkernel<f32>> {
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        return Some(&avx2::F32);
    }
    None
}

/// The f64 kernel of this CPU, if it has one.
pub fn f64_microkernel() -> Option<&'static Microkernel<f64>> {
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        return Some(&avx2::F64);
    }
    None
}

/// How the kernel computes one product, decided once for the whole product
/// (never per block of rows: see the module docs).
pub(crate) struct Plan<F: 'static> {
    micro: &'static Microkernel<F>,
    /// B in zero-padded panels of NR columns: panel p holds B[l, p·NR + j] at
    /// `p·k·NR + l·NR + j`.
    packed: Vec<F>,
}

impl<F: Float> Plan<F> {
    /// The kernel's plan for `[m, k]·[k, n]`, or `None` where `matrixmultiply`
    /// should do it (no kernel on this CPU, rows of A not contiguous, or a shape
    /// too small for the kernel to pay off).
    pub(crate) fn new(
        m: usize,
        k: usize,
        n: usize,
        a: &Operand<F>,
        b: &Operand<F>,
    ) -> Option<Self> {
        let micro = F::microkernel()?;
        let worth_it = m >= micro.min_rows && k >= micro.min_k;
        (a.col_stride == 1 && worth_it).then(|| Plan {
            micro,
            packed: pack_panels(k, n, b, micro.nr),
        })
    }

    /// `out` (`[m, n]`, row-major) ← A·B + β·out, for A of m rows (and the B
    /// this plan packed).
    pub(crate) fn product(
        &self,
        m: usize,
        k: usize,
        n: usize,
        a: &Operand<F>,
        beta: F,
        out: &mut [F],
    ) {
        let out = &mut out[..m * n];
        let nr = self.micro.nr;
        for i0 in (0..m).step_by(MR) {
            let rows = MR.min(m - i0);
            let tile = self.micro.tiles[rows - 1];
            for (panel, j0) in (0..n).step_by(nr).enumerate() {
                let cols = nr.min(n - j0);
                let mut args = TileArgs {
                    k,
                    a: a.data[i0 * a.row_stride..].as_ptr(),
                    rsa: a.row_stride,
                    csa: 1,
                    b: self.packed[panel * k * nr..].as_ptr(),
                    rsb: nr,
                    c: out[i0 * n + j0..].as_mut_ptr(),
                    rsc: n,
                    beta,
                };
                if cols == nr {
                    // SAFETY: A's `rows` rows of k numbers lie in `a` (`matmul::gemm`
                    // checked that it spans [m, k]); the panel holds k·NR numbers; C's
                    // `rows` × NR numbers lie in `out`, which we borrow mutably; and
                    // `Plan::new` chose a tile only on a CPU that runs it.
                    unsafe { tile(&args) };
                    continue;
                }
                // The right edge, fewer than NR columns of C: the tile is computed
                // whole into a buffer (its extra columns from B's zero padding) and
                // its valid part copied, so these elements get the same arithmetic.
                let mut buffer = [F::ZERO; MR * MAX_NR];
                let at = |r: usize, j: usize| (i0 + r) * n + j0 + j;
                if beta != F::ZERO {
                    for r in 0..rows {
                        for j in 0..cols {
                            buffer[r * nr + j] = out[at(r, j)];
                        }
                    }
                }
                (args.c, args.rsc) = (buffer.as_mut_ptr(), nr);
                // SAFETY: as above, with C now `buffer`, which holds MR × NR numbers.
                unsafe { tile(&args) };
                for r in 0..rows {
                    for j in 0..cols {
                        out[at(r, j)] = buffer[r * nr + j];
                    }
                }
            }
        }
    }
}

/// B (`[k, n]`) as zero-padded panels of `nr` columns (see [`Plan`]). The loops
/// walk B along its contiguous direction: rows for a plain B, columns for a
/// transposed one.
fn pack_panels<F: Float>(k: usize, n: usize, b: &Operand<F>, nr: usize) -> Vec<F> {
    let mut packed = vec![F::ZERO; n.div_ceil(nr) * k * nr];
    for (panel, j0) in (0..n).step_by(nr).enumerate() {
        let cols = nr.min(n - j0);
        let panel = &mut packed[panel * k * nr..][..k * nr];
        if b.col_stride == 1 {
            for (l, row) in panel.chunks_exact_mut(nr).enumerate() {
                let from = l * b.row_stride + j0;
                row[..cols].copy_from_slice(&b.data[from..from + cols]);
            }
        } else {
            for (l, row) in panel.chunks_exact_mut(nr).enumerate() {
                let from = &b.data[l * b.row_stride + j0 * b.col_stride..];
                for (j, x) in row[..cols].iter_mut().enumerate() {
                    *x = from[j * b.col_stride];
                }
            }
        }
    }
    packed
}

/// The AVX2 + FMA tiles: 6 rows × two 256-bit registers of columns.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Microkernel, TileArgs};
    use std::arch::x86_64::*;
    use std::sync::OnceLock;

    /// Whether this CPU has AVX2 and FMA (asked once).
    pub fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE
            .get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
    }

    pub static F32: Microkernel<f32> = Microkernel {
        nr: 16,
        tiles: [
            tile_f32::<1>,
            tile_f32::<2>,
            tile_f32::<3>,
            tile_f32::<4>,
            tile_f32::<5>,
            tile_f32::<6>,
        ],
        min_rows: 64,
        min_k: 16,
    };

    pub static F64: Microkernel<f64> = Microkernel {
        nr: 8,
        tiles: [
            tile_f64::<1>,
            tile_f64::<2>,
            tile_f64::<3>,
            tile_f64::<4>,
            tile_f64::<5>,
            tile_f64::<6>,
        ],
        min_rows: 256,
        min_k: 32,
    };

    /// A tile of `ROWS` rows × 16 f32 columns: `ROWS` × 2 accumulator registers.
    ///
    /// # Safety
    /// As [`super::TileFn`]; the CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_f32<const ROWS: usize>(t: &TileArgs<f32>) {
        let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
        // SAFETY: the caller guarantees every address below is valid.
        unsafe {
            for l in 0..t.k {
                let b = t.b.add(l * t.rsb);
                let (b0, b1) = (_mm256_loadu_ps(b), _mm256_loadu_ps(b.add(8)));
                let a = t.a.add(l * t.csa);
                for (r, acc) in acc.iter_mut().enumerate() {
                    let ar = _mm256_broadcast_ss(&*a.add(r * t.rsa));
                    acc[0] = _mm256_fmadd_ps(ar, b0, acc[0]);
                    acc[1] = _mm256_fmadd_ps(ar, b1, acc[1]);
                }
            }
            let beta = _mm256_set1_ps(t.beta);
            for (r, acc) in acc.iter().enumerate() {
                for (half, &sum) in acc.iter().enumerate() {
                    let c = t.c.add(r * t.rsc + 8 * half);
                    let out = if t.beta == 0.0 {
                        sum
                    } else {
                        _mm256_fmadd_ps(beta, _mm256_loadu_ps(c), sum)
                    };
                    _mm256_storeu_ps(c, out);
                }
            }
        }
    }

    /// A tile of `ROWS` rows × 8 f64 columns: `ROWS` × 2 accumulator registers.
    ///
    /// # Safety
    /// As [`super::TileFn`]; the CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_f64<const ROWS: usize>(t: &TileArgs<f64>) {
        let mut acc = [[_mm256_setzero_pd(); 2]; ROWS];
        // SAFETY: the caller guarantees every address below is valid.
        unsafe {
            for l in 0..t.k {
                let b = t.b.add(l * t.rsb);
                let (b0, b1) = (_mm256_loadu_pd(b), _mm256_loadu_pd(b.add(4)));
                let a = t.a.add(l * t.csa);
                for (r, acc) in acc.iter_mut().enumerate() {
                    let ar = _mm256_broadcast_sd(&*a.add(r * t.rsa));
                    acc[0] = _mm256_fmadd_pd(ar, b0, acc[0]);
                    acc[1] = _mm256_fmadd_pd(ar, b1, acc[1]);
                }
            }
            let beta = _mm256_set1_pd(t.beta);
            for (r, acc) in acc.iter().enumerate() {
                for (half, &sum) in acc.iter().enumerate() {
                    let c = t.c.add(r * t.rsc + 4 * half);
                    let out = if t.beta == 0.0 {
                        sum
                    } else {
                        _mm256_fmadd_pd(beta, _mm256_loadu_pd(c), sum)
                    };
                    _mm256_storeu_pd(c, out);
                }
            }
        }
    }
}
