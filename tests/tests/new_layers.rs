//! The defining properties of the piecewise and autoregressive layers —
//! rational-quadratic spline coupling, piecewise-linear coupling, MAF with an
//! affine and with a spline transform, and their MADE conditioner — checked
//! with random sizes and random, far-from-identity parameters.
//!
//! | property | tolerance |
//! |---|---|
//! | f⁻¹(f(x)) = x and f(f⁻¹(z)) = z in f64, relative to the stretch (below) | [`ROUND_TRIP_F64`] = 1e-9 |
//! | the same in f32, the store cast from the f64 one | [`ROUND_TRIP_F32`] = 1e-4 |
//! | log-det = log\|det J\| of the central-difference Jacobian | [`JACOBIAN_TOL`] = 1e-6 |
//! | the reverse-mode (tape) Jacobian is triangular, log-det = Σ log\|J_ii\| | exact zeros; [`TAPE_JACOBIAN_TOL`] = 1e-9 |
//! | inverse log-det at z = −forward log-det at f⁻¹(z) | [`INVERSE_LOG_DET_TOL`] = 1e-9 (relative) |
//! | the tape (`Var`) and plain (`Tensor`) paths agree | bit for bit |
//! | knots map onto knots, ±B included, and back | exactly (back from B: [`END_ULPS`] ulps) |
//! | the spline's log g′ is continuous at every knot and at ±B | [`CONTINUITY_TOL`] = 1e-8 |
//! | the spline's and the linear map's gradients = finite differences | [`GRAD_TOL`] = 1e-6 |
//! | MADE's and MAF's Jacobians are triangular in their order | exactly 0 above, ≠ 0 on and below |
//! | every layer starts as the identity | [`IDENTITY_TOL`] = 1e-12 |
//!
//! **Random parameters.** Every trainable parameter is redrawn after the
//! layer is built, the networks' zero-initialized output layers too:
//! matrices N(0, σ²/fan-in), vectors N(0, σ²), σ from 0.05 to 2
//! ([`randomize`]). At σ = 2 the spline's widths and heights spread over
//! several e-folds and its derivatives reach their floor; in the flattest
//! bins g′ falls below 1e-5 (and to 1e-8 with the extreme offsets below).
//! The masked entries of MADE's weights are redrawn as well: the mask must
//! act at every forward pass, not only at initialization.
//! [`extreme_parameters`] then adds ±20 to ±60 to the raw parameters, which
//! pins widths, heights and derivatives to their floors and far above them.
//!
//! **Ill-conditioning.** Where a spline is that flat, f⁻¹ stretches every
//! rounding error by up to 1/g′, and where it is steep f stretches them by
//! g′: a round trip can only come back to ε times that stretch, however
//! exact the formulas. So each round trip is measured relative to the
//! stretch of its second map, ‖(∂z/∂x)⁻¹‖∞ or ‖∂z/∂x‖∞ from the tape, where
//! that exceeds 1 (elsewhere exactly as in `flows.rs`); the inverse log-det
//! is compared with the forward's at the point the inverse returned; and the
//! central-difference Jacobian, whose rounding ε|z|/h is relative to g′ too,
//! is checked on σ up to [`CENTRAL_SIGMA`] for the spline layers, while the
//! tape's Jacobian checks the log-det at every σ and at extreme parameters.
//!
//! **Special points.** The random inputs are N(0, s²) with s from 0.5 to 3
//! against bounds B from 0.5 to 3, so many numbers fall in the tails; the
//! knot tests put numbers exactly on the current knots (built from the
//! layers' own knots), at exactly ±B, in the tails and at 0.
//!
//! **Measured margins.** Over 2000 random cases per layer
//! ([`survey_of_errors`], ignored by default) the worst errors were:
//!
//! | layer | f64 round trip | f32 | central J | tape J | inverse ld | extreme: round trip, tape J, inverse ld | back from B |
//! |---|---|---|---|---|---|---|---|
//! | spline coupling | 1.4e-15 | 6.0e-7 | 5.5e-8 | 1.6e-12 | 2.4e-13 | 9.3e-16, 2.5e-11, 1.5e-12 | 2.4 ulps |
//! | piecewise-linear coupling | 5.6e-16 | 2.4e-7 | 1.5e-8 | 3.1e-13 | 0 | 5.3e-16, 7.7e-13, 0 | 0 |
//! | affine MAF | 7.0e-16 | 2.1e-7 | 2.0e-10 | 2.7e-15 | 0 | 3.1e-16, 1.8e-15, 0 | — |
//! | spline MAF | 1.4e-15 | 4.4e-6 | 6.7e-9 | 2.5e-13 | 5.1e-14 | 1.4e-14, 3.0e-11, 5.7e-12 | 2.1 ulps |
//!
//! and, on the elementwise maps, continuity gaps 1.7e-10, gradient checks
//! 8.1e-8 (spline) and 1.4e-8 (linear), round trips on special points
//! 1.4e-15. Every tolerance has at least a ten-fold margin (the ulps, a
//! three-fold one). Unscaled by the stretch, the worst f64 round trip
//! x → f(x) → x′ was 4.8e-10 for the spline coupling but 5.9e-2 for the
//! spline MAF: at σ = 2 a flat first bin feeding the parameters of the next
//! dimensions drives ‖(∂z/∂x)⁻¹‖ beyond 1e13, and sampling from such a layer
//! is that ill-conditioned. The tape and tensor paths never differed.
//!
//! Each check is a function returning `Result`, and
//! [`a_wrong_made_mask_is_caught`] and [`a_wrong_maf_mask_is_caught`] show
//! the structure, Jacobian and round-trip checks failing on deliberately
//! broken MADE masks.

use autograd::{
    gradcheck, jacobian, log_abs_det, Float, ParamId, ParamStore, Tape, Tensor, Value, Var,
};
use flows::autoregressive::{AutoregressiveKind, MaskedAutoregressive};
use flows::made::{degree_mask, Made};
use flows::model::standard_normal;
use flows::piecewise_linear::{PiecewiseLinear, PiecewiseLinearCoupling};
use flows::spline::{Knots, RationalQuadratic, SplineCoupling};
use flows::{ConditionerShape, Flow};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use tests::{activation, check_tape_matches_tensor, per_sample, random_mask, within};

// ---------------------------------------------------------------------------
// Tolerances
// ---------------------------------------------------------------------------

/// f64 round trips, per sample: for x → f(x) → x′, max |x′ − x| over
/// max(1, |x|, |f(x)|) times max(1, ‖(∂z/∂x)⁻¹‖∞) at x, the stretch of the
/// inverse; for z → f⁻¹(z) → z′ likewise with max(1, ‖∂z/∂x‖∞) at f⁻¹(z)
/// (see the module docs). Where both stretches are at most 1 this is the
/// measure of `flows.rs`. A few roundings of ε ≈ 1.1e-16 per piece; a wrong
/// inverse (a wrong root of the quadratic, the wrong bin, a forgotten tail)
/// is off by O(1).
const ROUND_TRIP_F64: f64 = 1e-9;

/// f32 round trips, measured as in [`ROUND_TRIP_F64`], on N(0, 1) inputs:
/// the same roundings with ε ≈ 6e-8.
const ROUND_TRIP_F32: f64 = 1e-4;

/// |log-det − log|det J||, J from central differences: Richardson's
/// combination (4·J(h) − J(2h))/3 of two [`jacobian`]s with steps h and 2h,
/// h = [`STEP`]·max(1, |x|), which cancels the h² term of the truncation
/// error. Only J's diagonal enters its determinant (J is triangular), each
/// entry with truncation ~h⁴g⁽⁵⁾ (large in narrow bins, hence a small h) and
/// rounding ε|z|/h ≈ 1e-11 (relative to g′, hence not too small a step);
/// rows with a number within [`KNOT_MARGIN`]·max(1, |x|) of a knot are left
/// out, where a step would straddle the jump of the spline's second
/// derivative (or of the linear map's first). A log-det that misses a term
/// is off by O(1).
const JACOBIAN_TOL: f64 = 1e-6;

/// The step of the central differences, scaled by max(1, |x|). (A plain
/// central difference with h = 1e-6, as in `flows.rs`, was off by up to
/// 1.1e-6 on the spline layers in a survey of 1000 cases per layer; this
/// Richardson pair by 1.3e-7.)
const STEP: f64 = 1e-5;

/// See [`JACOBIAN_TOL`]: five times the reach 2h of the wider step.
const KNOT_MARGIN: f64 = 1e-4;

/// The largest σ of the central-difference checks of the spline layers:
/// beyond it the flattest bins have g′ below 1e-5, where even the rounding
/// ε|z|/h is 1e-6 of the entry (at σ = 2 the plain central difference was
/// off by 1e-4).
const CENTRAL_SIGMA: f64 = 0.75;

/// |log-det − Σ log|J_ii||/max(1, |log-det|), J by reverse mode (one sweep
/// per output) and triangular in the layer's order ([`triangular_log_det`]).
/// The engine differentiates the forward formula exactly up to rounding,
/// independently of the log-det's own formula; at a flat spot the chain
/// rule adds terms of size 1 into a derivative of size g′, so each log|J_ii|
/// is off by ~ε/g′.
const TAPE_JACOBIAN_TOL: f64 = 1e-9;

