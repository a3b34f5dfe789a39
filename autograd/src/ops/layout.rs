//! Reshape and transpose: the same numbers in another arrangement.
//!
//!   reshape:    y = x read with another shape;  ḡx += ḡy (same row-major order)
//!   transpose:  y[j, i] = x[i, j];              ḡx += (ḡy)ᵀ

use crate::float::Float;
use crate::tensor::{numel, Shape, Tensor};
use smallvec::smallvec;

pub fn reshape_shape<F: Float>(x: &Tensor<F>, shape: &[usize]) -> Shape {
    assert!(
        numel(shape) == x.len(),
        "reshape: cannot view {:?} as {:?}",
        x.shape(),
        shape
    );
    Shape::from_slice(shape)
}

pub fn transpose_shape<F: Float>(x: &Tensor<F>) -> Shape {
    let (r, c) = x.dims2("transpose");
    smallvec![c, r]
}

/// y = xᵀ for a row-major `[rows, cols]` x.
pub fn transpose_forward<F: Float>(x: &[F], rows: usize, cols: usize, y: &mut [F]) {
    for i in 0..rows {
        for j in 0..cols {
            y[j * rows + i] = x[i * cols + j];
        }
    }
}

/// ḡx += (ḡy)ᵀ, where ḡy is `[cols, rows]`.
pub fn transpose_backward<F: Float>(g: &[F], rows: usize, cols: usize, gx: &mut [F]) {
    for i in 0..rows {
        for j in 0..cols {
            gx[i * cols + j] += g[j * rows + i];
        }
    }
}
