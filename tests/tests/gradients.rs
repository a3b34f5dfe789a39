//! Every op's derivative, checked against finite differences on random inputs.
//!
//! Each property below says: for random shapes and random values, the gradient the
//! reverse sweep computes equals the central difference (f(x + h) − f(x − h)) / 2h,
//! element by element, to within [`TOL`] in the mixed error |a − n| / max(1, |a|, |n|).
//!
//! **Why `TOL` = 1e-6.** Checks run in f64 with h = 1e-6·max(1, |x|). The central
//! difference has a truncation error of about h²·|f‴|/6 ≈ 1e-12·|f‴| and a rounding
//! error of about ε·|f|/h ≈ 1e-16·|f|/1e-6 = 1e-10·|f|. On the inputs used here (values
//! of order 1–50, no poles closer than 1e-2) both stay below ~1e-8, so 1e-6 leaves a
//! wide margin against false alarms. A wrong derivative — a missing factor, a sign,
//! a transposed or misplaced element — is off by O(1) relative, and even the 1 %
//! mistake of [`a_wrong_derivative_is_caught`] is four orders of magnitude above `TOL`.
//!
//! When an op returns more than one number, `gradcheck` contracts it with fixed
//! pseudo-random weights, so the vector-Jacobian product is tested with a cotangent
//! that has no symmetry to hide behind (see [`weighting_the_output_exposes_a_permutation`]).
//!
//! Each case runs one backward sweep and two forward evaluations per input element
//! on tensors of at most 50 numbers, so [`CASES`] = 256 (proptest's default) per
//! property keeps the whole file near one second in the dev profile.

use autograd::{gradcheck, numel, Activation, Tape, Tensor, Value, Var};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::cell::Cell;
use std::sync::Arc;

/// The tolerance of every check in this file (the reason is in the module docs).
const TOL: f64 = 1e-6;

/// Random cases per property.
const CASES: u32 = 256;

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// Runs [`gradcheck`] and turns a disagreement into a proptest failure that shows
/// where it happened and on which inputs.
fn check<Fun>(f: Fun, inputs: &[Tensor<f64>]) -> Result<(), TestCaseError>
where
    Fun: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    match gradcheck(f, inputs, TOL) {
        Ok(_) => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!("{e}\ninputs: {inputs:?}"))),
    }
}

/// A tensor of `shape` whose elements are drawn from `element`.
fn tensor<S>(shape: Vec<usize>, element: S) -> impl Strategy<Value = Tensor<f64>>
where
    S: Strategy<Value = f64>,
{
    vec(element, numel(&shape)).prop_map(move |data| Tensor::new(data, &shape))
}

/// Shapes of rank 0 to 3: `[]`, `[d]`, `[r, c]` with sizes 1..=5, `[a, b, c]` with 1..=3.
fn any_shape() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        Just(vec![]),
        vec(1usize..=5, 1),
        vec(1usize..=5, 2),
        vec(1usize..=3, 3),
    ]
}

/// A tensor of any shape ([`any_shape`]) with elements from `element`.
fn shaped<S>(element: S) -> impl Strategy<Value = Tensor<f64>>
where
    S: Strategy<Value = f64> + Clone,
{
    any_shape().prop_flat_map(move |shape| tensor(shape, element.clone()))
}

/// A `[rows, cols]` matrix, rows and cols in 1..=5, with elements from `element`.
fn matrix<S>(element: S) -> impl Strategy<Value = Tensor<f64>>
where
    S: Strategy<Value = f64> + Clone,
{
    (1usize..=5, 1usize..=5).prop_flat_map(move |(r, c)| tensor(vec![r, c], element.clone()))
}

/// Moderate values, where every smooth op is well conditioned.
fn moderate() -> std::ops::Range<f64> {
    -2.0..2.0
}

/// Values with |x| in [min, 2], of either sign.
fn away_from_zero(min: f64) -> impl Strategy<Value = f64> + Clone {
    (any::<bool>(), min..2.0).prop_map(|(negative, m)| if negative { -m } else { m })
}

/// Mostly moderate values, some around ±30 where sigmoid and softplus saturate.
fn with_saturation() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![-3.0..3.0, 25.0..35.0, -35.0..-25.0]
}

// ---------------------------------------------------------------------------
// Binary ops and broadcasting
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
}

fn binary<'t>(op: BinaryOp, a: &Var<'t, f64>, b: &Var<'t, f64>) -> Var<'t, f64> {
    match op {
        BinaryOp::Add => a.add(b),
        BinaryOp::Sub => a.sub(b),
        BinaryOp::Mul => a.mul(b),
        BinaryOp::Div => a.div(b),
    }
}