/// |ld_inverse(z) + ld_forward(f⁻¹(z))| / max(1, |ld|): the same formula at
/// the ξ the inverse found and at the ξ the forward recomputes from the x the
/// inverse returned, a few ε apart. (At f(x) against x instead, the error
/// would carry the round trip's ε/g′.)
const INVERSE_LOG_DET_TOL: f64 = 1e-9;

/// How far the inverse may return B from y = B: it solves a quadratic
/// there, not a lerp, so a few ulps of B.
const END_ULPS: f64 = 8.0;

/// |lim log g′ − log g′| at every knot k and at ±B, from either side (see
/// [`check_spline_continuity`]): the left bin's slope at its end, the right
/// bin's at its start and the tails' 1 must agree. A slope mismatch (a
/// boundary derivative that is not 1, d_k and d_{k+1} swapped) is O(1).
const CONTINUITY_TOL: f64 = 1e-8;

/// [`gradcheck`]'s mixed error on the elementwise transforms, as in
/// `gradients.rs`, with raw parameters of spread σ/4 ≤ 0.75: gradcheck's
/// fixed step of 1e-6 meets the log-derivative's curvature in narrow bins,
/// which grows with the spread (worst 1.2e-7 at spreads up to 1, 8e-7 up to
/// 1.5, in 300 cases each). A wrong derivative is off by O(1).
const GRAD_TOL: f64 = 1e-6;

/// Freshly built layers are the identity up to the rounding of their
/// formulas (the spline's d = MIN_DERIVATIVE + softplus(β) is 1 within ε).
const IDENTITY_TOL: f64 = 1e-12;

/// Random cases per property; a spline layer records about 100 small ops
/// per pass.
const CASES: u32 = 48;

/// Random cases for the central-difference checks: 2·D passes per sample.
const JACOBIAN_CASES: u32 = 32;

// ---------------------------------------------------------------------------
// The layers under test
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    SplineCoupling,
    LinearCoupling,
    AffineAutoregressive,
    SplineAutoregressive,
}

const KINDS: [Kind; 4] = [
    Kind::SplineCoupling,
    Kind::LinearCoupling,
    Kind::AffineAutoregressive,
    Kind::SplineAutoregressive,
];

#[derive(Clone, Debug)]
enum Subject {
    Spline(SplineCoupling),
    Linear(PiecewiseLinearCoupling),
    Maf(MaskedAutoregressive),
}

impl<F: Float> Flow<F> for Subject {
    fn forward<V: Value<F>>(&self, store: &ParamStore<F>, x: &V) -> (V, V) {
        match self {
            Subject::Spline(l) => l.forward(store, x),
            Subject::Linear(l) => l.forward(store, x),
            Subject::Maf(l) => l.forward(store, x),
        }
    }
    fn inverse<V: Value<F>>(&self, store: &ParamStore<F>, z: &V) -> (V, V) {
        match self {
            Subject::Spline(l) => l.inverse(store, z),
            Subject::Linear(l) => l.inverse(store, z),
            Subject::Maf(l) => l.inverse(store, z),
        }
    }
    fn name(&self) -> String {
        match self {
            Subject::Spline(l) => Flow::<F>::name(l),
            Subject::Linear(l) => Flow::<F>::name(l),
            Subject::Maf(l) => Flow::<F>::name(l),
        }
    }
}

/// One random case: sizes, a seed for everything else, the spread σ of the
/// parameters, K and B.
#[derive(Clone, Debug)]
struct Case {
    d: usize,
    n: usize,
    seed: u64,
    sigma: f64,
    bins: usize,
    bound: f64,
}

prop_compose! {
    /// D in 2..=6, batch 1..=12, σ from 0.05 to 2, K in 2..=8, B from 0.5 to 3.
    fn case()(
        d in 2usize..=6,
        n in 1usize..=12,
        seed in any::<u64>(),
        sigma in 0.05f64..2.0,
        bins in 2usize..=8,
        bound in 0.5f64..3.0,
    ) -> Case {
        Case { d, n, seed, sigma, bins, bound }
    }
}

/// A built, randomized layer with its inputs.
struct Built {
    subject: Subject,
    store: ParamStore<f64>,
    /// N(0, s²), s from 0.5 to 3: inside [−B, B] and in both tails.
    x: Tensor<f64>,
    z: Tensor<f64>,
    /// N(0, 1)
    x32: Tensor<f32>,
    z32: Tensor<f32>,
}

fn random_order<R: Rng>(d: usize, rng: &mut R) -> Vec<usize> {
    let mut order: Vec<usize> = (0..d).collect();
    order.shuffle(rng);
    order
}

/// Builds a layer of `kind` with its networks of width 8 (≥ D − 1, so MADE
/// holds every degree) and 1 or 2 hidden layers. Not randomized.
fn build_layer<R: Rng>(
    kind: Kind,
    case: &Case,
    store: &mut ParamStore<f64>,
    rng: &mut R,
    smooth: bool,
) -> Subject {
    let net = ConditionerShape {
        hidden: 8,
        depth: rng.random_range(1..=2),
        activation: activation(rng, smooth),
    };
    let spline = RationalQuadratic::new(case.bins, case.bound);
    match kind {
        Kind::SplineCoupling => {
            let mask = random_mask(case.d, rng);
            Subject::Spline(SplineCoupling::new(store, "layer", &mask, spline, net, rng))
        }
        Kind::LinearCoupling => {
            let mask = random_mask(case.d, rng);
            let linear = PiecewiseLinear::new(case.bins, case.bound);
            Subject::Linear(PiecewiseLinearCoupling::new(
                store, "layer", &mask, linear, net, rng,
            ))
        }
        Kind::AffineAutoregressive | Kind::SplineAutoregressive => {
            let order = random_order(case.d, rng);
            let transform = if kind == Kind::SplineAutoregressive {
                AutoregressiveKind::Spline(spline)
            } else {
                AutoregressiveKind::Affine {
                    clamp: rng.random_range(0.5..3.0),
                }
            };
            Subject::Maf(MaskedAutoregressive::new(
                store, "layer", &order, transform, net, rng,
            ))
        }
    }
}

/// Redraws every trainable parameter: matrices N(0, σ²/fan-in), vectors
/// N(0, σ²), so every pre-activation has a spread of about σ.
fn randomize<R: Rng>(store: &mut ParamStore<f64>, sigma: f64, rng: &mut R) {
    let ids: Vec<_> = store
        .iter()
        .filter(|(_, p)| p.trainable)
        .map(|(id, _)| id)
        .collect();
    for id in ids {
        let value = store.value(id);
        let spread = match value.shape() {
            [rows, _] => sigma / (*rows as f64).sqrt(),
            _ => sigma,
        };
        let noise = standard_normal::<f64, _>(1, value.len(), rng);
        for (v, e) in store.value_mut(id).data_mut().iter_mut().zip(noise.data()) {
            *v = spread * e;
        }
    }
}

fn build(kind: Kind, case: &Case, smooth: bool) -> Built {
    let mut rng = StdRng::seed_from_u64(case.seed);
    let mut store = ParamStore::new();
    let subject = build_layer(kind, case, &mut store, &mut rng, smooth);
    randomize(&mut store, case.sigma, &mut rng);
    let (n, d) = (case.n, case.d);
    let scale = rng.random_range(0.5..3.0);
    let x = standard_normal::<f64, _>(n, d, &mut rng).map(|v| v * scale);
    let z = standard_normal::<f64, _>(n, d, &mut rng).map(|v| v * scale);
    Built {
        subject,
        store,
        x,
        z,
        x32: standard_normal(n, d, &mut rng),
        z32: standard_normal(n, d, &mut rng),
    }
}

/// The layer's output layer (the last layer of its network or MADE): where
/// [`extreme_parameters`] puts its offsets.
fn output_bias(subject: &Subject) -> ParamId {
    match subject {
        Subject::Spline(l) => l.net.layers.last().expect("a layer").bias,
        Subject::Linear(l) => l.net.layers.last().expect("a layer").bias,
        Subject::Maf(l) => l.made.layers.last().expect("a layer").linear.bias,
    }
}

// ---------------------------------------------------------------------------
// Conditioning
// ---------------------------------------------------------------------------

/// ∂z/∂x of one sample `[1, D]` by reverse mode: one backward sweep per output.
fn tape_jacobian(flow: &Subject, store: &ParamStore<f64>, x: &Tensor<f64>) -> Tensor<f64> {
    let d = x.cols();
    let mut jac = Vec::with_capacity(d * d);
    for o in 0..d {
        let tape = Tape::new();
        let xv = tape.variable(x);
        let (z, _) = flow.forward(store, &xv);
        let pick: Vec<f64> = (0..d).map(|j| if j == o { 1.0 } else { 0.0 }).collect();
        tape.backward(z.mul(&tape.constant(&Tensor::new(pick, &[1, d]))).sum());
        jac.extend_from_slice(xv.grad().expect("x is a variable").data());
    }
    Tensor::new(jac, &[d, d])
}

