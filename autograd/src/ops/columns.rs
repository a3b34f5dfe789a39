//! Column surgery on `[rows, cols]` matrices: concatenate, slice, gather.
//!
//! These are how coupling layers split a point into the half that conditions and
//! the half that is transformed, and how permutations reorder dimensions.
//! All three only move numbers, so their backward passes move gradients back:
//! ```text
//! concat:  ḡ(part p) += the columns of ḡy that part p filled
//! slice:   ḡx[:, start..start+len] += ḡy
//! gather:  ḡx[:, idx[j]] += ḡy[:, j]   (a scatter-add: repeated indices add up)
//! ```

use crate::float::Float;
use crate::tensor::{Shape, Tensor};
use smallvec::smallvec;

/// `[r, c₁] ++ [r, c₂] ++ … → [r, Σc]`, or a panic naming the mismatching shapes.
pub fn concat_shape<F: Float>(parts: &[&Tensor<F>]) -> Shape {
    assert!(!parts.is_empty(), "concat: no tensors to concatenate");
    let rows = parts[0].dims2("concat").0;
    let mut cols = 0;
    for p in parts {
        let (r, c) = p.dims2("concat");
        assert!(
            r == rows,
            "concat: {:?} and {:?} differ in rows",
            parts[0].shape(),
            p.shape()
        );
        cols += c;
    }
    smallvec![rows, cols]
}

pub fn concat_forward<F: Float>(parts: &[&Tensor<F>], y: &mut [F]) {
    let (rows, total) = (parts[0].rows(), y.len() / parts[0].rows().max(1));
    let mut offset = 0;
    for p in parts {
        let c = p.cols();
        for r in 0..rows {
            y[r * total + offset..r * total + offset + c].copy_from_slice(p.row(r));
        }
        offset += c;
    }
}

/// ḡ(part `which`) += its columns of ḡy.
pub fn concat_backward<F: Float>(which: usize, parts: &[&Tensor<F>], g: &[F], gx: &mut [F]) {
    let rows = parts[0].rows();
    let total: usize = parts.iter().map(|p| p.cols()).sum();
    let offset: usize = parts[..which].iter().map(|p| p.cols()).sum();
    let c = parts[which].cols();
    for r in 0..rows {
        let src = &g[r * total + offset..r * total + offset + c];
        for (d, s) in gx[r * c..(r + 1) * c].iter_mut().zip(src) {
            *d += *s;
        }
    }
}

pub fn slice_shape<F: Float>(x: &Tensor<F>, start: usize, len: usize) -> Shape {
    let (rows, cols) = x.dims2("slice_cols");
    assert!(
        start + len <= cols,
        "slice_cols: columns {start}..{} out of range for {:?}",
        start + len,
        x.shape()
    );
    smallvec![rows, len]
}

pub fn slice_forward<F: Float>(x: &Tensor<F>, start: usize, y: &mut [F]) {
    let rows = x.rows();
    let len = y.len() / rows.max(1);
    for r in 0..rows {
        y[r * len..(r + 1) * len].copy_from_slice(&x.row(r)[start..start + len]);
    }
}

pub fn slice_backward<F: Float>(x: &Tensor<F>, start: usize, g: &[F], gx: &mut [F]) {
    let (rows, cols) = x.dims2("slice_cols");
    let len = g.len() / rows.max(1);
    for r in 0..rows {
        for j in 0..len {
            gx[r * cols + start + j] += g[r * len + j];
        }
    }
}

pub fn gather_shape<F: Float>(x: &Tensor<F>, idx: &[usize]) -> Shape {
    let (rows, cols) = x.dims2("gather_cols");
    if let Some(bad) = idx.iter().find(|&&i| i >= cols) {
        panic!("gather_cols: index {bad} out of range for {:?}", x.shape());
    }
    smallvec![rows, idx.len()]
}

pub fn gather_forward<F: Float>(x: &Tensor<F>, idx: &[usize], y: &mut [F]) {
    let m = idx.len();
    for r in 0..x.rows() {
        let row = x.row(r);
        for (j, &i) in idx.iter().enumerate() {
            y[r * m + j] = row[i];
        }
    }
}

pub fn gather_backward<F: Float>(x: &Tensor<F>, idx: &[usize], g: &[F], gx: &mut [F]) {
    let (rows, cols) = x.dims2("gather_cols");
    let m = idx.len();
    for r in 0..rows {
        for (j, &i) in idx.iter().enumerate() {
            gx[r * cols + i] += g[r * m + j];
        }
    }
}
