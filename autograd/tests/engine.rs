//! The engine as a whole: optimizers against hand-computed steps, memory that stays
//! flat over a training loop, a tape of a million nodes, gradient accumulation,
//! shape errors, and the two evaluation paths (tape and plain tensors) agreeing.
//!
//! Tolerances: optimizer steps are compared with arithmetic written out in the test
//! to 1e-12 in f64 (the two computations differ only in rounding order, ~1e-16);
//! anything that runs the *same* kernels in the same order is compared exactly.

use autograd::{
    clip_grad_norm, Activation, Adam, CosineSchedule, Mlp, ParamId, ParamStore, Sgd, Tape, Tensor,
    Value,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Adam's ε (PyTorch's default, which `Adam::new` uses).
const EPS: f64 = 1e-8;

fn assert_close(actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol,
            "element {i}: got {a}, expected {e} (difference {:.2e} > {tol:.0e})",
            (a - e).abs()
        );
    }
}

/// A store holding one trainable vector `θ`.
fn one_vector(theta: &[f64]) -> (ParamStore<f64>, ParamId) {
    let mut store = ParamStore::new();
    let id = store.add("theta", Tensor::new(theta.to_vec(), &[theta.len()]));
    (store, id)
}

fn set_grad(store: &mut ParamStore<f64>, id: ParamId, g: &[f64]) {
    store.grad_mut(id).data_mut().copy_from_slice(g);
}

// ---------------------------------------------------------------------------
// Optimizers
// ---------------------------------------------------------------------------

/// Three Adam steps (lr = 0.1, β = (0.9, 0.999), ε = 1e-8) with given gradients
/// equal the textbook update θ ← θ − lr·m̂/(√v̂ + ε) worked out by hand, to 1e-12.
#[test]
fn adam_matches_hand_computed_steps() {
    let (mut store, id) = one_vector(&[1.0, -2.0]);
    let mut adam = Adam::new(0.1);

    // Step 1, g = (0.5, −1.0); bias corrections 1 − 0.9 = 0.1 and 1 − 0.999 = 0.001:
    //   m = 0.1·g = (0.05, −0.1)          m̂ = m/0.1   = (0.5, −1.0)
    //   v = 0.001·g² = (0.00025, 0.001)   v̂ = v/0.001 = (0.25, 1.0),  √v̂ = (0.5, 1.0)
    //   θ = (1 − 0.1·0.5/(0.5 + ε), −2 + 0.1·1/(1 + ε)) ≈ (0.9, −1.9)
    // The first step moves every coordinate by lr, whatever the gradient's size.
    set_grad(&mut store, id, &[0.5, -1.0]);
    adam.step(&mut store);
    let theta1 = [
        1.0 - 0.1 * 0.5 / (0.5 + EPS),
        -2.0 + 0.1 * 1.0 / (1.0 + EPS),
    ];
    assert_close(store.value(id).data(), &theta1, 1e-12);

    // Step 2, g = (0.2, 0.4); bias corrections 1 − 0.9² = 0.19 and 1 − 0.999² = 0.001999:
    //   m = 0.9·(0.05, −0.1) + 0.1·(0.2, 0.4)          = (0.065, −0.05)
    //   v = 0.999·(0.00025, 0.001) + 0.001·(0.04, 0.16) = (0.00028975, 0.001159)
    //   m̂ = m/0.19 = (0.342105…, −0.263158…)
    //   √v̂ = √(v/0.001999) = (0.380720…, 0.761439…)
    //   θ = θ₁ − 0.1·m̂/(√v̂ + ε) ≈ (0.9 − 0.089858, −1.9 + 0.034561) = (0.810142…, −1.865439…)
    set_grad(&mut store, id, &[0.2, 0.4]);
    adam.step(&mut store);
    let theta2 = [
        theta1[0] - 0.1 * (0.065 / 0.19) / ((0.00028975f64 / 0.001999).sqrt() + EPS),
        theta1[1] - 0.1 * (-0.05 / 0.19) / ((0.001159f64 / 0.001999).sqrt() + EPS),
    ];
    assert_close(store.value(id).data(), &theta2, 1e-12);

    // Step 3, g = (−0.3, 0.1); bias corrections 1 − 0.9³ = 0.271, 1 − 0.999³ = 0.002997001:
    //   m = 0.9·(0.065, −0.05) + 0.1·(−0.3, 0.1)              = (0.0285, −0.035)
    //   v = 0.999·(0.00028975, 0.001159) + 0.001·(0.09, 0.01) = (0.00037946025, 0.001167841)
    //   m̂ = m/0.271 = (0.105166…, −0.129151…)
    //   √v̂ = √(v/0.002997001) = (0.355828…, 0.624235…)
    //   θ = θ₂ − 0.1·m̂/(√v̂ + ε) ≈ (0.780587…, −1.844750…)
    set_grad(&mut store, id, &[-0.3, 0.1]);
    adam.step(&mut store);
    let theta3 = [
        theta2[0] - 0.1 * (0.0285 / 0.271) / ((0.00037946025f64 / 0.002997001).sqrt() + EPS),
        theta2[1] - 0.1 * (-0.035 / 0.271) / ((0.001167841f64 / 0.002997001).sqrt() + EPS),
    ];
    assert_close(store.value(id).data(), &theta3, 1e-12);
    assert_close(store.value(id).data(), &[0.780587, -1.844750], 1e-6);
    assert_eq!(adam.steps_taken(), 3);
}

