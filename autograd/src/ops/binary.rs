//! Element-wise arithmetic of two tensors with NumPy broadcasting.
//!
//! Broadcasting aligns shapes from the right; a dimension of size 1 (or a missing
//! one) is repeated to match the other operand. A `[N, D]` matrix plus a `[D]` row
//! adds the row to every row; plus a `[N, 1]` column adds each row's number to that
//! row; plus a `[]` scalar adds it everywhere.
//!
//! Backward, an input that was repeated receives the *sum* of the gradients of all
//! the places it was copied to: if y = a + b with b repeated over rows, then
//! ḡb = Σ_rows ḡy. The loops below get that sum for free by writing every
//! contribution into the broadcast input's gradient with `+=`.

use crate::float::Float;
use crate::tensor::{Shape, Tensor};
use smallvec::smallvec;

/// The four arithmetic operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    /// y = a + b;  ∂y/∂a = 1, ∂y/∂b = 1
    Add,
    /// y = a − b;  ∂y/∂a = 1, ∂y/∂b = −1
    Sub,
    /// y = a ⊙ b;  ∂y/∂a = b, ∂y/∂b = a
    Mul,
    /// y = a / b;  ∂y/∂a = 1/b, ∂y/∂b = −a/b² = −y/b
    Div,
}

impl Binary {
    pub fn name(&self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
        }
    }

    /// The broadcast shape of `a op b`, or a panic naming the op and both shapes.
    pub fn shape(&self, a: &[usize], b: &[usize]) -> Shape {
        broadcast_shape(a, b)
            .unwrap_or_else(|| panic!("{}: cannot broadcast {:?} with {:?}", self.name(), a, b))
    }

    pub fn forward<F: Float>(&self, a: &Tensor<F>, b: &Tensor<F>, y: &mut [F]) {
        // One monomorphized loop per op: matching inside the loop would cost a
        // branch per element.
        match self {
            Binary::Add => zip_with(a, b, y, |a, b| a + b),
            Binary::Sub => zip_with(a, b, y, |a, b| a - b),
            Binary::Mul => zip_with(a, b, y, |a, b| a * b),
            Binary::Div => zip_with(a, b, y, |a, b| a / b),
        }
    }

    /// ḡ(input k) += the part of ḡy that flows to operand `k` (0 = a, 1 = b).
    pub fn backward<F: Float>(
        &self,
        k: usize,
        g: &[F],
        a: &Tensor<F>,
        b: &Tensor<F>,
        y: &[F],
        gx: &mut [F],
    ) {
        // ∂y/∂(operand k) at one element, as a function of (a, b, y) there.
        let into = Gradient { k, g, a, b, y };
        match (self, k) {
            (Binary::Add, _) | (Binary::Sub, 0) => into.accumulate(gx, |_, _, _| F::ONE),
            (Binary::Sub, _) => into.accumulate(gx, |_, _, _| -F::ONE),
            (Binary::Mul, 0) => into.accumulate(gx, |_, b, _| b),
            (Binary::Mul, _) => into.accumulate(gx, |a, _, _| a),
            (Binary::Div, 0) => into.accumulate(gx, |_, b, _| F::ONE / b),
            (Binary::Div, _) => into.accumulate(gx, |_, b, y| -y / b),
        }
    }

    /// The adjoint statement for operand `k`, e.g. `ḡ2 += ḡ4 ⊙ v3`.
    pub fn adjoint_text(&self, k: usize, g: &str, a: &str, b: &str, y: &str) -> String {
        match (self, k) {
            (Binary::Add, _) | (Binary::Sub, 0) => g.to_string(),
            (Binary::Sub, _) => format!("−{g}"),
            (Binary::Mul, 0) => format!("{g} ⊙ {b}"),
            (Binary::Mul, _) => format!("{g} ⊙ {a}"),
            (Binary::Div, 0) => format!("{g} / {b}"),
            (Binary::Div, _) => format!("−{g} ⊙ {y} / {b}"),
        }
    }
}

/// y = f(a, b) element-wise, broadcasting.
fn zip_with<F: Float>(a: &Tensor<F>, b: &Tensor<F>, y: &mut [F], f: impl Fn(F, F) -> F) {
    let (ad, bd) = (&a.data, &b.data);
    if a.shape == b.shape {
        // The common case gets a plain loop the compiler can vectorize.
        for ((y, &a), &b) in y.iter_mut().zip(ad).zip(bd) {
            *y = f(a, b);
        }
    } else if repeats_as_rows(&a.shape, &b.shape) {
        // A bias row added to every row of a matrix: row by row, contiguous.
        for (y, a) in y.chunks_exact_mut(bd.len()).zip(ad.chunks_exact(bd.len())) {
            for ((y, &a), &b) in y.iter_mut().zip(a).zip(bd) {
                *y = f(a, b);
            }
        }
    } else {
        Broadcast::new(&a.shape, &b.shape).for_each(|i, ia, ib| y[i] = f(ad[ia], bd[ib]));
    }
}

/// What the backward pass of one binary op needs to send a gradient to operand `k`.
struct Gradient<'a, F> {
    k: usize,
    g: &'a [F],
    a: &'a Tensor<F>,
    b: &'a Tensor<F>,
    y: &'a [F],
}

