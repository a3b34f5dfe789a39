//! An invertible linear map with an LU parameterization (Glow's invertible 1×1
//! convolution, Kingma & Dhariwal 2018, applied to vectors):
//!
//!   z = x·W,   W = P·L·(U + diag(sign ⊙ exp(log s)))
//!
//! P is a fixed permutation, L unit lower-triangular, U strictly upper-triangular
//! (both trained), and the diagonal is sign·exp(log s) with fixed signs and
//! trained log s. The determinant of a triangular matrix is the product of its
//! diagonal, det P = ±1 and det L = 1, so
//!   log|det ∂z/∂x| = log|det W| = Σ log s,
//! in O(d) instead of the O(d³) of a general determinant, and the same for every
//! sample.
//!
//! **Inverse.** x = z·W⁻¹ with W⁻¹ = (U + diag)⁻¹·L⁻¹·Pᵀ: two triangular solves
//! (and a permutation), never a general matrix inverse. The inverse is computed
//! from the current parameter values, so gradients do not flow through it: the
//! flow is trained through `forward`.
//!
//! **Initialization** at a permutation: L = I, U = 0, log s = 0 and sign = +1,
//! so W = P and the layer starts as the fixed permutation it is given (the
//! model gives the identity before its first coupling and the reversal before
//! the others, see `model.rs`): the couplings take turns as with alternating
//! masks. This is the LU-linear layer of Neural Spline Flows (Durkan et al.
//! 2019: a fixed permutation followed by an LU map initialized at the
//! identity).
//!
//! **Data-dependent initialization** (like ActNorm's, but for the whole
//! covariance): before training, a map still at its start is set to whiten
//! the data it receives. With y = x·P (the permuted inputs) and Σ̂ their
//! sample covariance (Ledoit–Wolf shrunk where that is singular, as with
//! fewer rows than columns), factor the precision Σ̂⁻¹ = L·D·Lᵀ and set
//! W = P·L·D^½ (U = 0, log s = ½ log D): then Cov(x·W) = D^½·Lᵀ·Σ̂·L·D^½ = I.
//! The first map of a flow whitens the data; every later one receives white
//! data (the couplings start at the identity) and stays the permutation it
//! was given. So the untrained model *is* the full-covariance Gaussian fitted
//! to the training data (maximum likelihood, as a baseline would fit it,
//! wherever that exists), training starts from that Gaussian's score, and
//! early stopping keeps nothing the held-out data likes less; the maps then
//! learn how much more to rotate, shear and scale.
//!
//! Glow starts from a random rotation instead. For image channels, which are
//! interchangeable, that costs nothing; for coordinates it is a gamble: each
//! coupling then conditions on a random mix of the coordinates, some mixes
//! suit the data better than its own axes and some worse (y given x is a
//! Gaussian for y = sin x plus noise; a rotated sine is no such thing), and
//! with the same training the result swings from seed to seed, often below
//! the flow without LU maps. From the masks' starting point it is that flow's
//! result or better.

use crate::flow::Flow;
use crate::linalg;
use crate::stats::{covariance, shrunk_covariance};
use autograd::{Float, ParamId, ParamStore, Tensor, Value};

#[derive(Clone, Debug)]
pub struct InvertibleLinear {
    pub dim: usize,
    /// Buffer: the fixed permutation matrix P.
    pub permutation: ParamId,
    /// Trained; only the strictly lower triangle is used.
    pub lower: ParamId,
    /// Trained; only the strictly upper triangle is used.
    pub upper: ParamId,
    /// Trained: log s, the log-magnitudes of U's diagonal.
    pub log_s: ParamId,
    /// Buffer: the fixed signs of U's diagonal.
    pub sign: ParamId,
}

impl InvertibleLinear {
    /// A layer on `permutation.len()` dimensions that starts as the
    /// permutation z[:, j] = x[:, permutation[j]] (the convention of
    /// [`crate::Permutation`]): P has P[permutation[j], j] = 1, and L, U and the
    /// diagonal start at the identity's values.
    pub fn new<F: Float>(store: &mut ParamStore<F>, prefix: &str, permutation: &[usize]) -> Self {
        let d = permutation.len();
        let mut p = vec![0.0; d * d];
        for (j, &i) in permutation.iter().enumerate() {
            p[i * d + j] = 1.0;
        }
        InvertibleLinear {
            dim: d,
            permutation: store.add_buffer(
                &format!("{prefix}.permutation"),
                Tensor::from_f64(&p, &[d, d]),
            ),
            lower: store.add(&format!("{prefix}.lower"), Tensor::zeros(&[d, d])),
            upper: store.add(&format!("{prefix}.upper"), Tensor::zeros(&[d, d])),
            log_s: store.add(&format!("{prefix}.log_s"), Tensor::zeros(&[d])),
            sign: store.add_buffer(&format!("{prefix}.sign"), Tensor::full(&[d], F::ONE)),
        }
    }