/// Adam with lr = 0.1 minimizes f(θ) = Σθ² from θ = (3, −2, 0.5): after 500 steps
/// every |θᵢ| < 1e-6 (the same recursion, run separately, is at ~1e-11 by then;
/// the bound leaves room and still rules out oscillation at the scale of lr).
/// Gradients come from the tape, so this also runs param → backward → accumulate.
#[test]
fn adam_converges_on_a_quadratic() {
    let (mut store, id) = one_vector(&[3.0, -2.0, 0.5]);
    let mut adam = Adam::new(0.1);
    let mut tape = Tape::new();
    for _ in 0..500 {
        tape.reset();
        let theta = tape.param(&store, id);
        let loss = theta.square().sum();
        tape.backward_into(loss, &mut store);
        adam.step(&mut store);
    }
    for &t in store.value(id).data() {
        assert!(t.abs() < 1e-6, "θ = {:?} did not converge", store.value(id));
    }
}

/// SGD with momentum μ = 0.9 and lr = 0.1, two steps by hand (PyTorch's rule:
/// b = g on the first step, then b ← μ·b + g; θ ← θ − lr·b).
#[test]
fn sgd_with_momentum_matches_hand_computed_steps() {
    let (mut store, id) = one_vector(&[1.0, -1.0]);
    let mut sgd = Sgd::new(0.1, 0.9);

    // Step 1, g = (1, 2):   b = (1, 2);   θ = (1 − 0.1, −1 − 0.2) = (0.9, −1.2)
    set_grad(&mut store, id, &[1.0, 2.0]);
    sgd.step(&mut store);
    assert_close(store.value(id).data(), &[0.9, -1.2], 1e-12);

    // Step 2, g = (0.5, −1): b = 0.9·(1, 2) + (0.5, −1) = (1.4, 0.8);
    //                        θ = (0.9 − 0.14, −1.2 − 0.08) = (0.76, −1.28)
    set_grad(&mut store, id, &[0.5, -1.0]);
    sgd.step(&mut store);
    assert_close(store.value(id).data(), &[0.76, -1.28], 1e-12);
}

