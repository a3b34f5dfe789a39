//! The dense layer as one fused op: y = act(x·W + b), for x `[n, k]`, W `[k, m]`,
//! b `[m]` (repeated over rows) and an optional element-wise activation.
//!
//! It computes exactly what the three ops `matmul`, `add`, `act` compute, in the
//! same order of floating-point operations (so the results agree to the last
//! bit), but as one node on the tape instead of three. What that saves, per
//! layer and step:
//! - forward: two `[n, m]` buffers and one pass over them (the bias is added and
//!   the activation applied in the same pass, in place, after the product);
//! - backward: the chain rule through `act` and `add` becomes one in-place pass
//!   over ḡy (see [`output_gradient`]) instead of two passes into two freshly
//!   zeroed buffers.
//!
//! With p = x·W + b and y = act(p), the reverse sweep folds act′ into ḡ once,
//! ḡp = ḡy ⊙ act′(y), and then hands each input its share:
//!   ḡx += ḡp · Wᵀ      ḡW += xᵀ · ḡp      ḡb += Σ_rows ḡp
//! act′ is written in terms of the output y (every activation here allows it),
//! so the pre-activation p need not be kept.

use crate::float::Float;
use crate::nn::Activation;
use crate::ops::matmul;
use crate::ops::unary::{sigmoid, softplus};
use crate::tensor::{Shape, Tensor};
use crate::threads::{for_row_blocks, ELEMENT_COST};
use smallvec::smallvec;

/// `[n, k]·[k, m] + [m] → [n, m]`, or a panic naming the three shapes.
pub fn shape<F: Float>(x: &Tensor<F>, w: &Tensor<F>, b: &Tensor<F>) -> Shape {
    match (x.shape(), w.shape(), b.shape()) {
        ([n, k], [k2, m], [m2]) if k == k2 && m == m2 => smallvec![*n, *m],
        (sx, sw, sb) => panic!("dense: x {sx:?}, W {sw:?}, b {sb:?}"),
    }
}

/// y = act(x·W + b): the product into y, then bias and activation in one pass.
pub fn forward<F: Float>(
    activation: Option<Activation>,
    x: &Tensor<F>,
    w: &Tensor<F>,
    b: &Tensor<F>,
    y: &mut [F],
) {
    // One loop per activation, so each vectorizes on its own.
    match activation {
        None => product_then(x, w, b, y, |p| p),
        Some(Activation::Relu) => product_then(x, w, b, y, |p| p.max(F::ZERO)),
        Some(Activation::Tanh) => product_then(x, w, b, y, |p| p.tanh()),
        Some(Activation::Sigmoid) => product_then(x, w, b, y, sigmoid),
        Some(Activation::Softplus) => product_then(x, w, b, y, softplus),
    }
}

/// y ← f(x·W + b). A single input column (the first layer of a coupling
/// network on 2-D data) makes the product an outer product, done in the same
/// pass as bias and activation: y[i, j] = f(x[i]·W[j] + b[j]), one write of y
/// instead of a write and a read-modify-write.
fn product_then<F: Float>(
    x: &Tensor<F>,
    w: &Tensor<F>,
    b: &Tensor<F>,
    y: &mut [F],
    f: impl Fn(F) -> F + Sync,
) {
    let width = b.data.len();
    if x.cols() == 1 {
        for_row_blocks(y, width, width * ELEMENT_COST, |first, block| {
            for (row, &xi) in block.chunks_exact_mut(width).zip(&x.data[first..]) {
                for ((y, &wj), &bj) in row.iter_mut().zip(&w.data).zip(&b.data) {
                    *y = f(xi * wj + bj);
                }
            }
        });
    } else {
        matmul::forward(x, w, y);
        for_row_blocks(y, width, width * ELEMENT_COST, |_, block| {
            for row in block.chunks_exact_mut(width) {
                for (y, &bj) in row.iter_mut().zip(&b.data) {
                    *y = f(*y + bj);
                }
            }
        });
    }
}

/// ḡ ← ḡ ⊙ act′, with act′ read off the output y:
/// relu′ = [y > 0], tanh′ = 1 − y², σ′ = y(1 − y), softplus′ = σ(p) = 1 − e^(−y).
pub fn output_gradient<F: Float>(activation: Option<Activation>, g: &mut [F], y: &[F]) {
    match activation {
        None => {}
        // y > 0 exactly where p > 0, since y = max(p, 0).
        Some(Activation::Relu) => scale(g, y, |y| if y > F::ZERO { F::ONE } else { F::ZERO }),
        Some(Activation::Tanh) => scale(g, y, |y| F::ONE - y * y),
        Some(Activation::Sigmoid) => scale(g, y, |y| y * (F::ONE - y)),
        Some(Activation::Softplus) => scale(g, y, |y| F::ONE - (-y).exp()),
    }
}

/// g ← g ⊙ d(y), element-wise.
fn scale<F: Float>(g: &mut [F], y: &[F], d: impl Fn(F) -> F + Sync) {
    for_row_blocks(g, 1, ELEMENT_COST, |first, block| {
        for (g, &y) in block.iter_mut().zip(&y[first..]) {
            *g *= d(y);
        }
    });
}

/// Adds input `k`'s share of ḡp (already through [`output_gradient`]) into `gx`:
/// `overwrite` writes it instead, for a gradient buffer that holds nothing yet.
pub fn backward<F: Float>(
    k: usize,
    gp: &[F],
    x: &Tensor<F>,
    w: &Tensor<F>,
    gx: &mut [F],
    overwrite: bool,
) {
    match k {
        0 | 1 => matmul::backward_with(k, gp, x, w, gx, overwrite),
        _ => {
            // ḡb = Σ_rows ḡp, row by row so the inner loop is contiguous.
            if overwrite {
                gx.fill(F::ZERO);
            }
            for row in gp.chunks_exact(gx.len()) {
                for (d, &s) in gx.iter_mut().zip(row) {
                    *d += s;
                }
            }
        }
    }
}
