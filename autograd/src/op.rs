//! [`Op`]: every operation the engine knows, in one enum — the calculus as a table.
//!
//! For each op this file routes three things to the kernel in [`crate::ops`] that
//! computes it: the output shape (where shape errors are reported), the forward
//! value, and the vector-Jacobian product (VJP) that the reverse sweep calls.
//! Reading the `vjp` match from top to bottom is reading every derivative the
//! engine uses.

use crate::float::Float;
use crate::nn::Activation;
use crate::ops::binary::Binary;
use crate::ops::reduce::{self, Fibres, Reduction};
use crate::ops::unary::Unary;
use crate::ops::{columns, dense, layout, matmul};
use crate::params::ParamId;
use crate::tensor::{Shape, Tensor};
use std::sync::Arc;

/// One operation. Inputs are not stored here but in the tape node that uses it, so
/// the same `Op` value also evaluates plain tensors (see [`Op::evaluate`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Op<F> {
    /// A leaf that wants no gradient (data, masks).
    Constant,
    /// A leaf whose gradient the user will read.
    Variable,
    /// A leaf copied from a parameter store; its gradient goes back to the store.
    Param(ParamId),
    Unary(Unary<F>),
    Binary(Binary),
    MatMul,
    /// y = act(x·W + b) in one node (inputs x, W, b): see `ops/dense.rs`.
    Dense(Option<Activation>),
    /// A reduction over everything (`axis: None`) or along one axis.
    Reduce {
        reduction: Reduction,
        axis: Option<usize>,
        keepdim: bool,
    },
    /// Columns of several `[r, cᵢ]` matrices side by side.
    Concat,
    SliceCols {
        start: usize,
        len: usize,
    },
    /// `y[:, j] = x[:, idx[j]]`. Shared so recording it each step costs no allocation.
    GatherCols(Arc<[usize]>),
    Reshape(Shape),
    Transpose,
}