/// clip_grad_norm returns the norm before clipping, √(3² + 4² + 12²) = 13 (exact
/// in f64), and scales the trainable gradients to norm max_norm·13/(13 + 1e-6),
/// i.e. max_norm to within 1e-6 and never above it. Buffers neither count nor change.
#[test]
fn clip_grad_norm_returns_the_norm_and_clips_to_max() {
    let mut store = ParamStore::<f64>::new();
    let a = store.add("a", Tensor::new(vec![0.0, 0.0], &[2]));
    let b = store.add("b", Tensor::new(vec![0.0], &[1]));
    let buffer = store.add_buffer("buffer", Tensor::new(vec![0.0], &[1]));
    set_grad(&mut store, a, &[3.0, 4.0]);
    set_grad(&mut store, b, &[12.0]);
    set_grad(&mut store, buffer, &[100.0]);

    // Below the norm: clipped.
    let norm = clip_grad_norm(&mut store, 6.5);
    assert_eq!(norm, 13.0);
    let c = 6.5 / (13.0 + 1e-6);
    assert_close(store.grad(a).data(), &[3.0 * c, 4.0 * c], 1e-15);
    assert_close(store.grad(b).data(), &[12.0 * c], 1e-15);
    let g = [store.grad(a).data(), store.grad(b).data()].concat();
    let clipped = g.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!(
        clipped <= 6.5 && 6.5 - clipped < 1e-6,
        "clipped norm {clipped}"
    );
    assert_eq!(store.grad(buffer).data(), &[100.0]);

    // Above the norm: untouched.
    set_grad(&mut store, a, &[3.0, 4.0]);
    set_grad(&mut store, b, &[12.0]);
    assert_eq!(clip_grad_norm(&mut store, 20.0), 13.0);
    assert_eq!(store.grad(a).data(), &[3.0, 4.0]);
    assert_eq!(store.grad(b).data(), &[12.0]);
}

/// Cosine schedule lr(t) = lr_min + ½(lr_max − lr_min)(1 + cos(πt/T)): lr_max at
/// t = 0, the average (1 + 0.1)/2 = 0.55 halfway, lr_min at T and after.
/// Tolerance 1e-12 (one cos call).
#[test]
fn cosine_schedule_endpoints_and_midpoint() {
    let s = CosineSchedule::new(1.0, 0.1, 100);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(s.lr(0), 1.0));
    assert!(close(s.lr(50), 0.55), "{}", s.lr(50));
    assert!(close(s.lr(100), 0.1));
    assert!(close(s.lr(1000), 0.1), "stays at lr_min after T");
    assert!(s.lr(25) > s.lr(50) && s.lr(50) > s.lr(75), "decreasing");
    let constant = CosineSchedule::new(0.3, 0.3, 100);
    assert!(
        (0..200).all(|t| constant.lr(t) == 0.3),
        "lr_min = lr_max is constant"
    );
}

// ---------------------------------------------------------------------------
// Memory and long tapes
// ---------------------------------------------------------------------------

/// Points in [−1, 1]² and a fixed smooth target for them.
fn regression_data(n: usize, seed: u64) -> (Tensor<f64>, Tensor<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x: Vec<f64> = (0..2 * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let target: Vec<f64> = x
        .chunks(2)
        .flat_map(|p| [(3.0 * p[0]).sin() * p[1], p[0] * p[0] - p[1]])
        .collect();
    (Tensor::new(x, &[n, 2]), Tensor::new(target, &[n, 2]))
}

/// The mean squared error of the MLP on (x, target), on a tape.
fn mse_on_tape<'t>(
    tape: &'t Tape<f64>,
    mlp: &Mlp,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
    target: &Tensor<f64>,
) -> autograd::Var<'t, f64> {
    let (xv, tv) = (tape.constant(x), tape.constant(target));
    mlp.forward(store, &xv).sub(&tv).square().mean()
}

/// The same loss on plain tensors (nothing recorded).
fn mse_plain(mlp: &Mlp, store: &ParamStore<f64>, x: &Tensor<f64>, target: &Tensor<f64>) -> f64 {
    mlp.forward(store, x).sub(target).square().mean().item()
}