/// ‖A⁻¹‖∞, the largest absolute row sum of A⁻¹, by Gauss–Jordan elimination
/// with partial pivoting; ∞ for a singular A.
fn inverse_norm(a: &Tensor<f64>) -> f64 {
    let n = a.rows();
    let mut m = a.data().to_vec();
    let mut inv: Vec<f64> = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| m[i * n + c].abs().total_cmp(&m[j * n + c].abs()))
            .expect("a non-empty range");
        if m[p * n + c] == 0.0 {
            return f64::INFINITY;
        }
        for k in 0..n {
            m.swap(p * n + k, c * n + k);
            inv.swap(p * n + k, c * n + k);
        }
        let pivot = m[c * n + c];
        for k in 0..n {
            m[c * n + k] /= pivot;
            inv[c * n + k] /= pivot;
        }
        for r in (0..n).filter(|&r| r != c) {
            let f = m[r * n + c];
            for k in 0..n {
                m[r * n + k] -= f * m[c * n + k];
                inv[r * n + k] -= f * inv[c * n + k];
            }
        }
    }
    (0..n)
        .map(|r| inv[r * n..(r + 1) * n].iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// How much the second map of each round trip stretches the first one's
/// rounding, per sample (computed in f64, whatever precision the round trip
/// runs in): max(1, ‖(∂z/∂x)⁻¹‖∞) at x for x → f(x) → x′, and
/// max(1, ‖∂z/∂x‖∞) at f⁻¹(z) for z → f⁻¹(z) → z′.
struct Stretch {
    inverse: Vec<f64>,
    forward: Vec<f64>,
}

fn stretches(flow: &Subject, store: &ParamStore<f64>, x: &Tensor<f64>, z: &Tensor<f64>) -> Stretch {
    let x_of_z = flow.inverse(store, z).0;
    let at = |t: &Tensor<f64>, i: usize| {
        tape_jacobian(flow, store, &Tensor::new(t.row(i).to_vec(), &[1, t.cols()]))
    };
    Stretch {
        inverse: (0..x.rows())
            .map(|i| inverse_norm(&at(x, i)).max(1.0))
            .collect(),
        forward: (0..z.rows())
            .map(|i| norm(&at(&x_of_z, i)).max(1.0))
            .collect(),
    }
}

/// ‖A‖∞, the largest absolute row sum.
fn norm(a: &Tensor<f64>) -> f64 {
    (0..a.rows())
        .map(|r| a.row(r).iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------
// The checks, each returning the worst error or what went wrong
// ---------------------------------------------------------------------------

/// Per row, max |end − start| over max(1, |start|, |middle|) times the row's
/// stretch; the worst row. A NaN or an infinity counts as infinitely far.
fn round_trip_error<F: Float>(
    start: &Tensor<F>,
    middle: &Tensor<F>,
    end: &Tensor<F>,
    stretch: &[f64],
) -> f64 {
    (0..start.rows())
        .map(|i| {
            let row = |t: &Tensor<F>| t.row(i).iter().map(|v| v.to_f64()).collect::<Vec<f64>>();
            let (a, m, b) = (row(start), row(middle), row(end));
            if a.iter().chain(&m).chain(&b).any(|v| !v.is_finite()) {
                return f64::INFINITY;
            }
            let scale = a.iter().chain(&m).fold(1.0f64, |s, v| s.max(v.abs()));
            let miss = a
                .iter()
                .zip(&b)
                .fold(0.0f64, |s, (a, b)| s.max((a - b).abs()));
            miss / (scale * stretch[i])
        })
        .fold(0.0, f64::max)
}

/// f⁻¹(f(x)) = x and f(f⁻¹(z)) = z, each relative to its [`Stretch`]; see
/// [`ROUND_TRIP_F64`].
fn check_round_trip<F: Float, L: Flow<F>>(
    flow: &L,
    store: &ParamStore<F>,
    x: &Tensor<F>,
    z: &Tensor<F>,
    stretch: &Stretch,
    tol: f64,
) -> Result<f64, String> {
    let fx = flow.forward(store, x).0;
    let forward_first = round_trip_error(x, &fx, &flow.inverse(store, &fx).0, &stretch.inverse);
    let inv_z = flow.inverse(store, z).0;
    let back = flow.forward(store, &inv_z).0;
    let inverse_first = round_trip_error(z, &inv_z, &back, &stretch.forward);
    let worst = forward_first.max(inverse_first);
    if within(worst, tol) {
        Ok(worst)
    } else {
        Err(format!(
            "{}: round trip error {forward_first:.3e} (inverse after forward), \
             {inverse_first:.3e} (forward after inverse), per stretch, > {tol:e}",
            flow.name()
        ))
    }
}

/// The forward log-det of every sample against log|det J| of its central
/// difference Jacobian (see [`JACOBIAN_TOL`]), leaving out rows near a knot.
fn check_log_det(
    flow: &Subject,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
    tol: f64,
) -> Result<f64, String> {
    let (n, d) = (x.rows(), x.cols());
    let logdet = per_sample(&flow.forward(store, x).1, n)?;
    let knots = knots_of(flow, store, x);
    let mut worst = 0.0f64;
    for (i, &reported) in logdet.iter().enumerate() {
        let xi = Tensor::new(x.row(i).to_vec(), &[1, d]);
        let scale = xi.data().iter().fold(1.0f64, |m, v| m.max(v.abs()));
        if knot_distance(x.row(i), &knots[i]) < KNOT_MARGIN * scale {
            continue;
        }
        let f = |v: &Tensor<f64>| flow.forward(store, v).0;
        let (fine, coarse) = (
            jacobian(f, &xi, STEP * scale),
            jacobian(f, &xi, 2.0 * STEP * scale),
        );
        let data = fine
            .data()
            .iter()
            .zip(coarse.data())
            .map(|(a, b)| (4.0 * a - b) / 3.0);
        let numeric = log_abs_det(&Tensor::new(data.collect(), fine.shape()));
        let error = (reported - numeric).abs();
        if !within(error, tol) {
            return Err(format!(
                "{}: sample {i}: log-det {reported:.10} but log|det J| = {numeric:.10} \
                 (error {error:.3e} > {tol:e})",
                Flow::<f64>::name(flow)
            ));
        }
        worst = worst.max(error);
    }
    Ok(worst)
}

/// The layer's order of the dimensions, in which its Jacobian is
/// lower-triangular: conditioning before transformed dimensions for a
/// coupling, the autoregressive order for MAF.
fn triangular_order(flow: &Subject) -> Vec<usize> {
    match flow {
        Subject::Spline(SplineCoupling { split, .. })
        | Subject::Linear(PiecewiseLinearCoupling { split, .. }) => split
            .condition
            .iter()
            .chain(split.transform.iter())
            .copied()
            .collect(),
        Subject::Maf(l) => l.order(),
    }
}

/// log|det J| of a matrix that is lower-triangular in `order`: after
/// checking that every entry above the diagonal (in that order) is exactly
/// 0, Σ log|J_ii|. Exact up to the rounding of the logs, where elimination
/// with pivoting would lose digits to the growth of large entries below
/// tiny diagonals (1e-1 against 1e-7 at extreme parameters).
fn triangular_log_det(jac: &Tensor<f64>, order: &[usize]) -> Result<f64, String> {
    for (i, &r) in order.iter().enumerate() {
        for &c in &order[i + 1..] {
            if jac.row(r)[c] != 0.0 {
                return Err(format!(
                    "∂z_{r}/∂x_{c} = {:e} above the diagonal",
                    jac.row(r)[c]
                ));
            }
        }
    }
    Ok(order.iter().map(|&i| jac.row(i)[i].abs().ln()).sum())
}

/// The forward log-det of every sample against log|det J| of the tape's
/// Jacobian (which must be triangular in the layer's order), relative to
/// max(1, |log-det|).
fn check_tape_log_det(
    flow: &Subject,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
    tol: f64,
) -> Result<f64, String> {
    let (n, d) = (x.rows(), x.cols());
    let logdet = per_sample(&flow.forward(store, x).1, n)?;
    let order = triangular_order(flow);
    let mut worst = 0.0f64;
    for (i, &reported) in logdet.iter().enumerate() {
        let xi = Tensor::new(x.row(i).to_vec(), &[1, d]);
        let exact = triangular_log_det(&tape_jacobian(flow, store, &xi), &order)?;
        let error = (reported - exact).abs() / reported.abs().max(1.0);
        if !within(error, tol) {
            return Err(format!(
                "{}: sample {i}: log-det {reported:.12} but the tape's log|det J| = {exact:.12}",
                Flow::<f64>::name(flow)
            ));
        }
        worst = worst.max(error);
    }
    Ok(worst)
}

/// The inverse's log-det at z = f(x) against minus the forward's at the
/// x′ = f⁻¹(z) it returned, relative to max(1, |ld|).
fn check_inverse_log_det<L: Flow<f64>>(
    flow: &L,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
    tol: f64,
) -> Result<f64, String> {
    let n = x.rows();
    let z = flow.forward(store, x).0;
    let (x_back, inverse) = flow.inverse(store, &z);
    let inverse = per_sample(&inverse, n)?;
    let forward = per_sample(&flow.forward(store, &x_back).1, n)?;
    let mut worst = 0.0f64;
    for (i, (f, b)) in forward.iter().zip(&inverse).enumerate() {
        let error = (f + b).abs() / f.abs().max(1.0);
        if !within(error, tol) {
            return Err(format!(
                "{}: sample {i}: inverse log-det {b:.12} but forward {f:.12} at its result",
                Flow::<f64>::name(flow)
            ));
        }
        worst = worst.max(error);
    }
    Ok(worst)
}

/// Which Jacobian entries an autoregressive map may have: output o may
/// depend on input j iff m(j) < m_out(o) (`strict`, MADE) or m(j) ≤ m_out(o)
/// (MAF, whose z_i depends on x_i itself). Checks that the forbidden entries
/// are exactly 0 and the allowed ones are not.
fn check_autoregressive(
    jac: &Tensor<f64>,
    out_degrees: &[usize],
    in_degrees: &[usize],
    strict: bool,
) -> Result<(), String> {
    for (o, &mo) in out_degrees.iter().enumerate() {
        for (j, &mj) in in_degrees.iter().enumerate() {
            let allowed = if strict { mj < mo } else { mj <= mo };
            let entry = jac.row(o)[j];
            if allowed && entry == 0.0 {
                return Err(format!(
                    "output {o} (degree {mo}) does not depend on input {j} (degree {mj})"
                ));
            }
            if !allowed && entry != 0.0 {
                return Err(format!(
                    "output {o} (degree {mo}) depends on input {j} (degree {mj}): {entry:e}"
                ));
            }
        }
    }
    Ok(())
}

fn verdict<T>(result: Result<T, String>, case: &impl std::fmt::Debug) -> Result<T, TestCaseError> {
    result.map_err(|e| TestCaseError::fail(format!("{e}\n{case:?}")))
}

// ---------------------------------------------------------------------------
// The flow properties of every layer
// ---------------------------------------------------------------------------

/// The case for the central-difference checks: σ scaled into
/// (0, [`CENTRAL_SIGMA`]] for the spline layers (see there).
fn central(kind: Kind, case: &Case) -> Case {
    match kind {
        Kind::SplineCoupling | Kind::SplineAutoregressive => Case {
            sigma: case.sigma * CENTRAL_SIGMA / 2.0,
            ..case.clone()
        },
        _ => case.clone(),
    }
}

macro_rules! every_property {
    ($($(#[$doc:meta])* $module:ident: $kind:expr;)*) => {$(
        $(#[$doc])*
        mod $module {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(CASES))]

                /// Round trips in f64 to [`ROUND_TRIP_F64`].
                #[test]
                fn round_trip_f64(case in case()) {
                    let b = build($kind, &case, false);
                    let stretch = stretches(&b.subject, &b.store, &b.x, &b.z);
                    let result = check_round_trip(&b.subject, &b.store, &b.x, &b.z, &stretch, ROUND_TRIP_F64);
                    verdict(result, &case)?;
                }

                /// The same with the store cast to f32, on N(0, 1) inputs,
                /// to [`ROUND_TRIP_F32`].
                #[test]
                fn round_trip_f32(case in case()) {
                    let b = build($kind, &case, false);
                    let stretch = stretches(&b.subject, &b.store, &b.x32.cast(), &b.z32.cast());
                    let store = b.store.cast::<f32>();
                    let result = check_round_trip(&b.subject, &store, &b.x32, &b.z32, &stretch, ROUND_TRIP_F32);
                    verdict(result, &case)?;
                }

                /// The inverse's log-det is minus the forward's at the point
                /// it returns, to [`INVERSE_LOG_DET_TOL`].
                #[test]
                fn inverse_log_det_is_minus_forward(case in case()) {
                    let b = build($kind, &case, false);
                    verdict(check_inverse_log_det(&b.subject, &b.store, &b.x, INVERSE_LOG_DET_TOL), &case)?;
                }

                /// The log-det equals log|det J| of the tape's Jacobian to
                /// [`TAPE_JACOBIAN_TOL`], at every σ.
                #[test]
                fn log_det_matches_tape_jacobian(case in case()) {
                    let b = build($kind, &case, false);
                    verdict(check_tape_log_det(&b.subject, &b.store, &b.x, TAPE_JACOBIAN_TOL), &case)?;
                }

                /// Recorded and plain, forward and inverse agree bit for bit,
                /// in f64 and in f32: the bin lookups are computed on the same
                /// values either way.
                #[test]
                fn tape_matches_tensor(case in case()) {
                    let b = build($kind, &case, false);
                    verdict(check_tape_matches_tensor(&b.subject, &b.store, &b.x), &case)?;
                    let store = b.store.cast::<f32>();
                    verdict(check_tape_matches_tensor(&b.subject, &store, &b.x32), &case)?;
                }

                /// Large offsets on the raw parameters (see
                /// [`extreme_parameters`]).
                #[test]
                fn extreme_parameters(case in case(), offset in 20.0f64..60.0) {
                    verdict(super::extreme_parameters($kind, &case, offset), &case)?;
                }
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(JACOBIAN_CASES))]

                /// The log-det equals log|det J| of the central-difference
                /// Jacobian to [`JACOBIAN_TOL`]: rows near a knot left out,
                /// smooth activations only, σ as in [`central`].
                #[test]
                fn log_det_matches_jacobian(case in case()) {
                    let b = build($kind, &central($kind, &case), true);
                    verdict(check_log_det(&b.subject, &b.store, &b.x, JACOBIAN_TOL), &case)?;
                }
            }
        }
    )*};
}