impl<F: Float> Gradient<'_, F> {
    /// gx[where operand k was read] += ḡy ⊙ d(a, b, y): repeated reads of a
    /// broadcast operand add up, which is the sum over the broadcast axes.
    fn accumulate(&self, gx: &mut [F], d: impl Fn(F, F, F) -> F) {
        let (ad, bd, g, y) = (&self.a.data, &self.b.data, self.g, self.y);
        if self.a.shape == self.b.shape {
            for i in 0..g.len() {
                gx[i] += g[i] * d(ad[i], bd[i], y[i]);
            }
        } else if repeats_as_rows(&self.a.shape, &self.b.shape) {
            // The bias case again, row by row: contiguous slices the compiler can
            // vectorize instead of one index computation per element. This is
            // where a layer's bias gradient Σ_rows ḡ is summed.
            let c = bd.len();
            let rows = g
                .chunks_exact(c)
                .zip(ad.chunks_exact(c))
                .zip(y.chunks_exact(c));
            for (r, ((g, a), y)) in rows.enumerate() {
                // Operand a is the matrix (its gradient row r); b is the repeated row.
                let gx = if self.k == 0 {
                    &mut gx[r * c..(r + 1) * c]
                } else {
                    &mut gx[..]
                };
                for ((((gx, &g), &a), &b), &y) in gx.iter_mut().zip(g).zip(a).zip(bd).zip(y) {
                    *gx += g * d(a, b, y);
                }
            }
        } else if self.k == 0 {
            Broadcast::new(&self.a.shape, &self.b.shape)
                .for_each(|i, ia, ib| gx[ia] += g[i] * d(ad[ia], bd[ib], y[i]));
        } else {
            Broadcast::new(&self.a.shape, &self.b.shape)
                .for_each(|i, ia, ib| gx[ib] += g[i] * d(ad[ia], bd[ib], y[i]));
        }
    }
}

/// True when `small` is `big` without its leading dimensions (a `[c]` row
/// against an `[n, c]` matrix), so `small` repeats once per row of `big`
/// viewed as `[n, c]`. Only the right-hand operand is sped up this way; other
/// broadcasts take the general path.
fn repeats_as_rows(big: &[usize], small: &[usize]) -> bool {
    small.len() < big.len() && small.iter().product::<usize>() > 0 && big.ends_with(small)
}

/// NumPy's rule: align from the right; sizes must match or one of them be 1.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Shape> {
    let rank = a.len().max(b.len());
    let mut out: Shape = smallvec![0; rank];
    for d in 0..rank {
        let da = dim_from_right(a, rank - 1 - d);
        let db = dim_from_right(b, rank - 1 - d);
        out[d] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Size of dimension `from_right` counted from the last (0 = last); 1 if missing.
fn dim_from_right(shape: &[usize], from_right: usize) -> usize {
    if from_right < shape.len() {
        shape[shape.len() - 1 - from_right]
    } else {
        1
    }
}

/// Walks the broadcast output in row-major order, yielding for each output index
/// the index it reads in each operand. A repeated dimension has stride 0, which is
/// the whole trick: reading "the same element again" is moving by 0.
pub struct Broadcast {
    out: Shape,
    stride_a: Shape,
    stride_b: Shape,
}

impl Broadcast {
    pub fn new(a: &[usize], b: &[usize]) -> Self {
        let out = broadcast_shape(a, b).expect("shapes were checked when the op was recorded");
        let stride_a = broadcast_strides(a, &out);
        let stride_b = broadcast_strides(b, &out);
        Broadcast {
            out,
            stride_a,
            stride_b,
        }
    }

    pub fn for_each(&self, mut f: impl FnMut(usize, usize, usize)) {
        let rank = self.out.len();
        if rank == 0 {
            return f(0, 0, 0);
        }
        let inner = self.out[rank - 1];
        let (inner_a, inner_b) = (self.stride_a[rank - 1], self.stride_b[rank - 1]);
        let outer: usize = self.out[..rank - 1].iter().product();
        let mut index: Shape = smallvec![0; rank - 1];
        let (mut base_a, mut base_b) = (0, 0);
        for o in 0..outer {
            for j in 0..inner {
                f(o * inner + j, base_a + j * inner_a, base_b + j * inner_b);
            }
            // Odometer step over the outer dimensions, moving both bases along.
            for d in (0..rank - 1).rev() {
                index[d] += 1;
                base_a += self.stride_a[d];
                base_b += self.stride_b[d];
                if index[d] < self.out[d] {
                    break;
                }
                base_a -= self.stride_a[d] * self.out[d];
                base_b -= self.stride_b[d] * self.out[d];
                index[d] = 0;
            }
        }
    }
}

/// Row-major strides of `shape` seen inside `out`, with 0 where it is broadcast.
fn broadcast_strides(shape: &[usize], out: &[usize]) -> Shape {
    let rank = out.len();
    let mut strides: Shape = smallvec![0; rank];
    let mut step = 1;
    for d in (0..rank).rev() {
        let from_right = rank - 1 - d;
        let size = dim_from_right(shape, from_right);
        if from_right < shape.len() && size != 1 {
            strides[d] = step;
        }
        step *= size;
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_broadcast_shapes() {
        assert_eq!(&broadcast_shape(&[3, 2], &[2]).unwrap()[..], &[3, 2]);
        assert_eq!(&broadcast_shape(&[3, 1], &[3, 4]).unwrap()[..], &[3, 4]);
        assert_eq!(&broadcast_shape(&[], &[3, 4]).unwrap()[..], &[3, 4]);
        assert_eq!(
            &broadcast_shape(&[2, 1, 3], &[4, 1]).unwrap()[..],
            &[2, 4, 3]
        );
        assert!(broadcast_shape(&[3, 2], &[3]).is_none());
    }

    #[test]
    fn column_over_columns_reads_the_right_elements() {
        let a = Tensor::<f64>::new(vec![1., 2., 3., 4., 5., 6.], &[2, 3]);
        let b = Tensor::<f64>::new(vec![10., 20.], &[2, 1]);
        let mut y = vec![0.0; 6];
        Binary::Add.forward(&a, &b, &mut y);
        assert_eq!(y, vec![11., 12., 13., 24., 25., 26.]);
    }
}