    /// 0/1 masks of the strictly lower triangle and of the diagonal.
    fn masks<F: Float>(&self) -> (Tensor<F>, Tensor<F>) {
        let d = self.dim;
        let lower = (0..d * d)
            .map(|k| if k / d > k % d { F::ONE } else { F::ZERO })
            .collect();
        let eye = (0..d * d)
            .map(|k| if k / d == k % d { F::ONE } else { F::ZERO })
            .collect();
        (Tensor::new(lower, &[d, d]), Tensor::new(eye, &[d, d]))
    }

    /// W = P·L·(U + diag(sign·exp(log s))), built from ops so gradients reach L, U, log s.
    fn weight<F: Float, V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> V {
        let (lower_mask, eye) = self.masks::<F>();
        let lower_mask = x.constant(&lower_mask);
        let eye = x.constant(&eye);
        let upper_mask = lower_mask.transpose();
        let l = x.param(store, self.lower).mul(&lower_mask).add(&eye);
        let diagonal = x
            .param(store, self.log_s)
            .exp()
            .mul(&x.param(store, self.sign));
        let u = x
            .param(store, self.upper)
            .mul(&upper_mask)
            .add(&eye.mul(&diagonal));
        x.param(store, self.permutation).matmul(&l).matmul(&u)
    }

    /// W⁻¹ = (U + diag)⁻¹·L⁻¹·Pᵀ from the current values, in f64.
    pub fn inverse_weight<F: Float>(&self, store: &ParamStore<F>) -> Tensor<F> {
        let d = self.dim;
        let values = |id: ParamId| store.value(id).to_f64_vec();
        let (lower, upper, log_s, sign) = (
            values(self.lower),
            values(self.upper),
            values(self.log_s),
            values(self.sign),
        );
        let mut l = linalg::identity(d);
        let mut u = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                if i > j {
                    l[i * d + j] = lower[i * d + j];
                } else if i < j {
                    u[i * d + j] = upper[i * d + j];
                } else {
                    u[i * d + j] = sign[i] * log_s[i].exp();
                }
            }
        }
        let p_transposed = linalg::transpose(&values(self.permutation), d);
        let inverse = linalg::matmul(
            &linalg::invert_upper(&u, d),
            &linalg::matmul(&linalg::invert_lower(&l, d), &p_transposed, d),
            d,
        );
        Tensor::from_f64(&inverse, &[d, d])
    }

    /// Whether L, U and log s still hold their initial values (a map loaded
    /// from a checkpoint or already trained is never re-initialized).
    fn is_at_start<F: Float>(&self, store: &ParamStore<F>) -> bool {
        [self.lower, self.upper, self.log_s]
            .iter()
            .all(|&id| store.value(id).data().iter().all(|&v| v == F::ZERO))
    }

    /// The whitening start described in the module docs: W = P·L·D^½ with
    /// L·D·Lᵀ the precision of the permuted inputs. Leaves the layer alone if
    /// it is not at its start, has fewer than 2 inputs to learn from, or the
    /// covariance cannot be factored.
    fn whiten<F: Float>(&self, store: &mut ParamStore<F>, x: &Tensor<F>) {
        let d = self.dim;
        if x.rows() < 2 || !self.is_at_start(store) {
            return;
        }
        let p = store.value(self.permutation).to_f64_vec();
        // Cov(x·P) = Pᵀ·Σ·P, and its precision's L·D·Lᵀ.
        let factor = |covariance: Vec<f64>| {
            let permuted = linalg::matmul(
                &linalg::transpose(&p, d),
                &linalg::matmul(&covariance, &p, d),
                d,
            );
            linalg::invert_spd(&permuted, d).and_then(|precision| linalg::ldl(&precision, d))
        };
        let Some((l, diag)) = factor(covariance(x)).or_else(|| factor(shrunk_covariance(x))) else {
            return;
        };
        // `ldl` returns only positive, finite pivots: every log is finite.
        let log_s: Vec<f64> = diag.iter().map(|v| 0.5 * v.ln()).collect();
        *store.value_mut(self.lower) = Tensor::from_f64(&l, &[d, d]);
        *store.value_mut(self.log_s) = Tensor::from_f64(&log_s, &[d]);
    }
}

impl<F: Float> Flow<F> for InvertibleLinear {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let w = self.weight(store, x);
        (x.matmul(&w), x.param(store, self.log_s).sum())
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let w_inv = z.constant(&self.inverse_weight(store));
        (z.matmul(&w_inv), z.param(store, self.log_s).sum().neg())
    }

    fn initialize(&self, store: &mut ParamStore<F>, x: &Tensor<F>) {
        self.whiten(store, x);
    }

    fn name(&self) -> String {
        "LU linear".into()
    }
}