/// Every broadcasting layout of `a op b` with an `[n, d]` result: equal shapes, a
/// row, a column and a scalar on the right, the same three on the left, and a
/// column against a row (both operands repeated). Then two of rank 3: a matrix
/// repeated over a leading axis of 2, on the right and on the left.
fn layouts(n: usize, d: usize) -> [(&'static str, Vec<usize>, Vec<usize>); 10] {
    [
        ("[N, D] op [N, D]", vec![n, d], vec![n, d]),
        ("[N, D] op [D]", vec![n, d], vec![d]),
        ("[N, D] op [N, 1]", vec![n, d], vec![n, 1]),
        ("[N, D] op []", vec![n, d], vec![]),
        ("[D] op [N, D]", vec![d], vec![n, d]),
        ("[N, 1] op [N, D]", vec![n, 1], vec![n, d]),
        ("[] op [N, D]", vec![], vec![n, d]),
        ("[N, 1] op [D]", vec![n, 1], vec![d]),
        ("[2, N, D] op [N, D]", vec![2, n, d], vec![n, d]),
        ("[N, D] op [2, N, D]", vec![n, d], vec![2, n, d]),
    ]
}

/// Checks `a op b` in every layout of [`layouts`], taking each operand's numbers
/// from the front of `a` and `b` (each holds 2·n·d numbers).
fn check_binary(
    op: BinaryOp,
    n: usize,
    d: usize,
    a: &[f64],
    b: &[f64],
) -> Result<(), TestCaseError> {
    for (layout, sa, sb) in layouts(n, d) {
        let x = Tensor::new(a[..numel(&sa)].to_vec(), &sa);
        let y = Tensor::new(b[..numel(&sb)].to_vec(), &sb);
        check(|v| binary(op, &v[0], &v[1]), &[x, y])
            .map_err(|e| TestCaseError::fail(format!("{op:?} in layout {layout}: {e}")))?;
    }
    Ok(())
}

/// n, d in 1..=5 and 2·n·d numbers for each operand (`b`'s from `b_element`).
fn binary_case<S>(b_element: S) -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>)>
where
    S: Strategy<Value = f64> + Clone,
{
    (1usize..=5, 1usize..=5).prop_flat_map(move |(n, d)| {
        (
            Just(n),
            Just(d),
            vec(moderate(), 2 * n * d),
            vec(b_element.clone(), 2 * n * d),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// add in every broadcasting layout: ḡa = Σ_broadcast ḡy, ḡb = Σ_broadcast ḡy.
    /// Tolerance `TOL`: the function is linear, so only rounding (~1e-10) remains.
    #[test]
    fn add_broadcasts((n, d, a, b) in binary_case(moderate())) {
        check_binary(BinaryOp::Add, n, d, &a, &b)?;
    }

    /// sub in every broadcasting layout: ḡa = Σ_broadcast ḡy, ḡb = −Σ_broadcast ḡy.
    /// Tolerance `TOL`: linear, rounding only.
    #[test]
    fn sub_broadcasts((n, d, a, b) in binary_case(moderate())) {
        check_binary(BinaryOp::Sub, n, d, &a, &b)?;
    }

    /// mul in every broadcasting layout: ḡa = Σ_broadcast ḡy ⊙ b, ḡb = Σ_broadcast ḡy ⊙ a.
    /// Tolerance `TOL`: bilinear, so central differences are exact up to rounding.
    #[test]
    fn mul_broadcasts((n, d, a, b) in binary_case(moderate())) {
        check_binary(BinaryOp::Mul, n, d, &a, &b)?;
    }

    /// div in every broadcasting layout: ḡa = Σ_broadcast ḡy / b,
    /// ḡb = −Σ_broadcast ḡy ⊙ a / b². Denominators have |b| ≥ 0.5, so the
    /// truncation error h²·|∂³(a/b)| ≲ 1e-12·100 stays far below `TOL`.
    #[test]
    fn div_broadcasts((n, d, a, b) in binary_case(away_from_zero(0.5))) {
        check_binary(BinaryOp::Div, n, d, &a, &b)?;
    }
}

// ---------------------------------------------------------------------------
// Element-wise ops
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// neg: ∂(−x)/∂x = −1, on any shape. Tolerance `TOL` (linear: rounding only).
    #[test]
    fn neg(x in shaped(moderate())) {
        check(|v| v[0].neg(), &[x])?;
    }

    /// exp: ∂eˣ/∂x = eˣ, x in [−3, 3]. Tolerance `TOL`: |f‴| ≤ e³ ≈ 20, so the
    /// truncation error is ~1e-11.
    #[test]
    fn exp(x in shaped(-3.0..3.0)) {
        check(|v| v[0].exp(), &[x])?;
    }

    /// log: ∂ln x/∂x = 1/x, x in [0.01, 4] (positive). Tolerance `TOL`: near the
    /// smallest x, |f‴| = 2/x³ = 2e6 gives a truncation error ~3e-7 on a derivative
    /// of 100, a mixed error ~3e-9.
    #[test]
    fn log(x in shaped(0.01..4.0)) {
        check(|v| v[0].log(), &[x])?;
    }

    /// tanh: ∂tanh x/∂x = 1 − tanh²x, x in [−3, 3]. Tolerance `TOL`.
    #[test]
    fn tanh(x in shaped(-3.0..3.0)) {
        check(|v| v[0].tanh(), &[x])?;
    }

    /// relu: ∂max(x, 0)/∂x = [x > 0]. Inputs keep |x| ≥ 1e-3, far more than the
    /// finite-difference step h = 1e-6: a difference straddling the kink at 0 would
    /// see a slope of ½ that no derivative rule can match, so we stay off it.
    /// Tolerance `TOL` (piecewise linear: rounding only).
    #[test]
    fn relu(x in shaped(away_from_zero(1e-3))) {
        check(|v| v[0].relu(), &[x])?;
    }

    /// abs: ∂|x|/∂x = sign x. As for relu, |x| ≥ 1e-3 ≫ h keeps the finite
    /// difference off the kink at 0. Tolerance `TOL` (rounding only).
    #[test]
    fn abs(x in shaped(away_from_zero(1e-3))) {
        check(|v| v[0].abs(), &[x])?;
    }

    /// sigmoid: ∂σ(x)/∂x = σ(x)(1 − σ(x)), including saturated inputs near ±30
    /// (where the derivative is ~1e-13 and must not become NaN). Tolerance `TOL`.
    #[test]
    fn sigmoid(x in shaped(with_saturation())) {
        check(|v| v[0].sigmoid(), &[x])?;
    }

    /// softplus: ∂ln(1 + eˣ)/∂x = σ(x), including x near ±30, where a naive
    /// ln(1 + eˣ) loses everything to rounding. Tolerance `TOL`: at |x| = 30,
    /// h = 3e-5 and the rounding error ε·30/h is ~1e-10.
    #[test]
    fn softplus(x in shaped(with_saturation())) {
        check(|v| v[0].softplus(), &[x])?;
    }

    /// square: ∂x²/∂x = 2x. Tolerance `TOL` (a quadratic: central differences are exact
    /// up to rounding).
    #[test]
    fn square(x in shaped(moderate())) {
        check(|v| v[0].square(), &[x])?;
    }

    /// sin: ∂sin x/∂x = cos x, and cos: ∂cos x/∂x = −sin x, over a few periods.
    /// Tolerance `TOL`: |f‴| ≤ 1, so the truncation error is ~h²/6.
    #[test]
    fn sin_and_cos(x in shaped(-10.0..10.0)) {
        check(|v| v[0].sin(), std::slice::from_ref(&x))?;
        check(|v| v[0].cos(), &[x])?;
    }

    /// sqrt: ∂√x/∂x = 1/(2√x), x in [0.01, 4] (positive). Tolerance `TOL`: the
    /// truncation error at x = 0.01 is ~6e-9 on a derivative of 5.
    #[test]
    fn sqrt(x in shaped(0.01..4.0)) {
        check(|v| v[0].sqrt(), &[x])?;
    }

    /// powi, n ≥ 0: ∂xⁿ/∂x = n·xⁿ⁻¹ for n in 0..=4 and any x in [−2, 2], some
    /// exactly 0 (where x⁰ must still have slope 0, not 0·0⁻¹ = NaN). Tolerance
    /// `TOL`: a polynomial of degree ≤ 4 has |f‴| ≤ 24·2, truncation ~1e-11.
    #[test]
    fn powi_nonnegative(n in 0i32..=4, x in shaped(prop_oneof![4 => moderate(), 1 => Just(0.0)])) {
        check(|v| v[0].powi(n), &[x])?;
    }

    /// powi, n < 0: ∂xⁿ/∂x = n·xⁿ⁻¹ for n in −3..=−1, with |x| ≥ 0.5 to stay away
    /// from the pole at 0 (where xⁿ and its derivatives blow up and the finite
    /// difference would be inaccurate, not the derivative). Tolerance `TOL`: at
    /// |x| = 0.5, n = −3, |f‴| = 60/x⁶ ≈ 4e3 gives a truncation error ~1e-9.
    #[test]
    fn powi_negative(n in -3i32..=-1, x in shaped(away_from_zero(0.5))) {
        check(|v| v[0].powi(n), &[x])?;
    }

    /// scale: ∂(c·x)/∂x = c, for random c in [−3, 3]. Tolerance `TOL` (linear).
    #[test]
    fn scale(c in -3.0..3.0f64, x in shaped(moderate())) {
        check(|v| v[0].scale(c), &[x])?;
    }

    /// shift: ∂(x + c)/∂x = 1, for random c in [−3, 3]. Tolerance `TOL` (linear).
    #[test]
    fn shift(c in -3.0..3.0f64, x in shaped(moderate())) {
        check(|v| v[0].shift(c), &[x])?;
    }
}

/// x⁰ = 1 is constant, so its gradient is 0 everywhere, including at x = 0 where
/// the rule n·xⁿ⁻¹ reads 0·0⁻¹ = 0·∞ = NaN (and a NaN gradient poisons every
/// parameter it reaches). Exact comparison: the answer is the number 0.
#[test]
fn powi_zero_has_zero_gradient_at_zero() {
    let tape = Tape::<f64>::new();
    let x = tape.variable(&Tensor::new(vec![0.0, 1.5, -2.0], &[3]));
    tape.backward(x.powi(0).sum());
    assert_eq!(x.grad().unwrap().data(), &[0.0, 0.0, 0.0]);
}

// ---------------------------------------------------------------------------
// Matrix product and reductions
// ---------------------------------------------------------------------------

/// An `[m, k]` and a `[k, n]` matrix with m, k, n in 1..=5 (mostly the
/// thin-shape loop of matmul).
fn matmul_case() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    (1usize..=5, 1usize..=5, 1usize..=5).prop_flat_map(|(m, k, n)| {
        (
            tensor(vec![m, k], moderate()),
            tensor(vec![k, n], moderate()),
        )
    })
}

/// An `[m, k]` and a `[k, n]` matrix with every dimension above
/// `autograd::ops::matmul::THIN`, so the product goes through gemm (with its
/// strided transposes and β = 1 accumulation) rather than the thin-shape loop.
fn gemm_case() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    let dim = autograd::ops::matmul::THIN + 1..=autograd::ops::matmul::THIN + 8;
    (dim.clone(), dim.clone(), dim).prop_flat_map(|(m, k, n)| {
        (
            tensor(vec![m, k], moderate()),
            tensor(vec![k, n], moderate()),
        )
    })
}

