//! Reductions: sums, means and log-sum-exp, over everything or along one axis.
//!
//! Along axis `a`, a tensor is viewed as `[outer, n, inner]` where `n` is the size of
//! axis `a`; the output is `[outer, inner]` (with a 1 kept in place of `n` when
//! `keepdim`). Every output element is a function of one "fibre" of `n` inputs.
//!
//! Backward, each input element receives its fibre's gradient times the partial
//! derivative of the reduction with respect to it:
//!   sum:        ∂y/∂xⱼ = 1
//!   mean:       ∂y/∂xⱼ = 1/n
//!   logsumexp:  ∂y/∂xⱼ = exp(xⱼ − y)   (the softmax of the fibre)

use crate::float::Float;
use crate::tensor::{numel, Shape};

/// Which function of a fibre.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    Sum,
    Mean,
    LogSumExp,
}

impl Reduction {
    pub fn name(&self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::LogSumExp => "logsumexp",
        }
    }
}

/// The `[outer, n, inner]` view of reducing `shape` along `axis` (`None`: everything).
#[derive(Clone, Copy, Debug)]
pub struct Fibres {
    outer: usize,
    n: usize,
    inner: usize,
}

impl Fibres {
    pub fn new(shape: &[usize], axis: Option<usize>) -> Self {
        match axis {
            None => Fibres {
                outer: 1,
                n: numel(shape),
                inner: 1,
            },
            Some(a) => Fibres {
                outer: numel(&shape[..a]),
                n: shape[a],
                inner: numel(&shape[a + 1..]),
            },
        }
    }

    /// Input index of element `j` of the fibre that output `out` reduces.
    fn input_index(&self, out: usize, j: usize) -> usize {
        let (o, i) = (out / self.inner, out % self.inner);
        (o * self.n + j) * self.inner + i
    }

    fn outputs(&self) -> usize {
        self.outer * self.inner
    }
}

/// The output shape, or a panic naming the op, the shape and the axis.
pub fn shape(r: Reduction, input: &[usize], axis: Option<usize>, keepdim: bool) -> Shape {
    let Some(a) = axis else {
        return Shape::new();
    };
    assert!(
        a < input.len(),
        "{}: axis {a} out of range for shape {input:?}",
        r.name()
    );
    let mut out = Shape::from_slice(input);
    if keepdim {
        out[a] = 1;
    } else {
        out.remove(a);
    }
    out
}

pub fn forward<F: Float>(r: Reduction, x: &[F], view: Fibres, y: &mut [F]) {
    let n = F::from_usize(view.n);
    for (out, y) in y.iter_mut().enumerate().take(view.outputs()) {
        let fibre = (0..view.n).map(|j| x[view.input_index(out, j)]);
        *y = match r {
            Reduction::Sum => fibre.sum(),
            Reduction::Mean => fibre.sum::<F>() / n,
            Reduction::LogSumExp => {
                // Subtract the max so the largest term is e⁰ = 1: no overflow, and
                // the sum is at least 1 so its log never underflows to −∞.
                let m = fibre.clone().fold(F::from_f64(f64::NEG_INFINITY), F::max);
                if m.is_finite() {
                    m + fibre.map(|v| (v - m).exp()).sum::<F>().ln()
                } else {
                    m
                }
            }
        };
    }
}

pub fn backward<F: Float>(r: Reduction, g: &[F], x: &[F], y: &[F], view: Fibres, gx: &mut [F]) {
    let inv_n = F::ONE / F::from_usize(view.n);
    for out in 0..view.outputs() {
        for j in 0..view.n {
            let i = view.input_index(out, j);
            gx[i] += g[out]
                * match r {
                    Reduction::Sum => F::ONE,
                    Reduction::Mean => inv_n,
                    Reduction::LogSumExp => (x[i] - y[out]).exp(),
                };
        }
    }
}

/// ∂y/∂xⱼ as text for the printed adjoint program.
pub fn derivative_text(r: Reduction, x: &str, y: &str, n: usize) -> String {
    match r {
        Reduction::Sum => "1".into(),
        Reduction::Mean => format!("(1/{n})"),
        Reduction::LogSumExp => format!("exp({x} − {y})"),
    }
}
