//! [`Tensor`]: a contiguous, row-major block of numbers with a shape.
//!
//! There are no views and no strides here: every tensor owns its data in row-major
//! order. Transposes that matter for speed (inside matmul) are expressed as gemm
//! strides instead, so the simple layout costs nothing where it counts.

use crate::float::Float;
use smallvec::SmallVec;
use std::fmt;

/// A tensor's dimensions, outermost first. Up to four live inline (no heap).
pub type Shape = SmallVec<[usize; 4]>;

/// Number of elements of a shape (1 for a scalar, whose shape is `[]`).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// A dense row-major tensor.
#[derive(Clone, PartialEq, Default)]
pub struct Tensor<F> {
    pub(crate) data: Vec<F>,
    pub(crate) shape: Shape,
}

impl<F: Float> Tensor<F> {
    /// A tensor from row-major data. Panics if `data.len()` is not the shape's size.
    pub fn new(data: Vec<F>, shape: &[usize]) -> Self {
        assert_eq!(
            data.len(),
            numel(shape),
            "Tensor::new: {} numbers do not fill shape {:?}",
            data.len(),
            shape
        );
        Tensor {
            data,
            shape: Shape::from_slice(shape),
        }
    }

    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, F::ZERO)
    }

    pub fn full(shape: &[usize], value: F) -> Self {
        Tensor::new(vec![value; numel(shape)], shape)
    }

    /// A 0-dimensional tensor holding one number.
    pub fn scalar(x: F) -> Self {
        Tensor::new(vec![x], &[])
    }

    /// A `[n, D]` matrix from rows of a fixed width.
    pub fn from_rows<const D: usize>(rows: &[[F; D]]) -> Self {
        let data = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::new(data, &[rows.len(), D])
    }

    /// Converts from `f64` data (the format of checkpoints and data files).
    pub fn from_f64(data: &[f64], shape: &[usize]) -> Self {
        Tensor::new(data.iter().map(|&x| F::from_f64(x)).collect(), shape)
    }

    /// The same numbers in another float type.
    pub fn cast<G: Float>(&self) -> Tensor<G> {
        Tensor {
            data: self.data.iter().map(|x| G::from_f64(x.to_f64())).collect(),
            shape: self.shape.clone(),
        }
    }

    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.data.iter().map(|x| x.to_f64()).collect()
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn data(&self) -> &[F] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [F] {
        &mut self.data
    }

    pub fn into_data(self) -> Vec<F> {
        self.data
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Rows of a 2-D tensor.
    pub fn rows(&self) -> usize {
        self.dims2("rows").0
    }

    /// Columns of a 2-D tensor.
    pub fn cols(&self) -> usize {
        self.dims2("cols").1
    }

    /// `(rows, cols)` of a 2-D tensor, or a panic naming the caller.
    pub(crate) fn dims2(&self, op: &str) -> (usize, usize) {
        match self.shape[..] {
            [r, c] => (r, c),
            _ => panic!("{op}: expected a 2-D tensor, got shape {:?}", self.shape()),
        }
    }

    /// Row `i` of a 2-D tensor.
    pub fn row(&self, i: usize) -> &[F] {
        let c = self.cols();
        &self.data[i * c..(i + 1) * c]
    }

    /// The only number of a one-element tensor.
    pub fn item(&self) -> F {
        assert_eq!(
            self.len(),
            1,
            "item: tensor of shape {:?} has more than one number",
            self.shape()
        );
        self.data[0]
    }

    /// Element-wise map into a new tensor.
    pub fn map(&self, f: impl Fn(F) -> F) -> Self {
        Tensor {
            data: self.data.iter().map(|&x| f(x)).collect(),
            shape: self.shape.clone(),
        }
    }

    /// The largest absolute element-wise difference to `other` (same shape required).
    pub fn max_abs_diff(&self, other: &Tensor<F>) -> f64 {
        assert_eq!(self.shape, other.shape, "max_abs_diff: shapes differ");
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a.to_f64() - b.to_f64()).abs())
            .fold(0.0, f64::max)
    }

    /// Rows `idx` of a 2-D tensor, in that order (minibatches).
    pub fn select_rows(&self, idx: &[usize]) -> Self {
        let c = self.cols();
        let mut data = Vec::with_capacity(idx.len() * c);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Tensor::new(data, &[idx.len(), c])
    }

    /// The rows of `self` followed by the rows of `other` (2-D, same columns).
    pub fn concat_rows(&self, other: &Self) -> Self {
        assert_eq!(
            self.cols(),
            other.cols(),
            "concat_rows: column counts differ"
        );
        let mut data = Vec::with_capacity(self.data.len() + other.data.len());
        data.extend_from_slice(&self.data);
        data.extend_from_slice(&other.data);
        Tensor::new(data, &[self.rows() + other.rows(), self.cols()])
    }

    /// Gives this tensor a new shape, reusing its allocation when it is large
    /// enough. The numbers are left as they are (zero where new): every caller
    /// overwrites all of them, so zeroing them first would be a wasted pass.
    pub(crate) fn reset_to(&mut self, shape: &[usize]) {
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        self.data.resize(numel(shape), F::ZERO);
    }
}

impl<F: fmt::Debug> fmt::Debug for Tensor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 8;
        write!(f, "Tensor{:?} [", &self.shape[..])?;
        for (i, x) in self.data.iter().take(SHOWN).enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{x:.6?}")?;
        }
        if self.data.len() > SHOWN {
            write!(f, ", … ({} more)", self.data.len() - SHOWN)?;
        }
        write!(f, "]")
    }
}
