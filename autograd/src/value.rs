//! [`Value`]: write a model once, run it recorded or plain.
//!
//! Layers are written against this trait. Run with [`Var`]s, every op is recorded
//! on a tape so gradients can be taken (training). Run with [`Tensor`]s, every op is
//! simply evaluated and forgotten (sampling, evaluation): no tape, no memory kept
//! for a backward pass. Both go through the same [`Op`] kernels, so they agree to
//! the last bit.
//!
//! Only [`Value::apply`] differs between the two; everything else is built on it.

use crate::float::Float;
use crate::op::Op;
use crate::ops::binary::Binary;
use crate::ops::reduce::Reduction;
use crate::ops::unary::Unary;
use crate::params::{ParamId, ParamStore};
use crate::tape::Var;
use crate::tensor::{Shape, Tensor};
use smallvec::SmallVec;
use std::sync::Arc;

/// Something ops can be applied to: a recorded [`Var`] or a plain [`Tensor`].
pub trait Value<F: Float>: Clone {
    /// `op(self, others…)`: the one primitive.
    fn apply(&self, op: Op<F>, others: &[&Self]) -> Self;
    /// A parameter of `store`, in the same context as `self` (on the same tape).
    fn param(&self, store: &ParamStore<F>, id: ParamId) -> Self;
    /// A constant in the same context as `self`.
    fn constant(&self, value: &Tensor<F>) -> Self;
    /// The current numbers.
    fn to_tensor(&self) -> Tensor<F>;
    fn shape(&self) -> Shape;

    fn unary(&self, u: Unary<F>) -> Self {
        self.apply(Op::Unary(u), &[])
    }
    fn add(&self, rhs: &Self) -> Self {
        self.apply(Op::Binary(Binary::Add), &[rhs])
    }
    fn sub(&self, rhs: &Self) -> Self {
        self.apply(Op::Binary(Binary::Sub), &[rhs])
    }
    fn mul(&self, rhs: &Self) -> Self {
        self.apply(Op::Binary(Binary::Mul), &[rhs])
    }
    fn div(&self, rhs: &Self) -> Self {
        self.apply(Op::Binary(Binary::Div), &[rhs])
    }
    fn neg(&self) -> Self {
        self.unary(Unary::Neg)
    }
    fn exp(&self) -> Self {
        self.unary(Unary::Exp)
    }
    fn log(&self) -> Self {
        self.unary(Unary::Log)
    }
    fn tanh(&self) -> Self {
        self.unary(Unary::Tanh)
    }
    fn relu(&self) -> Self {
        self.unary(Unary::Relu)
    }
    fn sigmoid(&self) -> Self {
        self.unary(Unary::Sigmoid)
    }
    fn softplus(&self) -> Self {
        self.unary(Unary::Softplus)
    }
    fn square(&self) -> Self {
        self.unary(Unary::Square)
    }
    fn sqrt(&self) -> Self {
        self.unary(Unary::Sqrt)
    }
    fn abs(&self) -> Self {
        self.unary(Unary::Abs)
    }
    fn sin(&self) -> Self {
        self.unary(Unary::Sin)
    }
    fn cos(&self) -> Self {
        self.unary(Unary::Cos)
    }
    fn powi(&self, n: i32) -> Self {
        self.unary(Unary::Powi(n))
    }
    /// c·self
    fn scale(&self, c: F) -> Self {
        self.unary(Unary::Scale(c))
    }
    /// self + c
    fn shift(&self, c: F) -> Self {
        self.unary(Unary::Shift(c))
    }
    fn matmul(&self, rhs: &Self) -> Self {
        self.apply(Op::MatMul, &[rhs])
    }
    /// act(self·w + b) as one op (see `ops/dense.rs`); `None`: self·w + b.
    fn dense(&self, w: &Self, b: &Self, activation: Option<crate::nn::Activation>) -> Self {
        self.apply(Op::Dense(activation), &[w, b])
    }
    fn reduce(&self, reduction: Reduction, axis: Option<usize>, keepdim: bool) -> Self {
        self.apply(
            Op::Reduce {
                reduction,
                axis,
                keepdim,
            },
            &[],
        )
    }
    /// Sum of every element (a scalar, shape `[]`).
    fn sum(&self) -> Self {
        self.reduce(Reduction::Sum, None, false)
    }
    fn mean(&self) -> Self {
        self.reduce(Reduction::Mean, None, false)
    }
    fn sum_axis(&self, axis: usize, keepdim: bool) -> Self {
        self.reduce(Reduction::Sum, Some(axis), keepdim)
    }
    fn mean_axis(&self, axis: usize, keepdim: bool) -> Self {
        self.reduce(Reduction::Mean, Some(axis), keepdim)
    }
    /// log Σ exp along `axis`, computed without overflow.
    fn logsumexp(&self, axis: usize, keepdim: bool) -> Self {
        self.reduce(Reduction::LogSumExp, Some(axis), keepdim)
    }
    /// `[r, c₁], [r, c₂], … → [r, c₁ + c₂ + …]`
    fn concat_cols(parts: &[&Self]) -> Self {
        assert!(!parts.is_empty(), "concat_cols: no parts");
        parts[0].apply(Op::Concat, &parts[1..])
    }
    /// Columns `start..start + len`.
    fn slice_cols(&self, start: usize, len: usize) -> Self {
        self.apply(Op::SliceCols { start, len }, &[])
    }
    /// Consecutive column blocks of the given widths.
    fn split_cols(&self, widths: &[usize]) -> SmallVec<[Self; 4]> {
        let mut start = 0;
        widths
            .iter()
            .map(|&w| {
                let part = self.slice_cols(start, w);
                start += w;
                part
            })
            .collect()
    }
    /// `y[:, j] = self[:, idx[j]]`
    fn gather_cols(&self, idx: &Arc<[usize]>) -> Self {
        self.apply(Op::GatherCols(idx.clone()), &[])
    }
    fn reshape(&self, shape: &[usize]) -> Self {
        self.apply(Op::Reshape(Shape::from_slice(shape)), &[])
    }
    fn transpose(&self) -> Self {
        self.apply(Op::Transpose, &[])
    }
}