/// A tensor of rank 2 or 3 and an axis of it.
fn axis_case<S>(element: S) -> impl Strategy<Value = (Tensor<f64>, usize)>
where
    S: Strategy<Value = f64> + Clone,
{
    prop_oneof![vec(1usize..=5, 2), vec(1usize..=3, 3)].prop_flat_map(move |shape| {
        let rank = shape.len();
        (tensor(shape, element.clone()), 0..rank)
    })
}

/// Values for log-sum-exp: moderate ones mixed with some near ±50. A fibre holding
/// both 50 and −50 has softmax weights down to e⁻¹⁰⁰, and the max-shift that keeps
/// the forward from overflowing must leave the derivative exp(x − y) intact.
fn lse_element() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![3 => -3.0..3.0, 1 => 45.0..55.0, 1 => -55.0..-45.0]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// matmul: ḡA = ḡC·Bᵀ and ḡB = Aᵀ·ḡC for random m, k, n. Tolerance `TOL`
    /// (bilinear: rounding only).
    #[test]
    fn matmul((a, b) in matmul_case()) {
        check(|v| v[0].matmul(&v[1]), &[a, b])?;
    }

    /// matmul through gemm (all dimensions above the thin-shape cut-off): the
    /// same identities, checked on the other code path. Tolerance `TOL`.
    #[test]
    fn matmul_through_gemm((a, b) in gemm_case()) {
        check(|v| v[0].matmul(&v[1]), &[a, b])?;
    }

    /// sum: ∂(Σx)/∂xᵢ = 1, on any shape. Tolerance `TOL` (linear).
    #[test]
    fn sum(x in shaped(moderate())) {
        check(|v| v[0].sum(), &[x])?;
    }

    /// mean: ∂(Σx/n)/∂xᵢ = 1/n, on any shape. Tolerance `TOL` (linear).
    #[test]
    fn mean(x in shaped(moderate())) {
        check(|v| v[0].mean(), &[x])?;
    }

    /// sum_axis along every axis of a rank-2 or rank-3 tensor, with and without
    /// keepdim: each element gets its fibre's gradient. Tolerance `TOL` (linear).
    #[test]
    fn sum_axis((x, axis) in axis_case(moderate()), keepdim in any::<bool>()) {
        check(|v| v[0].sum_axis(axis, keepdim), &[x])?;
    }

    /// mean_axis along every axis, with and without keepdim: each element gets its
    /// fibre's gradient divided by the fibre's length. Tolerance `TOL` (linear).
    #[test]
    fn mean_axis((x, axis) in axis_case(moderate()), keepdim in any::<bool>()) {
        check(|v| v[0].mean_axis(axis, keepdim), &[x])?;
    }

    /// logsumexp along every axis, with and without keepdim, including values near
    /// ±50: ∂/∂xⱼ = exp(xⱼ − y), the softmax of the fibre. Tolerance `TOL`: at
    /// |x| = 50, h = 5e-5 and the rounding error ε·50/h is ~1e-10.
    #[test]
    fn logsumexp((x, axis) in axis_case(lse_element()), keepdim in any::<bool>()) {
        check(|v| v[0].logsumexp(axis, keepdim), &[x])?;
    }
}

