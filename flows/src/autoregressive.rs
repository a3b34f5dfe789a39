//! The masked autoregressive flow, MAF (Papamakarios, Pavlakou & Murray 2017):
//! every dimension is transformed by a monotone map whose parameters depend
//! on the dimensions before it in a fixed order,
//!
//!   z_i = τ(x_i; θ_i(x_{<i})),
//!
//! with all the θ_i computed by one [`Made`] pass over x.
//!
//! **Affine** (the paper's MAF): θ_i = (μ_i, α_i) and
//!   z_i = (x_i − μ_i)·exp(−α_i),
//! with the log-scale soft-clamped, α = c·tanh(α̂/c) of the network output α̂,
//! for the reason given in [`Coupling`] (nflows #49).
//!
//! **Spline** (Durkan et al. 2019's autoregressive NSF): τ is the
//! rational-quadratic spline of [`crate::spline`], its 3K − 1 parameters per
//! dimension from the MADE.
//!
//! **Log-det.** z_i depends on x_j only for j = i or j before i, so ∂z/∂x,
//! with the dimensions in the autoregressive order, is lower-triangular and
//! its determinant is the product of the diagonal ∂z_i/∂x_i = τ′(x_i):
//!   log|det ∂z/∂x| = Σ_i log τ′(x_i) = −Σ_i α_i (affine).
//! One MADE pass gives the density: that is what MAF is fast at.
//!
//! **Inverse** (sampling) is sequential: x_i = τ⁻¹(z_i; θ_i(x_{<i})) needs
//! the x's before it. Start from any x (zeros) and repeat D times: run the
//! MADE on the current x and invert every τ. After pass t the first t
//! dimensions of the order are exact, since the t-th needs only the ones
//! before it; so after D passes all are. The last pass's θ depend only on the
//! first D − 1 dimensions, which were final already, so they are exactly the
//! θ that `forward` computes from the returned x, and the inverse's log-det
//! is −Σ log τ′ at that x.
//!
//! **Identity at the start.** The MADE's output layer starts at zero: μ = α = 0
//! for the affine map, and the spline's all-zero parameters are its identity.
//!
//! [`Coupling`]: crate::coupling::Coupling

use crate::conditioner::ConditionerShape;
use crate::flow::Flow;
use crate::made::Made;
use crate::spline::RationalQuadratic;
use autograd::{Float, ParamStore, Tensor, Value};
use rand::Rng;

/// The elementwise transform τ of a [`MaskedAutoregressive`] layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AutoregressiveKind {
    /// z_i = (x_i − μ_i)·exp(−α_i), α = clamp·tanh(α̂/clamp).
    Affine { clamp: f64 },
    /// z_i = g(x_i), a rational-quadratic spline.
    Spline(RationalQuadratic),
}

impl AutoregressiveKind {
    /// Parameters per dimension the MADE must produce.
    pub fn params_per_dim(&self) -> usize {
        match self {
            AutoregressiveKind::Affine { .. } => 2,
            AutoregressiveKind::Spline(spline) => spline.params_per_dim(),
        }
    }
}

/// A MAF layer (see the module docs).
#[derive(Clone, Debug)]
pub struct MaskedAutoregressive {
    pub kind: AutoregressiveKind,
    /// x ↦ θ, the parameters of every dimension's τ.
    pub made: Made,
}

impl MaskedAutoregressive {
    /// A MAF layer on `order.len()` dimensions, `x[order[0]]` first (`order`
    /// must be a permutation of 0..D). The MADE is `{prefix}.made`; its output
    /// layer starts at zero, so the layer starts as the identity map.
    pub fn new<F: Float, R: Rng + ?Sized>(
        store: &mut ParamStore<F>,
        prefix: &str,
        order: &[usize],
        kind: AutoregressiveKind,
        net: ConditionerShape,
        rng: &mut R,
    ) -> Self {
        let made = Made::new(
            store,
            &format!("{prefix}.made"),
            order,
            kind.params_per_dim(),
            net,
            rng,
        );
        made.zero_last(store);
        MaskedAutoregressive { kind, made }
    }

    /// The autoregressive order: the dimensions sorted by degree.
    pub fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.made.degrees.len()).collect();
        order.sort_by_key(|&i| self.made.degrees[i]);
        order
    }

    /// τ (or τ⁻¹) of every dimension with the parameters `theta` `[n, D·P]`,
    /// and the per-sample log-det of that direction.
    fn elementwise<F: Float, V: Value<F>>(&self, v: &V, theta: &V, inverse: bool) -> (V, V) {
        match self.kind {
            AutoregressiveKind::Affine { clamp } => {
                let shape = v.shape();
                let pairs = theta.reshape(&[shape[0] * shape[1], 2]);
                let mu = pairs.slice_cols(0, 1).reshape(&shape);
                let alpha = soft_clamp(&pairs.slice_cols(1, 1).reshape(&shape), clamp);
                let log_scale = alpha.sum_axis(1, false);
                if inverse {
                    (v.mul(&alpha.exp()).add(&mu), log_scale)
                } else {
                    (v.sub(&mu).mul(&alpha.neg().exp()), log_scale.neg())
                }
            }
            AutoregressiveKind::Spline(spline) => {
                let (out, log_slope) = if inverse {
                    spline.inverse(v, theta)
                } else {
                    spline.forward(v, theta)
                };
                (out, log_slope.sum_axis(1, false))
            }
        }
    }
}

/// c·tanh(a/c): close to a when it is small, never beyond ±c (plain tanh for
/// c = 1, which needs no scalings).
fn soft_clamp<F: Float, V: Value<F>>(a: &V, clamp: f64) -> V {
    if clamp == 1.0 {
        a.tanh()
    } else {
        let c = F::from_f64(clamp);
        a.scale(F::ONE / c).tanh().scale(c)
    }
}

impl<F: Float> Flow<F> for MaskedAutoregressive {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        let theta = self.made.forward(store, x);
        self.elementwise(x, &theta, false)
    }

    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        let mut x = z.constant(&Tensor::zeros(&z.shape()));
        let mut logdet = None;
        for _ in 0..self.made.degrees.len() {
            let theta = self.made.forward(store, &x);
            let (next, ld) = self.elementwise(z, &theta, true);
            x = next;
            logdet = Some(ld);
        }
        (x, logdet.expect("a MAF layer has at least one dimension"))
    }

    fn name(&self) -> String {
        match self.kind {
            AutoregressiveKind::Affine { .. } => "affine autoregressive".into(),
            AutoregressiveKind::Spline(_) => "spline autoregressive".into(),
        }
    }
}