/// A training loop on one reused tape allocates nothing after warming up:
/// `capacity_bytes()` after step 5 equals it after step 500, exactly. And the
/// recycled buffers leave no trace in the gradients: at step 500 the store's
/// gradients (zero_grads + backward + accumulate) equal those of a fresh tape
/// bit for bit, and agree with central differences to 1e-6 (mixed error; f64,
/// h = 1e-6, accurate to ~1e-10).
#[test]
fn reused_tape_keeps_memory_flat_and_gradients_right() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut store = ParamStore::<f64>::new();
    let mlp = Mlp::new(
        &mut store,
        "mlp",
        &[2, 32, 32, 2],
        Activation::Tanh,
        None,
        &mut rng,
    );
    let (x, target) = regression_data(64, 1);
    let mut adam = Adam::new(1e-2);
    let mut tape = Tape::new();
    let mut capacity_at_5 = 0;
    let mut first_loss = f64::NAN;

    for step in 1..=500 {
        tape.reset();
        let loss = mse_on_tape(&tape, &mlp, &store, &x, &target);
        tape.backward_into(loss, &mut store);
        if step == 1 {
            first_loss = loss.item();
        }
        if step == 5 {
            capacity_at_5 = tape.capacity_bytes();
            assert!(capacity_at_5 > 0);
        }
        if step == 500 {
            assert_eq!(
                tape.capacity_bytes(),
                capacity_at_5,
                "the tape grew between step 5 and step 500"
            );
            assert!(loss.item() < first_loss / 10.0, "the model did not train");
            check_store_gradients(&mlp, &store, &x, &target);
        }
        adam.step(&mut store);
    }
}

/// The gradients in `store` equal a fresh tape's exactly, and central differences
/// to 1e-6 on the first and last element of every parameter.
fn check_store_gradients(
    mlp: &Mlp,
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
    target: &Tensor<f64>,
) {
    let fresh_tape = Tape::new();
    let loss = mse_on_tape(&fresh_tape, mlp, store, x, target);
    fresh_tape.backward(loss);
    let mut fresh = store.clone();
    fresh.zero_grads();
    fresh_tape.accumulate_param_grads(&mut fresh);

    let mut probe = store.clone();
    for (id, p) in store.iter() {
        assert_eq!(
            &p.grad,
            fresh.grad(id),
            "{}: reused tape ≠ fresh tape",
            p.name
        );
        for e in [0, p.value.len() - 1] {
            let theta = p.value.data()[e];
            let h = 1e-6 * theta.abs().max(1.0);
            probe.value_mut(id).data_mut()[e] = theta + h;
            let up = mse_plain(mlp, &probe, x, target);
            probe.value_mut(id).data_mut()[e] = theta - h;
            let down = mse_plain(mlp, &probe, x, target);
            probe.value_mut(id).data_mut()[e] = theta;
            let (analytic, numeric) = (p.grad.data()[e], (up - down) / (2.0 * h));
            let error = (analytic - numeric).abs() / 1f64.max(analytic.abs()).max(numeric.abs());
            assert!(
                error < 1e-6,
                "{}[{e}]: store has {analytic}, finite differences {numeric}",
                p.name
            );
        }
    }
}

/// A chain of one million ops (500,000 × (scale by c, shift by ¼)) on a `[1]`
/// tensor: the reverse sweep is a loop, not a recursion, so it does not overflow
/// the stack, and ∂y/∂x is the product of the scales, c^500000.
/// Tolerance 1e-9 relative: each of the 500,000 multiplications rounds by at most
/// 1.1e-16, ~6e-11 in all.
#[test]
fn a_million_node_tape_runs_backward() {
    const PAIRS: i32 = 500_000;
    let c = 1.0 + 1e-6;
    let tape = Tape::<f64>::new();
    let x = tape.variable(&Tensor::new(vec![0.5], &[1]));
    let mut y = x;
    for _ in 0..PAIRS {
        y = y.scale(c).shift(0.25);
    }
    let loss = y.sum();
    assert_eq!(tape.len(), 1 + 2 * PAIRS as usize + 1);
    tape.backward(loss);

    let expected = c.powi(PAIRS); // = e^(500000·ln(1 + 1e-6)) ≈ e^0.49999975 ≈ 1.6487
    let grad = x.grad().expect("x is on the loss's path").item();
    assert!(
        (grad / expected - 1.0).abs() < 1e-9,
        "∂y/∂x = {grad}, expected {expected}"
    );
    assert!((expected - 0.49999975f64.exp()).abs() < 1e-9);
}