// ---------------------------------------------------------------------------
// Moving numbers: columns, reshape, transpose
// ---------------------------------------------------------------------------

/// Rows and 2 or 3 column counts, and the matrices `[rows, cᵢ]`.
fn concat_case() -> impl Strategy<Value = Vec<Tensor<f64>>> {
    (1usize..=5, vec(1usize..=4, 2..=3)).prop_flat_map(|(rows, widths)| {
        widths
            .into_iter()
            .map(|c| tensor(vec![rows, c], moderate()))
            .collect::<Vec<_>>()
    })
}

/// A matrix and a column range `start..start + len` inside it (len ≥ 1).
fn slice_case() -> impl Strategy<Value = (Tensor<f64>, usize, usize)> {
    (1usize..=5, 1usize..=5)
        .prop_flat_map(|(r, c)| (tensor(vec![r, c], moderate()), 0..c))
        .prop_flat_map(|(x, start)| {
            let c = x.cols();
            (Just(x), Just(start), 1..=c - start)
        })
}

/// A matrix and widths of consecutive column blocks covering all its columns.
fn split_case() -> impl Strategy<Value = (Tensor<f64>, Vec<usize>)> {
    matrix(moderate()).prop_flat_map(|x| {
        let c = x.cols();
        // Cut points: a random subset of 1..c, so the widths sum to c.
        (Just(x), vec(any::<bool>(), c - 1)).prop_map(move |(x, cuts)| {
            let mut widths = vec![];
            let mut start = 0;
            for (i, &cut) in cuts.iter().enumerate() {
                if cut {
                    widths.push(i + 1 - start);
                    start = i + 1;
                }
            }
            widths.push(c - start);
            (x, widths)
        })
    })
}

