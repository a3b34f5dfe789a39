//! [`Points`]: the command line's data, and its conversion to the library's tensors.

use autograd::{Float, Tensor};

/// Points: `rows × dim` numbers, row-major, as read from a CSV file or drawn
/// from a toy data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    pub data: Vec<f64>,
    pub dim: usize,
    /// Column names from the header line, if there was one.
    pub header: Option<Vec<String>>,
}

impl Points {
    pub fn rows(&self) -> usize {
        self.data.len() / self.dim.max(1)
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The first two coordinates of every point (what 2-D figures show).
    pub fn xy(&self) -> Vec<[f64; 2]> {
        (0..self.rows())
            .map(|i| [self.row(i)[0], self.row(i)[1]])
            .collect()
    }

    /// The points as an `[rows, dim]` tensor in precision `F`: the one
    /// conversion from the command line's data to the library's.
    pub fn to_tensor<F: Float>(&self) -> Tensor<F> {
        Tensor::from_f64(&self.data, &[self.rows(), self.dim])
    }

    /// 2-D points, as the toy data sets draw them.
    pub fn from_xy(xy: &[[f64; 2]]) -> Self {
        Points {
            data: xy.iter().flatten().copied().collect(),
            dim: 2,
            header: None,
        }
    }

    /// The rows of a `[rows, dim]` tensor (samples of a model, say).
    pub fn from_tensor<F: Float>(t: &Tensor<F>) -> Self {
        Points {
            data: t.to_f64_vec(),
            dim: t.cols(),
            header: None,
        }
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Self {
        let mut data = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Points {
            data,
            dim: self.dim,
            header: self.header.clone(),
        }
    }
}