every_property! {
    /// Rational-quadratic spline coupling.
    spline_coupling: Kind::SplineCoupling;
    /// Piecewise-linear coupling.
    piecewise_linear_coupling: Kind::LinearCoupling;
    /// MAF, affine.
    affine_autoregressive: Kind::AffineAutoregressive;
    /// MAF, rational-quadratic spline.
    spline_autoregressive: Kind::SplineAutoregressive;
}

/// The case's layer with ±`offset` (signs at random) added to every bias of
/// its output layer, on top of random weights: the raw widths, heights and
/// derivatives (or μ and α̂) are then ±20 to ±60, so softmaxes put almost
/// everything in one bin, the floors [`flows::spline::MIN_BIN`] and
/// [`flows::spline::MIN_DERIVATIVE`] are reached, and derivatives of 20 to 60
/// occur.
fn build_extreme(kind: Kind, case: &Case, offset: f64) -> Built {
    let mut b = build(kind, case, false);
    let mut rng = StdRng::seed_from_u64(case.seed ^ 0x5EED);
    let bias = output_bias(&b.subject);
    for v in b.store.value_mut(bias).data_mut() {
        *v += if rng.random_bool(0.5) {
            offset
        } else {
            -offset
        };
    }
    b
}

/// At extreme parameters ([`build_extreme`]) every number stays finite and
/// the f64 round trips, the inverse log-det, the tape's Jacobian and the
/// tape-versus-tensor checks hold with their usual tolerances.
fn extreme_parameters(kind: Kind, case: &Case, offset: f64) -> Result<(), String> {
    let b = build_extreme(kind, case, offset);
    let (z, ld) = b.subject.forward(&b.store, &b.x);
    let (x, ld_back) = b.subject.inverse(&b.store, &b.z);
    let all = [z.data(), ld.data(), x.data(), ld_back.data()];
    if all.iter().any(|t| t.iter().any(|v| !v.is_finite())) {
        return Err(format!("non-finite numbers: {all:?}"));
    }
    let stretch = stretches(&b.subject, &b.store, &b.x, &b.z);
    check_round_trip(&b.subject, &b.store, &b.x, &b.z, &stretch, ROUND_TRIP_F64)?;
    check_inverse_log_det(&b.subject, &b.store, &b.x, INVERSE_LOG_DET_TOL)?;
    check_tape_log_det(&b.subject, &b.store, &b.x, TAPE_JACOBIAN_TOL)?;
    check_tape_matches_tensor(&b.subject, &b.store, &b.x)
}

// ---------------------------------------------------------------------------
// Knots, ±B and the tails
// ---------------------------------------------------------------------------

/// Per row, (column, knots) for every transformed column of x: the x-knots
/// of the map applied to that column (`ys` false) or its y-knots. Affine MAF
/// has none.
fn knots_of_side(
    subject: &Subject,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
    ys: bool,
) -> Vec<Vec<(usize, Vec<f64>)>> {
    let n = x.rows();
    let per_row = |columns: &[usize], knots: &Tensor<f64>| -> Vec<Vec<(usize, Vec<f64>)>> {
        let c = columns.len();
        (0..n)
            .map(|i| {
                (0..c)
                    .map(|j| (columns[j], knots.row(i * c + j).to_vec()))
                    .collect()
            })
            .collect()
    };
    let pick = |k: Knots<Tensor<f64>>| if ys { k.ys } else { k.xs };
    match subject {
        Subject::Spline(l) => per_row(&l.split.transform, &pick(l.knots(store, x))),
        Subject::Linear(l) => {
            let knots = if ys {
                l.y_knots(store, x)
            } else {
                l.transform.x_knots(n * l.split.transform.len())
            };
            per_row(&l.split.transform, &knots)
        }
        Subject::Maf(l) => match l.kind {
            AutoregressiveKind::Affine { .. } => vec![Vec::new(); n],
            AutoregressiveKind::Spline(spline) => {
                let all: Vec<usize> = (0..x.cols()).collect();
                let theta = l.made.forward(store, x);
                let raw = theta.reshape(&[n * x.cols(), spline.params_per_dim()]);
                per_row(&all, &pick(spline.knots(&raw)))
            }
        },
    }
}