impl<F: Float> Op<F> {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Constant => "constant",
            Op::Variable => "variable",
            Op::Param(_) => "param",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::MatMul => "matmul",
            Op::Dense(None) => "linear",
            Op::Dense(Some(Activation::Relu)) => "linear_relu",
            Op::Dense(Some(Activation::Tanh)) => "linear_tanh",
            Op::Dense(Some(Activation::Sigmoid)) => "linear_sigmoid",
            Op::Dense(Some(Activation::Softplus)) => "linear_softplus",
            Op::Reduce { reduction, .. } => reduction.name(),
            Op::Concat => "concat",
            Op::SliceCols { .. } => "slice_cols",
            Op::GatherCols(_) => "gather_cols",
            Op::Reshape(_) => "reshape",
            Op::Transpose => "transpose",
        }
    }

    /// Leaves have no inputs and are given their value instead of computing it.
    pub fn is_leaf(&self) -> bool {
        matches!(self, Op::Constant | Op::Variable | Op::Param(_))
    }

    /// The shape of the result, checking the inputs (panics name the op and shapes).
    pub fn output_shape(&self, xs: &[&Tensor<F>]) -> Shape {
        match self {
            Op::Constant | Op::Variable | Op::Param(_) => unreachable!("leaves have given shapes"),
            Op::Unary(_) => xs[0].shape.clone(),
            Op::Binary(b) => b.shape(&xs[0].shape, &xs[1].shape),
            Op::MatMul => matmul::shape(xs[0], xs[1]),
            Op::Dense(_) => dense::shape(xs[0], xs[1], xs[2]),
            Op::Reduce {
                reduction,
                axis,
                keepdim,
            } => reduce::shape(*reduction, &xs[0].shape, *axis, *keepdim),
            Op::Concat => columns::concat_shape(xs),
            Op::SliceCols { start, len } => columns::slice_shape(xs[0], *start, *len),
            Op::GatherCols(idx) => columns::gather_shape(xs[0], idx),
            Op::Reshape(shape) => layout::reshape_shape(xs[0], shape),
            Op::Transpose => layout::transpose_shape(xs[0]),
        }
    }

    /// y = op(xs), into `y` (already sized by [`Op::output_shape`]).
    pub fn forward(&self, xs: &[&Tensor<F>], y: &mut [F]) {
        match self {
            Op::Constant | Op::Variable | Op::Param(_) => unreachable!("leaves are not computed"),
            Op::Unary(u) => u.forward(&xs[0].data, y),
            Op::Binary(b) => b.forward(xs[0], xs[1], y),
            Op::MatMul => matmul::forward(xs[0], xs[1], y),
            Op::Dense(act) => dense::forward(*act, xs[0], xs[1], xs[2], y),
            Op::Reduce {
                reduction, axis, ..
            } => reduce::forward(*reduction, &xs[0].data, Fibres::new(&xs[0].shape, *axis), y),
            Op::Concat => columns::concat_forward(xs, y),
            Op::SliceCols { start, .. } => columns::slice_forward(xs[0], *start, y),
            Op::GatherCols(idx) => columns::gather_forward(xs[0], idx, y),
            Op::Reshape(_) => y.copy_from_slice(&xs[0].data),
            Op::Transpose => {
                let (r, c) = xs[0].dims2("transpose");
                layout::transpose_forward(&xs[0].data, r, c, y)
            }
        }
    }

    /// Called once on ḡy before the inputs' VJPs, for an op whose last step is
    /// element-wise: it folds that step's derivative into ḡ in place, so the
    /// VJPs of all inputs start from the same product instead of each
    /// recomputing it. Only [`Op::Dense`] has such a step.
    pub fn output_gradient(&self, g: &mut [F], y: &[F]) {
        if let Op::Dense(act) = self {
            dense::output_gradient(*act, g, y);
        }
    }

    /// Writes input `k`'s share of ḡ into `gx` instead of adding it, for a
    /// gradient buffer that holds nothing yet (and so was not zeroed: this saves
    /// one pass over it). Returns false for ops that only know how to add;
    /// the caller then zeroes `gx` and calls [`Op::vjp`].
    pub fn vjp_overwrite(&self, k: usize, g: &[F], xs: &[&Tensor<F>], gx: &mut [F]) -> bool {
        match self {
            Op::MatMul => matmul::backward_with(k, g, xs[0], xs[1], gx, true),
            Op::Dense(_) => dense::backward(k, g, xs[0], xs[1], gx, true),
            _ => return false,
        }
        true
    }

    /// The vector-Jacobian product for input `k`: ḡxₖ += ḡy · ∂y/∂xₖ.
    ///
    /// `g` is the gradient of the loss with respect to this op's output `y`;
    /// `gx` is input `k`'s gradient buffer, to be *added* to (an input used several
    /// times collects every contribution).
    pub fn vjp(&self, k: usize, g: &[F], xs: &[&Tensor<F>], y: &[F], gx: &mut [F]) {
        match self {
            Op::Constant | Op::Variable | Op::Param(_) => {}
            Op::Unary(u) => u.backward(g, &xs[0].data, y, gx),
            Op::Binary(b) => b.backward(k, g, xs[0], xs[1], y, gx),
            Op::MatMul => matmul::backward(k, g, xs[0], xs[1], gx),
            Op::Dense(_) => dense::backward(k, g, xs[0], xs[1], gx, false),
            Op::Reduce {
                reduction, axis, ..
            } => reduce::backward(
                *reduction,
                g,
                &xs[0].data,
                y,
                Fibres::new(&xs[0].shape, *axis),
                gx,
            ),
            Op::Concat => columns::concat_backward(k, xs, g, gx),
            Op::SliceCols { start, .. } => columns::slice_backward(xs[0], *start, g, gx),
            Op::GatherCols(idx) => columns::gather_backward(xs[0], idx, g, gx),
            Op::Reshape(_) => {
                for (d, s) in gx.iter_mut().zip(g) {
                    *d += *s;
                }
            }
            Op::Transpose => {
                let (r, c) = xs[0].dims2("transpose");
                layout::transpose_backward(g, r, c, gx)
            }
        }
    }

    /// Evaluates the op on plain tensors, recording nothing: the inference path.
    pub fn evaluate(&self, xs: &[&Tensor<F>]) -> Tensor<F> {
        let mut out = Tensor::default();
        out.reset_to(&self.output_shape(xs));
        self.forward(xs, &mut out.data);
        out
    }

    /// The right-hand side of the adjoint statement `ḡxₖ += …` as text, given the
    /// printed names of the inputs (`v2`), of the output (`v4`) and of its
    /// gradient (`ḡ4`). Used by [`crate::Tape::adjoint_program`].
    pub fn adjoint_text(
        &self,
        k: usize,
        xs: &[String],
        y: &str,
        g: &str,
        shapes: &[&[usize]],
    ) -> String {
        let x = xs.get(k).map(String::as_str).unwrap_or("?");
        match self {
            Op::Constant | Op::Variable | Op::Param(_) => String::new(),
            Op::Unary(u) => format!("{g} ⊙ {}", u.derivative_text(x, y)),
            Op::Binary(b) => {
                let text = b.adjoint_text(k, g, &xs[0], &xs[1], y);
                let out_shape = b.shape(shapes[0], shapes[1]);
                if shapes[k] == &out_shape[..] {
                    text
                } else {
                    format!("Σ_broadcast({text})")
                }
            }
            Op::MatMul if k == 0 => format!("{g} · {}ᵀ", xs[1]),
            Op::MatMul => format!("{}ᵀ · {g}", xs[0]),
            Op::Dense(act) => {
                let gp = match act {
                    None => g.to_string(),
                    Some(a) => format!("({g} ⊙ {}′({y}))", a.name()),
                };
                match k {
                    0 => format!("{gp} · {}ᵀ", xs[1]),
                    1 => format!("{}ᵀ · {gp}", xs[0]),
                    _ => format!("Σ_rows {gp}"),
                }
            }
            Op::Reduce {
                reduction, axis, ..
            } => {
                let n = match axis {
                    Some(a) => shapes[0][*a],
                    None => shapes[0].iter().product(),
                };
                let d = reduce::derivative_text(*reduction, x, y, n);
                if d == "1" {
                    format!("broadcast({g})")
                } else {
                    format!("broadcast({g}) ⊙ {d}")
                }
            }
            Op::Concat => {
                let start: usize = shapes[..k].iter().map(|s| s[1]).sum();
                format!("{g}[:, {start}..{}]", start + shapes[k][1])
            }
            Op::SliceCols { start, len } => {
                format!("pad({g} into columns {start}..{})", start + len)
            }
            Op::GatherCols(idx) => format!("scatter({g} to columns {idx:?})"),
            Op::Reshape(_) => format!("reshape({g})"),
            Op::Transpose => format!("{g}ᵀ"),
        }
    }
}