impl<'t, F: Float> Value<F> for Var<'t, F> {
    fn apply(&self, op: Op<F>, others: &[&Self]) -> Self {
        self.record(op, others)
    }
    fn dense(&self, w: &Self, b: &Self, activation: Option<crate::nn::Activation>) -> Self {
        if self.tape.fuses {
            return self.apply(Op::Dense(activation), &[w, b]);
        }
        let p = self.matmul(w).add(b);
        activation.map_or(p, |a| a.apply(&p))
    }
    fn param(&self, store: &ParamStore<F>, id: ParamId) -> Self {
        self.tape.param(store, id)
    }
    fn constant(&self, value: &Tensor<F>) -> Self {
        self.tape.constant(value)
    }
    fn to_tensor(&self) -> Tensor<F> {
        self.value()
    }
    fn shape(&self) -> Shape {
        Var::shape(self)
    }
}

impl<F: Float> Value<F> for Tensor<F> {
    fn apply(&self, op: Op<F>, others: &[&Self]) -> Self {
        let mut xs: SmallVec<[&Tensor<F>; 4]> = SmallVec::new();
        xs.push(self);
        xs.extend_from_slice(others);
        op.evaluate(&xs)
    }
    fn param(&self, store: &ParamStore<F>, id: ParamId) -> Self {
        store.value(id).clone()
    }
    fn constant(&self, value: &Tensor<F>) -> Self {
        value.clone()
    }
    fn to_tensor(&self) -> Tensor<F> {
        self.clone()
    }
    fn shape(&self) -> Shape {
        self.shape.clone()
    }
}

/// `a + b`, `a * b`, … between Vars (recorded), and with a plain number on the
/// right (`x * 2.0` records a scale, `x + 1.0` a shift).
macro_rules! var_operators {
    ($($trait:ident $method:ident $value_method:ident $scalar:expr;)*) => {$(
        impl<'t, F: Float> std::ops::$trait for Var<'t, F> {
            type Output = Var<'t, F>;
            fn $method(self, rhs: Var<'t, F>) -> Var<'t, F> {
                Value::$value_method(&self, &rhs)
            }
        }
        impl<'t, F: Float> std::ops::$trait<&Var<'t, F>> for &Var<'t, F> {
            type Output = Var<'t, F>;
            fn $method(self, rhs: &Var<'t, F>) -> Var<'t, F> {
                Value::$value_method(self, rhs)
            }
        }
        impl<'t, F: Float> std::ops::$trait<F> for Var<'t, F> {
            type Output = Var<'t, F>;
            fn $method(self, c: F) -> Var<'t, F> {
                let unary: fn(F) -> Unary<F> = $scalar;
                Value::unary(&self, unary(c))
            }
        }
        impl<F: Float> std::ops::$trait<&Tensor<F>> for &Tensor<F> {
            type Output = Tensor<F>;
            fn $method(self, rhs: &Tensor<F>) -> Tensor<F> {
                Value::$value_method(self, rhs)
            }
        }
    )*};
}

var_operators! {
    Add add add |c| Unary::Shift(c);
    Sub sub sub |c| Unary::Shift(-c);
    Mul mul mul |c| Unary::Scale(c);
    Div div div |c| Unary::Scale(F::ONE / c);
}

impl<'t, F: Float> std::ops::Neg for Var<'t, F> {
    type Output = Var<'t, F>;
    fn neg(self) -> Var<'t, F> {
        Value::neg(&self)
    }
}