// ---------------------------------------------------------------------------
// Gradient accumulation
// ---------------------------------------------------------------------------

/// One parameter placed on the tape twice (two leaves for the same ParamId) gets
/// both contributions in the store. With a = b = p and L = Σ(a ⊙ b) + 3·Σb:
///   ∂L/∂a = b = p,   ∂L/∂b = a + 3 = p + 3,   so the store gets 2p + 3.
/// `accumulate_param_grads` adds (a second call doubles), `zero_grads` clears.
#[test]
fn a_param_used_twice_accumulates_both_contributions() {
    let (mut store, id) = one_vector(&[1.0, 2.0, 3.0]);
    let tape = Tape::new();
    let a = tape.param(&store, id);
    let b = tape.param(&store, id);
    let loss = a.mul(&b).sum().add(&b.scale(3.0).sum());
    tape.backward(loss);

    assert_eq!(a.grad().unwrap().data(), &[1.0, 2.0, 3.0]);
    assert_eq!(b.grad().unwrap().data(), &[4.0, 5.0, 6.0]);
    tape.accumulate_param_grads(&mut store);
    assert_eq!(store.grad(id).data(), &[5.0, 7.0, 9.0]);
    tape.accumulate_param_grads(&mut store);
    assert_eq!(store.grad(id).data(), &[10.0, 14.0, 18.0]);
    store.zero_grads();
    assert_eq!(store.grad(id).data(), &[0.0, 0.0, 0.0]);
}

/// A buffer (saved, untrained state) on the tape gets no gradient, and the
/// trainable parameter next to it still does.
#[test]
fn buffers_receive_no_gradient() {
    let mut store = ParamStore::<f64>::new();
    let w = store.add("w", Tensor::new(vec![2.0], &[1]));
    let s = store.add_buffer("s", Tensor::new(vec![3.0], &[1]));
    let tape = Tape::new();
    let loss = tape.param(&store, w).mul(&tape.param(&store, s)).sum();
    tape.backward(loss);
    tape.accumulate_param_grads(&mut store);
    assert_eq!(store.grad(w).data(), &[3.0]);
    assert_eq!(store.grad(s).data(), &[0.0]);
}

/// `backward_into` is the whole step protocol: a stale gradient left in the
/// store is cleared first (so the result is the fresh gradient, not a sum with
/// the last step's), then the sweep's gradient lands in the store.
/// L = Σ θ² has ∂L/∂θ = 2θ exactly.
#[test]
fn backward_into_clears_then_collects_the_gradient() {
    let (mut store, id) = one_vector(&[1.0, -2.0, 0.5]);
    set_grad(&mut store, id, &[100.0, 100.0, 100.0]);
    let tape = Tape::new();
    let loss = tape.param(&store, id).square().sum();
    tape.backward_into(loss, &mut store);
    assert_eq!(store.grad(id).data(), &[2.0, -4.0, 1.0]);
}