/// A matrix and a list of column indices into it with at least one repeat (the
/// first index is appended again), so the scatter-add backward must add.
fn gather_case() -> impl Strategy<Value = (Tensor<f64>, Vec<usize>)> {
    matrix(moderate()).prop_flat_map(|x| {
        let c = x.cols();
        (Just(x), vec(0..c, 1..=6)).prop_map(|(x, mut idx)| {
            idx.push(idx[0]);
            (x, idx)
        })
    })
}

/// A matrix and another shape with the same number of elements.
fn reshape_case() -> impl Strategy<Value = (Tensor<f64>, Vec<usize>)> {
    matrix(moderate()).prop_flat_map(|x| {
        let (r, c) = (x.rows(), x.cols());
        let shapes = vec![vec![c, r], vec![r * c], vec![1, r * c], vec![r, 1, c]];
        (Just(x), proptest::sample::select(shapes))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// concat_cols of 2 and 3 parts: each part gets back the columns it filled.
    /// Tolerance `TOL` (linear).
    #[test]
    fn concat_cols(parts in concat_case()) {
        check(|v| Value::concat_cols(&v.iter().collect::<Vec<_>>()), &parts)?;
    }

    /// slice_cols: ḡx[:, start..start + len] = ḡy, zero elsewhere. Tolerance `TOL`.
    #[test]
    fn slice_cols((x, start, len) in slice_case()) {
        check(|v| v[0].slice_cols(start, len), &[x])?;
    }

    /// split_cols: the parts, put back together in reverse order, have the gradient
    /// of a column permutation (a wrong offset would move a gradient). Tolerance `TOL`.
    #[test]
    fn split_cols((x, widths) in split_case()) {
        check(
            |v| {
                let parts = v[0].split_cols(&widths);
                let reversed: Vec<_> = parts.iter().rev().collect();
                Value::concat_cols(&reversed)
            },
            &[x],
        )?;
    }

    /// gather_cols with repeated indices: ḡx[:, i] = Σ_{j: idx[j] = i} ḡy[:, j].
    /// Tolerance `TOL` (linear).
    #[test]
    fn gather_cols((x, idx) in gather_case()) {
        let idx: Arc<[usize]> = idx.into();
        check(|v| v[0].gather_cols(&idx), &[x])?;
    }

    /// reshape to `[c, r]`, `[r·c]`, `[1, r·c]` or `[r, 1, c]`: the gradient is
    /// reshaped back. Tolerance `TOL` (linear).
    #[test]
    fn reshape((x, shape) in reshape_case()) {
        check(|v| v[0].reshape(&shape), &[x])?;
    }

    /// transpose: ḡx = ḡyᵀ. Tolerance `TOL` (linear).
    #[test]
    fn transpose(x in matrix(moderate())) {
        check(|v| v[0].transpose(), &[x])?;
    }
}

// ---------------------------------------------------------------------------
// The fused dense layer
// ---------------------------------------------------------------------------

/// x `[n, k]`, W `[k, m]`, b `[m]` with n, m in 1..=5 and k in 1..=4: k = 1 takes
/// the fused outer-product path, k ≥ 2 the product (thin loop or gemm).
/// Entries stay 1e-3 away from 0 so that no pre-activation is likely to sit on
/// relu's kink (the properties below also skip cases that do).
fn dense_case() -> impl Strategy<Value = Vec<Tensor<f64>>> {
    (1usize..=5, 1usize..=4, 1usize..=5).prop_flat_map(|(n, k, m)| {
        (
            tensor(vec![n, k], away_from_zero(1e-3)),
            tensor(vec![k, m], moderate()),
            tensor(vec![m], moderate()),
        )
            .prop_map(|(x, w, b)| vec![x, w, b])
    })
}

/// Every activation the dense op fuses, and none.
fn any_activation() -> impl Strategy<Value = Option<Activation>> {
    prop_oneof![
        Just(None),
        Just(Some(Activation::Relu)),
        Just(Some(Activation::Tanh)),
        Just(Some(Activation::Sigmoid)),
        Just(Some(Activation::Softplus)),
    ]
}

/// The smallest |pre-activation| of a dense case, to skip relu's kink.
fn smallest_pre_activation(v: &[Tensor<f64>]) -> f64 {
    let p = Value::add(&v[0].matmul(&v[1]), &v[2]);
    p.data().iter().fold(f64::INFINITY, |m, x| m.min(x.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// dense: ḡx = ḡp·Wᵀ, ḡW = xᵀ·ḡp, ḡb = Σ_rows ḡp with ḡp = ḡy ⊙ act′(y),
    /// act′ read off the output. Tolerance `TOL`.
    #[test]
    fn dense(inputs in dense_case(), act in any_activation()) {
        prop_assume!(act != Some(Activation::Relu) || smallest_pre_activation(&inputs) > 1e-3);
        check(move |v| v[0].dense(&v[1], &v[2], act), &inputs)?;
    }

    /// The fused op computes what matmul, add and the activation compute, in the
    /// same order: values and all three gradients equal bit for bit (f64), and
    /// on the plain-tensor path too.
    #[test]
    fn dense_is_the_three_ops_it_fuses(inputs in dense_case(), act in any_activation()) {
        // Softplus′ is read off y (1 − e⁻ʸ) instead of σ(p): close, not equal.
        prop_assume!(act != Some(Activation::Softplus));
        let run = |fused: bool| {
            let tape = Tape::new();
            let v: Vec<_> = inputs.iter().map(|t| tape.variable(t)).collect();
            let y = if fused {
                v[0].dense(&v[1], &v[2], act)
            } else {
                let p = v[0].matmul(&v[1]).add(&v[2]);
                act.map_or(p, |a| a.apply(&p))
            };
            let loss = y.mul(&y).sum();
            tape.backward(loss);
            let grads: Vec<_> = v.iter().map(|v| v.grad().unwrap().data().to_vec()).collect();
            (y.value().data().to_vec(), grads)
        };
        prop_assert_eq!(run(true), run(false));
        let plain = inputs[0].dense(&inputs[1], &inputs[2], act);
        prop_assert_eq!(plain.data(), &run(true).0[..]);
    }
}

/// `Tape::unfused` records an MLP's dense layers as matmul, add and act
/// (3 nodes per layer instead of 1) and gets the same loss and parameter
/// gradients, bit for bit, as the fused tape.
#[test]
fn an_unfused_tape_shows_three_ops_per_layer_and_agrees() {
    use autograd::{Mlp, ParamStore};
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut store = ParamStore::<f64>::new();
    let mlp = Mlp::new(
        &mut store,
        "mlp",
        &[2, 5, 5, 1],
        Activation::Tanh,
        None,
        &mut rng,
    );
    let x = Tensor::new((0..14).map(|i| (i as f64 * 0.37).sin()).collect(), &[7, 2]);
    let run = |tape: &Tape<f64>, store: &mut ParamStore<f64>| {
        let loss = mlp.forward(store, &tape.constant(&x)).square().sum();
        let value = loss.item();
        tape.backward_into(loss, store);
        let grads: Vec<Vec<f64>> = store.iter().map(|(_, p)| p.grad.data().to_vec()).collect();
        (value, grads, tape.len())
    };
    let (fused, unfused) = (Tape::new(), Tape::unfused());
    let (loss_f, grads_f, nodes_f) = run(&fused, &mut store);
    let (loss_u, grads_u, nodes_u) = run(&unfused, &mut store);
    assert_eq!((loss_f, &grads_f), (loss_u, &grads_u));
    // x, 6 parameters, the layers, square, sum: 3 layers are 3 or 8 nodes
    // (the last has no activation).
    assert_eq!((nodes_f, nodes_u), (1 + 6 + 3 + 2, 1 + 6 + 8 + 2));
}

/// Gradient buffers are reused between steps without being zeroed (the first
/// share to reach a node is written, not added). A step whose gradients were
/// all NaN must leave nothing behind: the next step on the same tape gets the
/// same gradients as a fresh tape.
#[test]
fn reused_gradient_buffers_carry_nothing_over() {
    let x = Tensor::new((0..12).map(|i| i as f64 * 0.3 - 1.5).collect(), &[6, 2]);
    let w = Tensor::new(vec![0.5, -1.0, 0.25, 2.0, -0.75, 1.5], &[2, 3]);
    let b = Tensor::new(vec![0.1, -0.2, 0.3], &[3]);
    let gradients = |tape: &Tape<f64>, scale: f64| {
        let (xv, wv, bv) = (tape.variable(&x), tape.variable(&w), tape.variable(&b));
        let h = xv.dense(&wv, &bv, Some(Activation::Tanh)).scale(scale);
        let loss = h
            .dense(&wv.transpose(), &xv.sum_axis(0, false), None)
            .square()
            .sum();
        tape.backward(loss);
        [xv, wv, bv].map(|v| v.grad().unwrap())
    };
    let mut reused = Tape::new();
    let poisoned = gradients(&reused, f64::NAN);
    assert!(poisoned.iter().all(|g| g.data().iter().all(|v| v.is_nan())));
    reused.reset();
    let after = gradients(&reused, 1.0);
    let fresh = gradients(&Tape::new(), 1.0);
    for (a, f) in after.iter().zip(&fresh) {
        assert_eq!(a.data(), f.data());
        assert!(a.data().iter().all(|v| v.is_finite()));
    }
}

// ---------------------------------------------------------------------------
// Shared inputs and composites
// ---------------------------------------------------------------------------

/// A square `[n, n]` matrix, n in 1..=5.
fn square_matrix() -> impl Strategy<Value = Tensor<f64>> {
    (1usize..=5).prop_flat_map(|n| tensor(vec![n, n], moderate()))
}

/// x, W₁, b₁, W₂, b₂ of a 2-layer MLP `[n, i] → [n, h] → [n, o]`.
fn mlp_case() -> impl Strategy<Value = Vec<Tensor<f64>>> {
    (1usize..=5, 1usize..=4, 1usize..=5, 1usize..=4).prop_flat_map(|(n, i, h, o)| {
        vec![
            tensor(vec![n, i], moderate()),
            tensor(vec![i, h], moderate()),
            tensor(vec![h], moderate()),
            tensor(vec![h, o], moderate()),
            tensor(vec![o], moderate()),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// A Var used twice by one op: ∂(x ⊙ x)/∂x = 2x, so both operand slots must add
    /// into the same gradient. Tolerance `TOL`.
    #[test]
    fn same_var_twice_in_mul(x in shaped(moderate())) {
        check(|v| v[0].mul(&v[0]), &[x])?;
    }

    /// x·x for square x: ḡx = ḡ·xᵀ + xᵀ·ḡ, both matmul adjoints into one buffer.
    /// Tolerance `TOL`.
    #[test]
    fn same_var_twice_in_matmul(x in square_matrix()) {
        check(|v| v[0].matmul(&v[0]), &[x])?;
    }

    /// a + eᵃ, a used by two different ops: ḡa = ḡ ⊙ (1 + eᵃ). Tolerance `TOL`.
    #[test]
    fn same_var_in_two_ops(a in shaped(moderate())) {
        check(|v| v[0].add(&v[0].exp()), &[a])?;
    }

    /// [a, a] side by side and a broadcast against its own sum: reuse through the
    /// column ops and through broadcasting. Tolerance `TOL`.
    #[test]
    fn same_var_in_concat_and_broadcast(a in matrix(moderate())) {
        check(
            |v| {
                let both = Value::concat_cols(&[&v[0], &v[0]]);
                both.mul(&both.sum())
            },
            &[a],
        )?;
    }

    /// Log-softmax along rows, x − logsumexp(x): x reaches the output by two paths
    /// that nearly cancel. Tolerance `TOL`.
    #[test]
    fn log_softmax(x in matrix(lse_element())) {
        check(|v| v[0].sub(&v[0].logsumexp(1, true)), &[x])?;
    }

    /// Standardizing rows, (x − mean) / √(var + 0.1), x used four times.
    /// Tolerance `TOL`.
    #[test]
    fn standardize_rows(x in matrix(moderate())) {
        check(
            |v| {
                let centred = v[0].sub(&v[0].mean_axis(1, true));
                let var = centred.square().mean_axis(1, true);
                centred.div(&var.shift(0.1).sqrt())
            },
            &[x],
        )?;
    }

    /// A 2-layer MLP with a log-softmax output and a mean,
    ///   mean(log_softmax(tanh(x·W₁ + b₁)·W₂ + b₂)),
    /// checked for every input and parameter at once. Tolerance `TOL`.
    #[test]
    fn two_layer_mlp(inputs in mlp_case()) {
        check(
            |v| {
                let h = v[0].matmul(&v[1]).add(&v[2]).tanh();
                let out = h.matmul(&v[3]).add(&v[4]);
                out.sub(&out.logsumexp(1, true)).mean()
            },
            &inputs,
        )?;
    }

    /// An affine coupling layer, the building block of the flows: split x into
    /// (x₁, x₂), s = tanh(x₁·W), y = [x₁, x₂ ⊙ eˢ + x₁·V], and its log-det Σs
    /// added in. Tolerance `TOL`.
    #[test]
    fn coupling_layer(
        (x, w, u) in (1usize..=4, 1usize..=3, 1usize..=3).prop_flat_map(|(n, d1, d2)| (
            tensor(vec![n, d1 + d2], moderate()),
            tensor(vec![d1, d2], moderate()),
            tensor(vec![d1, d2], moderate()),
        ))
    ) {
        let d1 = w.rows();
        check(
            move |v| {
                let d2 = v[0].shape()[1] - d1;
                let parts = v[0].split_cols(&[d1, d2]);
                let s = parts[0].matmul(&v[1]).tanh();
                let y2 = parts[1].mul(&s.exp()).add(&parts[0].matmul(&v[2]));
                let y = Value::concat_cols(&[&parts[0], &y2]);
                y.add(&s.sum())
            },
            &[x, w, u],
        )?;
    }
}

// ---------------------------------------------------------------------------
// The checker itself catches mistakes
// ---------------------------------------------------------------------------

/// Counts calls so the first one (the one gradcheck records and differentiates)
/// can compute something different from later ones (the finite differences).
struct Calls(Cell<usize>);

impl Calls {
    fn new() -> Self {
        Calls(Cell::new(0))
    }
    /// True on the first call only.
    fn first(&self) -> bool {
        let n = self.0.get();
        self.0.set(n + 1);
        n == 0
    }
}

/// A derivative that is 1 % off is caught and located.
///
/// gradcheck evaluates `f` once on a tape and sweeps backwards (the analytic
/// gradient), then many times more for the central differences (the numeric one).
/// Here the tape sees tanh(x) and the finite differences see 1.01·tanh(x), so the
/// backward pass reports tanh′ where the function's true slope is 1.01·tanh′. That
/// is exactly what a VJP that disagrees with its forward looks like to the
/// checker: the forward values (what the differences measure) and the recorded
/// derivative tell two different stories.
#[test]
fn a_wrong_derivative_is_caught() {
    let x = Tensor::new(vec![0.3, -0.7, 1.1, 0.05], &[2, 2]);
    let calls = Calls::new();
    let result = gradcheck(
        |v| {
            if calls.first() {
                v[0].tanh()
            } else {
                v[0].tanh().scale(1.01)
            }
        },
        &[x],
        TOL,
    );
    let err = result.expect_err("a 1% error in the derivative must be caught");
    assert_eq!((err.input, err.element), (0, 0));
    // The numeric slope is 1.01 times the analytic one; with weights in [0.5, 1.5)
    // and tanh′(0.3) ≈ 0.92 the error is about 1e-2, far above TOL.
    assert!((err.numeric / err.analytic - 1.01).abs() < 1e-6, "{err}");
    assert!(err.error > 1e-3, "{err}");
    assert!(
        err.to_string().contains("input 0 element 0"),
        "the message names the input and element: {err}"
    );
}

/// The mistake is pinned to the one element where it is: a wrong derivative
/// only at element 4 of input 1 is reported there, not elsewhere.
#[test]
fn a_wrong_derivative_is_located() {
    let a = Tensor::new(vec![0.1, -0.2, 0.3, 0.4, -0.5, 0.6], &[2, 3]);
    let b = Tensor::new(vec![0.2, -0.4, 0.6, -0.8, 0.3, 0.5], &[2, 3]);
    let mut one_hot = Tensor::zeros(&[2, 3]);
    one_hot.data_mut()[4] = 0.01;
    let calls = Calls::new();
    let result = gradcheck(
        |v| {
            let t = v[1].tanh();
            // Later calls add 1 % of tanh(b) at element 4 only.
            let t = if calls.first() {
                t
            } else {
                t.add(&t.mul(&v[1].constant(&one_hot)))
            };
            v[0].exp().sum().add(&t.sum())
        },
        &[a, b],
        TOL,
    );
    let err = result.expect_err("the wrong element must be found");
    assert_eq!((err.input, err.element), (1, 4), "{err}");
    assert!(err.to_string().contains("input 1 element 4"), "{err}");
}

/// A transposed gradient is caught: the checker compares each element with the
/// finite difference of *that* element.
///
/// The tape computes Σ (xᵀ ⊙ W) and the finite differences see Σ (x ⊙ W), for a
/// non-symmetric x and W: the backward pass puts ∂/∂x[i, j] = W[j, i] where the
/// truth is W[i, j]. The diagonal agrees; the first off-diagonal element, x[0, 1]
/// (element 1), does not: backward says W[1, 0] = 3, the differences W[0, 1] = 2.
#[test]
fn a_transposed_gradient_is_caught() {
    let x = Tensor::new(vec![0.5, -1.0, 2.0, 0.25], &[2, 2]);
    let w = Tensor::new(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let calls = Calls::new();
    let result = gradcheck(
        |v| {
            if calls.first() {
                v[0].transpose().mul(&v[1]).sum()
            } else {
                v[0].mul(&v[1]).sum()
            }
        },
        &[x, w],
        TOL,
    );
    let err = result.expect_err("a transposed gradient must be caught");
    assert_eq!((err.input, err.element), (0, 1), "{err}");
    assert!((err.analytic - 3.0).abs() < 1e-12, "{err}");
    assert!((err.numeric - 2.0).abs() < 1e-6, "{err}");
}

/// Why gradcheck weights a non-scalar output with pseudo-random weights instead of
/// summing it: a plain sum is blind to any permutation of the output. Here the
/// tape returns xᵀ and the finite differences see x.
///
/// - Summed first, the two are the same function of x, so no check can tell them
///   apart (the first assertion: this passes).
/// - Returned as a matrix, gradcheck contracts it with weights w, and the tape's
///   ∂/∂x = wᵀ differs from the true w off the diagonal (the second: this fails).
#[test]
fn weighting_the_output_exposes_a_permutation() {
    let x = Tensor::new(vec![0.5, -1.0, 2.0, 0.25, 1.5, -0.75], &[3, 2]);
    let x_square = Tensor::new(
        vec![0.5, -1.0, 2.0, 0.25, 1.5, -0.75, 1.0, 0.1, -0.3],
        &[3, 3],
    );

    let calls = Calls::new();
    let summed = gradcheck(
        |v| {
            if calls.first() {
                v[0].transpose().sum()
            } else {
                v[0].sum()
            }
        },
        &[x],
        TOL,
    );
    assert!(summed.is_ok(), "a sum cannot see a transpose: {summed:?}");

    let calls = Calls::new();
    let weighted = gradcheck(
        |v| {
            if calls.first() {
                v[0].transpose()
            } else {
                v[0]
            }
        },
        &[x_square],
        TOL,
    );
    let err = weighted.expect_err("weights must expose the transpose");
    let (row, col) = (err.element / 3, err.element % 3);
    assert_ne!(row, col, "the diagonal is unchanged by a transpose: {err}");
}