/// The x-knots of [`knots_of_side`].
fn knots_of(
    subject: &Subject,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
) -> Vec<Vec<(usize, Vec<f64>)>> {
    knots_of_side(subject, store, x, false)
}

/// The smallest distance of a number of `row` to one of its knots.
fn knot_distance(row: &[f64], knots: &[(usize, Vec<f64>)]) -> f64 {
    knots
        .iter()
        .flat_map(|(col, ks)| ks.iter().map(move |k| (row[*col] - k).abs()))
        .fold(f64::INFINITY, f64::min)
}

/// A number [`onto_knots`] put on a knot.
#[derive(Clone, Copy, Debug)]
struct Placed {
    row: usize,
    col: usize,
    knot: usize,
    /// No number before it in the row's order sits at B (always, for a
    /// coupling). In MAF the inverse returns B only to an ulp, which then
    /// perturbs the later parameters, so the numbers after it come back only
    /// as well as the round trip's conditioning allows.
    clean: bool,
}

/// x with every transformed number moved exactly onto one of its knots
/// (knot 0 = −B and knot K = B included), chosen at random. For MAF the
/// knots of x_i depend on the x's before it, so the numbers are placed in
/// the autoregressive order.
fn onto_knots<R: Rng>(
    subject: &Subject,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
    bins: usize,
    rng: &mut R,
) -> (Tensor<f64>, Vec<Placed>) {
    let (n, d) = (x.rows(), x.cols());
    let (columns, sequential) = match subject {
        Subject::Maf(l) => (l.order(), true),
        Subject::Spline(l) => (l.split.transform.to_vec(), false),
        Subject::Linear(l) => (l.split.transform.to_vec(), false),
    };
    let mut x = x.clone();
    let mut knots = knots_of(subject, store, &x);
    let mut clean = vec![true; n];
    let mut placed = Vec::new();
    for col in columns {
        if sequential {
            knots = knots_of(subject, store, &x);
        }
        for (row, on_row) in knots.iter().enumerate() {
            let ks = &on_row.iter().find(|(c, _)| *c == col).expect("a column").1;
            let knot = rng.random_range(0..=bins);
            x.data_mut()[row * d + col] = ks[knot];
            placed.push(Placed {
                row,
                col,
                knot,
                clean: clean[row],
            });
            clean[row] &= !sequential || knot < bins;
        }
    }
    (x, placed)
}