/// `load_named` sets every entry by name, and refuses (leaving the store as it
/// was) a foreign name, a duplicate, a missing entry, a wrong shape, a value
/// count that does not fit the shape (even one whose product overflows) and a
/// non-finite value.
#[test]
fn load_named_checks_every_entry() {
    use autograd::NamedValue;
    let mut store = ParamStore::<f32>::new();
    store.add("w", Tensor::new(vec![0.0; 4], &[2, 2]));
    store.add_buffer("flag", Tensor::new(vec![0.0], &[1]));
    let w = [1.0, 2.0, 3.0, 4.0];
    let named = |name, shape, values| NamedValue {
        name,
        shape,
        values,
    };
    let good = [named("w", &[2, 2], &w), named("flag", &[1], &[1.0])];
    let bad_cases: Vec<(Vec<NamedValue>, &str)> = vec![
        (
            vec![good[0], good[1], named("x", &[1], &[1.0])],
            "does not belong",
        ),
        (vec![good[0], good[1], good[1]], "appears twice"),
        (vec![good[0]], "\"flag\" is missing"),
        (vec![named("w", &[4], &w), good[1]], "expected shape [2, 2]"),
        (
            vec![named("w", &[2, 3], &w), good[1]],
            "has 4 values for shape [2, 3]",
        ),
        (vec![named("w", &[1 << 62, 4], &w), good[1]], "has 4 values"),
        (
            vec![named("w", &[2, 2], &[1.0, f64::NAN, 3.0, 4.0]), good[1]],
            "non-finite",
        ),
    ];
    for (values, expected) in bad_cases {
        let err = store.clone().load_named(values).unwrap_err();
        assert!(err.contains(expected), "{err:?} should say {expected:?}");
    }
    store.load_named(good).unwrap();
    assert_eq!(
        store.value(store.id("w").unwrap()).data(),
        &[1.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(store.value(store.id("flag").unwrap()).data(), &[1.0]);
}

/// The thread count can be set before the first product and not changed
/// after it; asking again for the count in use is no change.
#[test]
fn set_threads_refuses_zero_and_late_changes() {
    assert!(autograd::set_threads(0).is_err());
    let too_many = autograd::set_threads(1_000_000).unwrap_err();
    assert!(too_many.contains("at most 1024"), "{too_many}");
    let a = Tensor::<f64>::new(vec![1.0; 4], &[2, 2]);
    let _ = a.matmul(&a);
    let in_use = autograd::thread_count();
    let late = autograd::set_threads(in_use + 1).unwrap_err();
    assert!(late.contains("before the first matrix product"), "{late}");
    assert_eq!(autograd::set_threads(in_use), Ok(()));
    assert_eq!(autograd::thread_count(), in_use);
}

// ---------------------------------------------------------------------------
// Shape errors
// ---------------------------------------------------------------------------

#[test]
#[should_panic(expected = "matmul: [3, 2] x [4, 5]")]
fn matmul_shape_error_names_both_shapes() {
    let tape = Tape::<f64>::new();
    let a = tape.constant(&Tensor::zeros(&[3, 2]));
    let b = tape.constant(&Tensor::zeros(&[4, 5]));
    a.matmul(&b);
}

#[test]
#[should_panic(expected = "add: cannot broadcast [3, 2] with [3]")]
fn add_broadcast_error_names_both_shapes() {
    let tape = Tape::<f64>::new();
    let a = tape.constant(&Tensor::zeros(&[3, 2]));
    let b = tape.constant(&Tensor::zeros(&[3]));
    a.add(&b);
}

#[test]
#[should_panic(expected = "div: cannot broadcast [2, 3] with [2]")]
fn broadcast_error_on_plain_tensors_names_the_op() {
    let a = Tensor::<f32>::zeros(&[2, 3]);
    let b = Tensor::<f32>::zeros(&[2]);
    a.div(&b);
}

#[test]
#[should_panic(expected = "concat: [2, 3] and [4, 1] differ in rows")]
fn concat_shape_error_names_both_shapes() {
    let tape = Tape::<f64>::new();
    let a = tape.constant(&Tensor::zeros(&[2, 3]));
    let b = tape.constant(&Tensor::zeros(&[4, 1]));
    Value::concat_cols(&[&a, &b]);
}

// ---------------------------------------------------------------------------
// One model, two paths
// ---------------------------------------------------------------------------

/// The `Value` trait's promise: an MLP evaluated on plain tensors gives exactly
/// (bit for bit) the values it gives when recorded on a tape, in f32 and f64 and
/// for every activation, because both paths run the same kernels.
#[test]
fn tensor_path_equals_tape_path_exactly() {
    fn compare<F: autograd::Float>(activation: Activation) {
        let mut rng = StdRng::seed_from_u64(3);
        let mut store = ParamStore::<F>::new();
        let mlp = Mlp::new(
            &mut store,
            "mlp",
            &[2, 16, 16, 3],
            activation,
            Some(Activation::Tanh),
            &mut rng,
        );
        let x = Tensor::<F>::from_f64(
            &(0..100)
                .map(|_| rng.random_range(-2.0..2.0))
                .collect::<Vec<f64>>(),
            &[50, 2],
        );
        let plain = mlp.forward(&store, &x).logsumexp(1, true);
        let tape = Tape::new();
        let recorded = mlp
            .forward(&store, &tape.constant(&x))
            .logsumexp(1, true)
            .value();
        assert!(
            plain == recorded,
            "{} {}: the paths differ by {:e}",
            F::NAME,
            activation.name(),
            plain.max_abs_diff(&recorded)
        );
    }
    for activation in [
        Activation::Tanh,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Softplus,
    ] {
        compare::<f32>(activation);
        compare::<f64>(activation);
    }
}

// ---------------------------------------------------------------------------
// The printed adjoint program
// ---------------------------------------------------------------------------

/// For y = sum(tanh(x·W + b)) with x a constant, the adjoint program is exactly
/// these statements, in this order (comments stripped): each op's VJP, with the
/// matmul adjoint ḡW = xᵀ·ḡ, and no statement for the constant x (no ḡ0).
#[test]
fn adjoint_program_of_a_layer() {
    let tape = Tape::<f64>::new();
    let x = tape.constant_named("x", &Tensor::new(vec![1.0, 2.0], &[1, 2]));
    let w = tape.variable_named("W", &Tensor::new(vec![0.5, -1.0, 0.25, 0.0], &[2, 2]));
    let b = tape.variable_named("b", &Tensor::new(vec![0.1, 0.2], &[2]));
    let y = x.matmul(&w).add(&b).tanh().sum();
    let program = tape.adjoint_program(y);

    let statements: Vec<&str> = program
        .lines()
        .map(|line| line.split('#').next().unwrap().trim())
        .collect();
    assert_eq!(
        statements,
        [
            "ḡ6 = 1",
            "ḡ5 += broadcast(ḡ6)",
            "ḡ4 += ḡ5 ⊙ (1 − v5²)",
            "ḡ3 += ḡ4",
            "ḡ2 += Σ_broadcast(ḡ4)",
            "ḡ1 += v0ᵀ · ḡ3",
            "∂L/∂W = ḡ1",
            "∂L/∂b = ḡ2",
        ],
        "\n{program}"
    );
    assert!(!program.contains("ḡ0"), "x is a constant:\n{program}");
    assert!(!program.contains("∂L/∂x"), "x is a constant:\n{program}");

    // Were x a variable, its statement would be there: ḡ0 += ḡ3 · v1ᵀ.
    let tape = Tape::<f64>::new();
    let x = tape.variable_named("x", &Tensor::new(vec![1.0, 2.0], &[1, 2]));
    let w = tape.variable_named("W", &Tensor::new(vec![0.5, -1.0, 0.25, 0.0], &[2, 2]));
    let b = tape.variable_named("b", &Tensor::new(vec![0.1, 0.2], &[2]));
    let y = x.matmul(&w).add(&b).tanh().sum();
    let program = tape.adjoint_program(y);
    assert!(program.contains("ḡ0 += ḡ3 · v1ᵀ"), "\n{program}");
    assert!(program.contains("∂L/∂x = ḡ0"), "\n{program}");
}