/// On knots: the forward map takes x-knot k to y-knot k exactly (±B
/// included), the inverse takes it back exactly (from B: to [`END_ULPS`]
/// ulps; see [`Placed::clean`] for MAF), and round trips, inverse log-dets
/// and the tape hold there. Returns the worst miss of the way back, in ulps.
fn check_knots(b: &Built, case: &Case) -> Result<f64, String> {
    let mut rng = StdRng::seed_from_u64(case.seed ^ 0x4B4E);
    let (x, placed) = onto_knots(&b.subject, &b.store, &b.x, case.bins, &mut rng);
    let d = x.cols();
    let z = b.subject.forward(&b.store, &x).0;
    let ys = knots_of_side(&b.subject, &b.store, &x, true);
    let back = b.subject.inverse(&b.store, &z).0;
    let ulp = case.bound * f64::EPSILON;
    let mut worst = 0.0f64;
    for p in &placed {
        let at = p.row * d + p.col;
        let target = ys[p.row]
            .iter()
            .find(|(c, _)| *c == p.col)
            .expect("a column")
            .1[p.knot];
        let (x0, y, x1) = (x.data()[at], z.data()[at], back.data()[at]);
        let miss = if p.clean { (x1 - x0).abs() / ulp } else { 0.0 };
        worst = worst.max(miss);
        let exact = p.clean && p.knot < case.bins;
        if y != target || (exact && x1 != x0) || miss > END_ULPS {
            return Err(format!("{p:?}: x = {x0} ↦ {y} (y-knot {target}) ↦ {x1}"));
        }
    }
    let stretch = stretches(&b.subject, &b.store, &x, &z);
    check_round_trip(&b.subject, &b.store, &x, &z, &stretch, ROUND_TRIP_F64)?;
    check_inverse_log_det(&b.subject, &b.store, &x, INVERSE_LOG_DET_TOL)?;
    check_tape_matches_tensor(&b.subject, &b.store, &x)?;
    Ok(worst)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Numbers exactly on the current knots, ±B among them, for the three
    /// piecewise layers (see [`check_knots`]).
    #[test]
    fn knots_map_onto_knots(case in case()) {
        for kind in [Kind::SplineCoupling, Kind::LinearCoupling, Kind::SplineAutoregressive] {
            let b = build(kind, &case, false);
            verdict(check_knots(&b, &case), &(kind, &case))?;
        }
    }

    /// Freshly built, every layer is the identity to [`IDENTITY_TOL`], with
    /// log-det 0 to [`IDENTITY_TOL`]: the zero output layers and the
    /// softplus offset do what the docs say.
    #[test]
    fn layers_start_as_the_identity(case in case()) {
        for kind in KINDS {
            let mut rng = StdRng::seed_from_u64(case.seed);
            let mut store = ParamStore::new();
            let subject = build_layer(kind, &case, &mut store, &mut rng, false);
            let x = standard_normal::<f64, _>(case.n, case.d, &mut rng).map(|v| 2.0 * v);
            let scale = x.data().iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (out, ld) in [subject.forward(&store, &x), subject.inverse(&store, &x)] {
                let miss = out.max_abs_diff(&x) / scale;
                let ld = ld.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
                prop_assert!(miss <= IDENTITY_TOL && ld <= IDENTITY_TOL,
                    "{kind:?}: |f(x) − x| = {miss:e}, |log-det| = {ld:e}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The elementwise transforms on their own
// ---------------------------------------------------------------------------

/// A random elementwise case: [`ROWS`] numbers, each with its own raw
/// parameters N(0, σ²).
#[derive(Clone, Debug)]
struct Elementwise {
    bins: usize,
    bound: f64,
    sigma: f64,
    seed: u64,
}

prop_compose! {
    /// K in 2..=8, B from 0.5 to 3, σ from 0.05 to 3.
    fn elementwise()(
        bins in 2usize..=8,
        bound in 0.5f64..3.0,
        sigma in 0.05f64..3.0,
        seed in any::<u64>(),
    ) -> Elementwise {
        Elementwise { bins, bound, sigma, seed }
    }
}

/// Rows of the elementwise checks.
const ROWS: usize = 20;

/// Raw parameters `[ROWS, per_dim]`, N(0, σ²).
fn raw_params<R: Rng>(per_dim: usize, sigma: f64, rng: &mut R) -> Tensor<f64> {
    standard_normal::<f64, _>(ROWS, per_dim, rng).map(|v| sigma * v)
}

/// Adds ±20 to ±60 to about a third of the raw parameters.
fn make_extreme<R: Rng>(raw: &mut Tensor<f64>, rng: &mut R) {
    for v in raw.data_mut() {
        if rng.random_bool(0.3) {
            let offset = rng.random_range(20.0..60.0);
            *v += if rng.random_bool(0.5) {
                offset
            } else {
                -offset
            };
        }
    }
}

/// A point of every kind, row by row: random inside, in the tails, on a
/// knot, at ±B, and 0.
fn special_points<R: Rng>(knots: &Tensor<f64>, bound: f64, rng: &mut R) -> Tensor<f64> {
    let sign = |rng: &mut R| if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let data = (0..knots.rows())
        .map(|r| match r % 5 {
            0 => rng.random_range(-bound..bound),
            1 => sign(rng) * (bound + rng.random_range(1e-3..3.0)),
            2 => knots.row(r)[rng.random_range(0..knots.cols())],
            3 => sign(rng) * bound,
            _ => 0.0,
        })
        .collect();
    Tensor::new(data, &[knots.rows(), 1])
}

/// An elementwise transform's forward or inverse on a column `[m, 1]`.
type Map<'a> = &'a dyn Fn(&Tensor<f64>) -> (Tensor<f64>, Tensor<f64>);

/// On [`special_points`]: x → g(x) → x′ to [`ROUND_TRIP_F64`] relative to
/// the stretch max(1, 1/g′(x)), the inverse's log-det minus the forward's
/// at x′, the tails exactly the identity with log-det exactly 0. Returns
/// the worst round trip error.
fn check_elementwise(
    forward: Map,
    inverse: Map,
    points: &Tensor<f64>,
    bound: f64,
) -> Result<f64, String> {
    let (y, ld) = forward(points);
    let (back, ld_back) = inverse(&y);
    let ld_at_back = forward(&back).1;
    let mut worst = 0.0f64;
    for r in 0..points.rows() {
        let (x, y, x1) = (points.data()[r], y.data()[r], back.data()[r]);
        let (f, b, f1) = (ld.data()[r], ld_back.data()[r], ld_at_back.data()[r]);
        let scale = x.abs().max(y.abs()).max(1.0) * (-f).exp().max(1.0);
        let error = (x1 - x).abs() / scale;
        let ld_error = (f1 + b).abs() / f1.abs().max(1.0);
        if !within(error, ROUND_TRIP_F64) || !within(ld_error, INVERSE_LOG_DET_TOL) {
            return Err(format!(
                "row {r}: {x} ↦ {y} ↦ {x1}, log-dets {f}, {b} and {f1}"
            ));
        }
        if x.abs() > bound && (y != x || f != 0.0) {
            return Err(format!("row {r}: the tail maps {x} to {y}, log-det {f}"));
        }
        worst = worst.max(error);
    }
    Ok(worst)
}

/// Every row's map is increasing on a grid across [−B − 1, B + 1].
fn check_monotone(forward: Map, bound: f64, rows: usize) -> Result<(), String> {
    let steps = 64;
    let at = |j: usize| (bound + 1.0) * (2.0 * j as f64 / steps as f64 - 1.0);
    for i in 0..steps {
        let (lo, _) = forward(&Tensor::full(&[rows, 1], at(i)));
        let (hi, _) = forward(&Tensor::full(&[rows, 1], at(i + 1)));
        for r in 0..rows {
            if hi.data()[r] <= lo.data()[r] {
                return Err(format!("row {r}: g({}) ≥ g({})", at(i), at(i + 1)));
            }
        }
    }
    Ok(())
}

/// The neighbouring float of x, towards +∞ (`up`) or −∞.
fn next_float(x: f64, up: bool) -> f64 {
    if x == 0.0 {
        let tiny = f64::from_bits(1);
        return if up { tiny } else { -tiny };
    }
    let away_from_zero = (x > 0.0) == up;
    let bits = x.to_bits();
    f64::from_bits(if away_from_zero { bits + 1 } else { bits - 1 })
}

/// The one-sided limits of log g′ at every knot (±B included) against its
/// value there, to [`CONTINUITY_TOL`]: each limit extrapolated linearly from
/// one and two floats away, 2·L(k ± 1 ulp) − L(k ± 2 ulp), which removes the
/// slope of log g′ within the bin (in a narrow bin with s/d in the
/// thousands it moves by 1e-8 over one ulp) and leaves its curvature times
/// ulp², far below 1e-20. Returns the worst gap.
fn check_spline_continuity(case: &Elementwise) -> Result<f64, String> {
    let mut rng = StdRng::seed_from_u64(case.seed);
    let spline = RationalQuadratic::new(case.bins, case.bound);
    let raw = raw_params(spline.params_per_dim(), case.sigma, &mut rng);
    let xs = spline.knots(&raw).xs;
    let log_slope = |at: &[f64]| {
        spline
            .forward(&Tensor::new(at.to_vec(), &[ROWS, 1]), &raw)
            .1
    };
    let mut worst = 0.0f64;
    for j in 0..=case.bins {
        let at: Vec<f64> = (0..ROWS).map(|r| xs.row(r)[j]).collect();
        let on = log_slope(&at);
        for up in [false, true] {
            let one: Vec<f64> = at.iter().map(|&k| next_float(k, up)).collect();
            let two: Vec<f64> = one.iter().map(|&k| next_float(k, up)).collect();
            let (l1, l2) = (log_slope(&one), log_slope(&two));
            for (r, knot) in at.iter().enumerate() {
                let limit = 2.0 * l1.data()[r] - l2.data()[r];
                let gap = (limit - on.data()[r]).abs();
                if !within(gap, CONTINUITY_TOL) {
                    return Err(format!(
                        "row {r}: log g′ at knot {j} ({knot}) is {}, its limit from {} {limit}",
                        on.data()[r],
                        if up { "above" } else { "below" },
                    ));
                }
                worst = worst.max(gap);
            }
        }
    }
    Ok(worst)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// The spline on points inside, in the tails, on knots, at ±B and at 0,
    /// with moderate and with extreme raw parameters (see
    /// [`check_elementwise`]), and increasing on a grid.
    #[test]
    fn spline_on_special_points(case in elementwise(), extreme in any::<bool>()) {
        let mut rng = StdRng::seed_from_u64(case.seed);
        let spline = RationalQuadratic::new(case.bins, case.bound);
        let mut raw = raw_params(spline.params_per_dim(), case.sigma, &mut rng);
        if extreme {
            make_extreme(&mut raw, &mut rng);
        }
        let points = special_points(&spline.knots(&raw).xs, case.bound, &mut rng);
        let forward = |x: &Tensor<f64>| spline.forward(x, &raw);
        let inverse = |y: &Tensor<f64>| spline.inverse(y, &raw);
        verdict(check_elementwise(&forward, &inverse, &points, case.bound), &case)?;
        verdict(check_monotone(&forward, case.bound, ROWS), &case)?;
    }

    /// The same for the piecewise-linear map.
    #[test]
    fn piecewise_linear_on_special_points(case in elementwise(), extreme in any::<bool>()) {
        let mut rng = StdRng::seed_from_u64(case.seed);
        let linear = PiecewiseLinear::new(case.bins, case.bound);
        let mut raw = raw_params(linear.params_per_dim(), case.sigma, &mut rng);
        if extreme {
            make_extreme(&mut raw, &mut rng);
        }
        let points = special_points(&linear.x_knots(ROWS), case.bound, &mut rng);
        let forward = |x: &Tensor<f64>| linear.forward(x, &raw);
        let inverse = |y: &Tensor<f64>| linear.inverse(y, &raw);
        verdict(check_elementwise(&forward, &inverse, &points, case.bound), &case)?;
        verdict(check_monotone(&forward, case.bound, ROWS), &case)?;
    }

    /// The spline is C¹: its log g′ is continuous across every knot and
    /// across ±B, where the tails' slope 1 meets d_0 = d_K = 1 (see
    /// [`check_spline_continuity`]). Together with the Jacobian checks inside
    /// the bins, that is the matched-derivative construction at work.
    #[test]
    fn spline_slope_is_continuous_at_knots_and_bounds(case in elementwise()) {
        verdict(check_spline_continuity(&case), &case)?;
    }

    /// The piecewise-linear map's slope at a knot is the one of the bin to
    /// its right (the bin the knot starts), at B the last bin's, as the
    /// module docs say: against one-sided differences, exact up to rounding
    /// on a linear piece (step 1e-3, far below the bin widths 2B/K ≥ 0.125;
    /// rounding ε|g|/h over a slope ≥ K·MIN_BIN: below 1e-10).
    #[test]
    fn piecewise_linear_slope_at_knots(case in elementwise()) {
        let mut rng = StdRng::seed_from_u64(case.seed);
        let linear = PiecewiseLinear::new(case.bins, case.bound);
        let raw = raw_params(linear.params_per_dim(), case.sigma, &mut rng);
        let knots = linear.x_knots::<f64>(ROWS);
        for r in 0..ROWS {
            let row = Tensor::new(raw.row(r).to_vec(), &[1, raw.cols()]);
            let g = |x: f64| {
                let (y, ld) = linear.forward(&Tensor::new(vec![x], &[1, 1]), &row);
                (y.item(), ld.item())
            };
            for (j, &k) in knots.row(r).iter().enumerate() {
                let h = if j == case.bins { -1e-3 } else { 1e-3 };
                let slope = (g(k + h).0 - g(k).0) / h;
                let error = (g(k).1 - slope.ln()).abs();
                prop_assert!(error <= 1e-9, "row {r}, knot {j}: off by {error:e}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Gradients through the tape
// ---------------------------------------------------------------------------

/// Points for a gradient check: inside [−B, B] at least [`GRAD_MARGIN`] from
/// every knot, or in the tails at least that far beyond ±B, so no step of
/// the finite differences (on x or on the raw parameters, which move the
/// knots) crosses into another bin.
fn generic_points<R: Rng>(knots: &Tensor<f64>, bound: f64, rng: &mut R) -> Tensor<f64> {
    let data = (0..knots.rows())
        .map(|r| loop {
            let x = rng.random_range(-(bound + 1.0)..(bound + 1.0));
            if knots.row(r).iter().all(|k| (k - x).abs() > GRAD_MARGIN) {
                break x;
            }
        })
        .collect();
    Tensor::new(data, &[knots.rows(), 1])
}

/// See [`generic_points`]: a raw-parameter step h = 1e-6·max(1, |r|) moves
/// a knot by at most 2B·h, below 1e-4 for the parameters drawn here.
const GRAD_MARGIN: f64 = 1e-3;

/// [`gradcheck`] of the output and the log-derivative (each with its own
/// random weights) with respect to the input and the raw parameters.
fn gradcheck_elementwise<T>(
    apply: T,
    v: &Tensor<f64>,
    raw: &Tensor<f64>,
    tol: f64,
) -> Result<f64, String>
where
    T: for<'t> Fn(&Var<'t, f64>, &Var<'t, f64>) -> (Var<'t, f64>, Var<'t, f64>),
{
    gradcheck(
        |vars| {
            let (out, ld) = apply(&vars[0], &vars[1]);
            Value::concat_cols(&[&out, &ld])
        },
        &[v.clone(), raw.clone()],
        tol,
    )
    .map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// The spline's gradients with respect to its input and its raw
    /// parameters, recorded on the tape, against central differences in f64
    /// ([`gradcheck`], [`GRAD_TOL`]), forward and inverse: the bin lookup
    /// and the choice of root carry no gradient, everything else is the
    /// engine's ops.
    #[test]
    fn spline_gradients_match_finite_differences(case in elementwise()) {
        let mut rng = StdRng::seed_from_u64(case.seed);
        let spline = RationalQuadratic::new(case.bins, case.bound);
        let raw = raw_params(spline.params_per_dim(), case.sigma / 4.0, &mut rng);
        let knots = spline.knots(&raw);
        let x = generic_points(&knots.xs, case.bound, &mut rng);
        let y = generic_points(&knots.ys, case.bound, &mut rng);
        verdict(gradcheck_elementwise(|x, r| spline.forward(x, r), &x, &raw, GRAD_TOL), &case)?;
        verdict(gradcheck_elementwise(|y, r| spline.inverse(y, r), &y, &raw, GRAD_TOL), &case)?;
    }

    /// The same for the piecewise-linear map.
    #[test]
    fn piecewise_linear_gradients_match_finite_differences(case in elementwise()) {
        let mut rng = StdRng::seed_from_u64(case.seed);
        let linear = PiecewiseLinear::new(case.bins, case.bound);
        let raw = raw_params(linear.params_per_dim(), case.sigma / 4.0, &mut rng);
        let x = generic_points(&linear.x_knots(ROWS), case.bound, &mut rng);
        let y = generic_points(&linear.y_knots(&raw), case.bound, &mut rng);
        verdict(gradcheck_elementwise(|x, r| linear.forward(x, r), &x, &raw, GRAD_TOL), &case)?;
        verdict(gradcheck_elementwise(|y, r| linear.inverse(y, r), &y, &raw, GRAD_TOL), &case)?;
    }
}

// ---------------------------------------------------------------------------
// Autoregressive structure
// ---------------------------------------------------------------------------

/// A random MADE: D in 1..=7, 1 to 4 outputs per input, D − 1 to D + 2
/// hidden units (at least 1), 0 to 2 hidden layers, a random order, smooth
/// activations, weights with spread 0.5 to 1.5 (masked entries included).
fn random_made(seed: u64) -> (Made, ParamStore<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = rng.random_range(1..=7);
    let net = ConditionerShape {
        hidden: (d - 1 + rng.random_range(0..=3)).max(1),
        depth: rng.random_range(0..=2),
        activation: activation(&mut rng, true),
    };
    let mut store = ParamStore::new();
    let order = random_order(d, &mut rng);
    let p = rng.random_range(1..=4);
    let made = Made::new(&mut store, "made", &order, p, net, &mut rng);
    let sigma = rng.random_range(0.5..1.5);
    randomize(&mut store, sigma, &mut rng);
    (made, store)
}

/// MADE's outputs against its inputs at a random point: exactly 0 where
/// m(j) ≥ m_out(o), not 0 where m(j) < m_out(o). Central differences give
/// exact zeros: an input a masked weight multiplies by 0 changes no bit.
fn check_made(made: &Made, store: &ParamStore<f64>, seed: u64) -> Result<(), String> {
    let d = made.degrees.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let x = standard_normal::<f64, _>(1, d, &mut rng);
    let jac = jacobian(|v| made.forward(store, v), &x, STEP);
    check_autoregressive(&jac, &made.output_degrees(), &made.degrees, true)
}

/// MAF's ∂z/∂x at a random point inside [−0.9B, 0.9B] (in the tails a
/// spline's z_i is x_i whatever its parameters), against the degrees.
fn check_maf(
    maf: &MaskedAutoregressive,
    store: &ParamStore<f64>,
    bound: f64,
    seed: u64,
) -> Result<(), String> {
    let d = maf.made.degrees.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let inside = 0.9 * bound;
    let x = Tensor::new(
        (0..d).map(|_| rng.random_range(-inside..inside)).collect(),
        &[1, d],
    );
    let jac = jacobian(|v| maf.forward(store, v).0, &x, STEP);
    check_autoregressive(&jac, &maf.made.degrees, &maf.made.degrees, false)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// MADE's Jacobian, rows and columns by degree, is strictly
    /// lower-triangular with every allowed entry non-zero: the outputs of
    /// dimension i see every input before i and nothing else.
    #[test]
    fn made_is_autoregressive(seed in any::<u64>()) {
        let (made, store) = random_made(seed);
        verdict(check_made(&made, &store, seed), &seed)?;
    }

    /// MAF's ∂z/∂x in its order is lower-triangular: exactly 0 above the
    /// diagonal, non-zero on and below it; σ at least 0.5, so that every
    /// dependence is far above the finite differences' rounding.
    #[test]
    fn maf_jacobian_is_triangular(case in case()) {
        let case = Case { sigma: case.sigma.max(0.5), ..case };
        for kind in [Kind::AffineAutoregressive, Kind::SplineAutoregressive] {
            let b = build(kind, &case, true);
            let Subject::Maf(maf) = &b.subject else { unreachable!("a MAF") };
            verdict(check_maf(maf, &b.store, case.bound, case.seed), &case)?;
        }
    }
}

/// [`degree_mask`] off by one the other way, m(u) ≤ m(v) + 1.
fn mask_one_ahead(from: &[usize], to: &[usize]) -> Arc<[bool]> {
    let from: Vec<usize> = from.iter().map(|m| m - 1).collect();
    degree_mask(&from, to, false)
}

/// The degrees of the units feeding `made`'s output layer.
fn last_hidden(made: &Made) -> Vec<usize> {
    match made.hidden_degrees.last() {
        Some(h) => h.to_vec(),
        None => made.degrees.to_vec(),
    }
}

/// The structure check catches broken MADE masks, on 64 random MADEs: the
/// output layer compared with ≤ instead of < (each output then sees its own
/// input), and the first hidden layer compared with < instead of ≤ (the
/// outputs lose the input just before them).
#[test]
fn a_wrong_made_mask_is_caught() {
    let mut starved_cases = 0;
    for seed in 0..64u64 {
        let (made, store) = random_made(seed);
        assert!(check_made(&made, &store, seed).is_ok());
        let last = made.layers.len() - 1;
        let mut leaky = made.clone();
        leaky.layers[last].mask = degree_mask(&last_hidden(&made), &made.output_degrees(), false);
        let caught = check_made(&leaky, &store, seed).is_err();
        assert!(caught, "seed {seed}: ≤ into the outputs");
        if last > 0 && made.degrees.len() >= 2 {
            let mut starved = made.clone();
            starved.layers[0].mask = degree_mask(&made.degrees, &made.hidden_degrees[0], true);
            let caught = check_made(&starved, &store, seed).is_err();
            assert!(caught, "seed {seed}: < into a hidden layer");
            starved_cases += 1;
        }
    }
    assert!(
        starved_cases >= 16,
        "only {starved_cases} MADEs with hidden layers"
    );
}

/// Inside MAF, one slip (≤ into the outputs) keeps ∂z/∂x triangular — z_i
/// depends on x_i anyway — but θ_i now depends on x_i too, so −Σα is not
/// log|det J| and D passes no longer invert: the Jacobian and round-trip
/// checks fail. Two slips (also m(u) ≤ m(v) + 1 into the first hidden
/// layer) let z_i see the input after it, and the triangularity check fails.
#[test]
fn a_wrong_maf_mask_is_caught() {
    for seed in 0..8u64 {
        let case = Case {
            d: 4,
            n: 8,
            seed,
            sigma: 1.0,
            bins: 5,
            bound: 3.0,
        };
        let b = build(Kind::AffineAutoregressive, &case, true);
        let Subject::Maf(maf) = &b.subject else {
            unreachable!("a MAF")
        };
        assert!(check_maf(maf, &b.store, case.bound, seed).is_ok());
        let last = maf.made.layers.len() - 1;
        let mut leaky = maf.clone();
        leaky.made.layers[last].mask =
            degree_mask(&last_hidden(&maf.made), &maf.made.output_degrees(), false);
        assert!(
            check_maf(&leaky, &b.store, case.bound, seed).is_ok(),
            "still triangular"
        );
        let broken = Subject::Maf(leaky.clone());
        let stretch = stretches(&broken, &b.store, &b.x, &b.z);
        assert!(
            check_log_det(&broken, &b.store, &b.x, JACOBIAN_TOL).is_err(),
            "seed {seed}"
        );
        let round_trip = check_round_trip(&broken, &b.store, &b.x, &b.z, &stretch, ROUND_TRIP_F64);
        assert!(round_trip.is_err(), "seed {seed}");

        leaky.made.layers[0].mask = mask_one_ahead(&maf.made.degrees, &maf.made.hidden_degrees[0]);
        assert!(
            check_maf(&leaky, &b.store, case.bound, seed).is_err(),
            "seed {seed}"
        );
    }
}

// ---------------------------------------------------------------------------
// The survey behind the tolerances (ignored: run with --ignored --nocapture)
// ---------------------------------------------------------------------------

/// What [`survey_of_errors`] reports per layer.
const SURVEY_COLUMNS: [&str; 10] = [
    "f64 round trip",
    "(unscaled)",
    "f32 round trip",
    "central Jacobian",
    "tape Jacobian",
    "inverse log-det",
    "extreme: round trip",
    "extreme: tape Jacobian",
    "extreme: inverse log-det",
    "knots (ulps back)",
];

/// The worst error of every check over `SURVEY_CASES` (default 2000) random
/// cases per layer, tolerances set to ∞: the numbers in the module docs.
/// About three minutes in the dev profile. Prints the numbers; asserts only
/// that the tape and tensor paths agree.
#[test]
#[ignore]
fn survey_of_errors() {
    let cases: usize = std::env::var("SURVEY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut rng = StdRng::seed_from_u64(1);
    println!("| layer | {} |", SURVEY_COLUMNS.join(" | "));
    for kind in KINDS {
        let mut worst = [0.0f64; SURVEY_COLUMNS.len()];
        for _ in 0..cases {
            let case = Case {
                d: rng.random_range(2..=6),
                n: rng.random_range(1..=12),
                seed: rng.random(),
                sigma: rng.random_range(0.05..2.0),
                bins: rng.random_range(2..=8),
                bound: rng.random_range(0.5..3.0),
            };
            let errors = survey_case(kind, &case, rng.random_range(20.0..60.0));
            for (w, e) in worst.iter_mut().zip(errors) {
                *w = w.max(e);
            }
        }
        let worst: Vec<String> = worst.iter().map(|w| format!("{w:.1e}")).collect();
        println!("| {kind:?} | {} |", worst.join(" | "));
    }
    let mut worst = [0.0f64; 5];
    for _ in 0..cases {
        let case = Elementwise {
            bins: rng.random_range(2..=8),
            bound: rng.random_range(0.5..3.0),
            sigma: rng.random_range(0.05..3.0),
            seed: rng.random(),
        };
        let errors = survey_elementwise(&case);
        for (w, e) in worst.iter_mut().zip(errors) {
            *w = w.max(e);
        }
    }
    println!(
        "elementwise: continuity {:.1e}, spline special points {:.1e}, \
         linear special points {:.1e}, spline gradcheck {:.1e}, linear gradcheck {:.1e}",
        worst[0], worst[1], worst[2], worst[3], worst[4]
    );
}

/// One case of [`survey_of_errors`]: the [`SURVEY_COLUMNS`] (∞ for a check
/// that could not be evaluated).
fn survey_case(kind: Kind, case: &Case, offset: f64) -> [f64; SURVEY_COLUMNS.len()] {
    let inf = f64::INFINITY;
    let b = build(kind, case, false);
    let smooth = build(kind, &central(kind, case), true);
    let e = build_extreme(kind, case, offset);
    let stretch = stretches(&b.subject, &b.store, &b.x, &b.z);
    let stretch32 = stretches(&b.subject, &b.store, &b.x32.cast(), &b.z32.cast());
    let extreme_stretch = stretches(&e.subject, &e.store, &e.x, &e.z);
    let unscaled = Stretch {
        inverse: vec![1.0; case.n],
        forward: vec![1.0; case.n],
    };
    let store32 = b.store.cast::<f32>();
    let errors = [
        check_round_trip(&b.subject, &b.store, &b.x, &b.z, &stretch, inf),
        check_round_trip(&b.subject, &b.store, &b.x, &b.z, &unscaled, inf),
        check_round_trip(&b.subject, &store32, &b.x32, &b.z32, &stretch32, inf),
        check_log_det(&smooth.subject, &smooth.store, &smooth.x, inf),
        check_tape_log_det(&b.subject, &b.store, &b.x, inf),
        check_inverse_log_det(&b.subject, &b.store, &b.x, inf),
        check_round_trip(&e.subject, &e.store, &e.x, &e.z, &extreme_stretch, inf),
        check_tape_log_det(&e.subject, &e.store, &e.x, inf),
        check_inverse_log_det(&e.subject, &e.store, &e.x, inf),
        match kind {
            Kind::AffineAutoregressive => Ok(0.0),
            _ => check_knots(&b, case),
        },
    ];
    assert!(check_tape_matches_tensor(&b.subject, &b.store, &b.x).is_ok());
    assert!(check_tape_matches_tensor(&e.subject, &e.store, &e.x).is_ok());
    errors.map(|e| e.unwrap_or(inf))
}

/// One case of the elementwise part of [`survey_of_errors`]: the spline's
/// continuity gap, the round trips on special points of both maps (with
/// extreme parameters half of the time), and their gradient checks.
fn survey_elementwise(case: &Elementwise) -> [f64; 5] {
    let inf = f64::INFINITY;
    let mut r = StdRng::seed_from_u64(case.seed);
    let spline = RationalQuadratic::new(case.bins, case.bound);
    let linear = PiecewiseLinear::new(case.bins, case.bound);
    let mut raw = raw_params(spline.params_per_dim(), case.sigma, &mut r);
    let mut raw_linear = raw_params(linear.params_per_dim(), case.sigma, &mut r);
    let (gentle, gentle_linear) = (raw.map(|v| v / 4.0), raw_linear.map(|v| v / 4.0));
    if r.random_bool(0.5) {
        make_extreme(&mut raw, &mut r);
        make_extreme(&mut raw_linear, &mut r);
    }
    let points = special_points(&spline.knots(&raw).xs, case.bound, &mut r);
    let linear_points = special_points(&linear.x_knots(ROWS), case.bound, &mut r);
    let knots = spline.knots(&gentle);
    let x = generic_points(&knots.xs, case.bound, &mut r);
    let y = generic_points(&knots.ys, case.bound, &mut r);
    let xl = generic_points(&linear.x_knots(ROWS), case.bound, &mut r);
    let yl = generic_points(&linear.y_knots(&gentle_linear), case.bound, &mut r);
    let worst = |result: Result<f64, String>| result.unwrap_or(inf);
    [
        worst(check_spline_continuity(case)),
        worst(check_elementwise(
            &|x| spline.forward(x, &raw),
            &|y| spline.inverse(y, &raw),
            &points,
            case.bound,
        )),
        worst(check_elementwise(
            &|x| linear.forward(x, &raw_linear),
            &|y| linear.inverse(y, &raw_linear),
            &linear_points,
            case.bound,
        )),
        worst(gradcheck_elementwise(
            |x, r| spline.forward(x, r),
            &x,
            &gentle,
            inf,
        ))
        .max(worst(gradcheck_elementwise(
            |y, r| spline.inverse(y, r),
            &y,
            &gentle,
            inf,
        ))),
        worst(gradcheck_elementwise(
            |x, r| linear.forward(x, r),
            &xl,
            &gentle_linear,
            inf,
        ))
        .max(worst(gradcheck_elementwise(
            |y, r| linear.inverse(y, r),
            &yl,
            &gentle_linear,
            inf,
        ))),
    ]
}

/// The spline kinds assembled by [`flows::FlowModel`] with every mixing
/// (ActNorm, permutations, LU maps around the layers): for each point, the
/// model's log-det equals log|det| of the central-difference Jacobian of its
/// forward map (to 1e-6), and the inverse undoes the forward (to 1e-9). The
/// parameters are perturbed with a moderate spread (sd 0.4/√fan-in),
/// so the maps are far from the identity but their bins stay well
/// conditioned; the layers' own tests above go to extreme parameters.
#[test]
fn spline_models_assemble_correctly() {
    use autograd::{jacobian, log_abs_det, ParamStore};
    use flows::{FlowConfig, FlowKind, FlowModel, Mixing, Named};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for kind in [
        FlowKind::Spline,
        FlowKind::PiecewiseLinear,
        FlowKind::MafSpline,
    ] {
        for &mixing in Mixing::ALL {
            let config = FlowConfig {
                kind,
                mixing,
                layers: 3,
                hidden: 6,
                depth: 1,
                bins: 5,
                bound: 2.5,
                ..FlowConfig::new(3)
            };
            let mut store = ParamStore::<f64>::new();
            let model = FlowModel::new(config, &mut store).unwrap();
            let data: Vec<f64> = (0..3 * 64).map(|_| rng.random_range(-2.0..2.0)).collect();
            let x = autograd::Tensor::new(data, &[64, 3]);
            model.fit_initialization(&mut store, &x).unwrap();
            let ids: Vec<_> = store
                .iter()
                .filter(|(_, p)| p.trainable)
                .map(|(id, _)| id)
                .collect();
            for id in ids {
                let fan_in = store.value(id).shape().first().copied().unwrap_or(1).max(1);
                // Uniform on ±√3·s has the spread s = 0.4/√fan-in.
                let half_width = 3f64.sqrt() * 0.4 / (fan_in as f64).sqrt();
                for v in store.value_mut(id).data_mut() {
                    *v += rng.random_range(-half_width..half_width);
                }
            }
            let (z, logdet) = model.forward(&store, &x);
            let (back, _) = model.inverse(&store, &z);
            let worst = back.max_abs_diff(&x);
            assert!(
                worst < 1e-9,
                "{} {}: round trip {worst:e}",
                kind.name(),
                mixing.name()
            );
            for i in 0..8 {
                let row = autograd::Tensor::new(x.row(i).to_vec(), &[1, 3]);
                let f = |p: &autograd::Tensor<f64>| {
                    model.forward(&store, &p.reshape(&[1, 3])).0.reshape(&[3])
                };
                let expected = log_abs_det(&jacobian(f, &row.reshape(&[3]), 1e-5));
                let got = logdet.data()[i];
                assert!(
                    (got - expected).abs() < 1e-6 * expected.abs().max(1.0),
                    "{} {}: row {i}: log-det {got} vs {expected}",
                    kind.name(),
                    mixing.name()
                );
            }
        }
    }
}
