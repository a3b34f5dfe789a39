//! End to end: a small flow trained on two moons must reach a held-out NLL
//! that a broken gradient or a broken log-det does not reach.
//!
//! **The setup.** f32; 8 affine couplings, each after an LU map (Mixing::Lu),
//! networks of two hidden layers of 64 tanh units, clamp 1; 2000 moons with
//! noise 0.05 to train on and 2000 fresh ones held out; 800 steps of Adam
//! (lr 3e-3, cosine to 0, batch 256, gradient norm clipped to 10). The main
//! test trains through [`flows::fit`], which also keeps the best model on 500
//! more fresh points; the mutation tests below write the step loop out by hand
//! (with [`Trainer`]'s arithmetic) because their point is a loss that `fit`
//! would never compute. About 5 s in the dev profile. (8 couplings rather than
//! 4 to 6: with 6, one seed in eight ended near 0.84 nats.)
//!
//! **Why the threshold is [`NLL_THRESHOLD`] = 1.0 nat.** For moons(0.05) and
//! 2000 held-out points:
//!
//! - the floor is the true density's entropy, 0.289 nats: no normalized model
//!   scores below it on fresh data (E[−log q] = H(p) + KL(p‖q)), up to the
//!   held-out mean's sampling noise (standard error 0.02: −log q has a spread
//!   of 0.88 nats over the points);
//! - the model at initialization (the first LU map whitens the standardized
//!   data and every other layer is the identity: the full-covariance
//!   Gaussian of the training data) scores 1.882;
//! - correct training reaches 0.444 with the seed used here, and between
//!   0.351 and 0.489 (median 0.40) over seeds 1 to 24
//!   ([`correct_training_across_seeds`]).
//!
//! And broken training, measured by [`broken_training_misses_the_threshold`]
//! (same seed, data, model, optimizer and steps; the loss recorded layer by
//! layer with the mistake; the held-out NLL always with the correct log p):
//!
//! | training | held-out NLL |
//! |---|---|
//! | correct (that loop, equal to [`Trainer`]'s result to 1e-4) | 0.444 |
//! | gradient zeroed (nothing learned) | 1.882 |
//! | every log-det of the flow dropped | 9.23 |
//! | the flow's log-det with the wrong sign | 27.90 |
//! | only the couplings' log-dets dropped | 0.874 |
//!
//! So 1.0 sits 0.5 above the worst correct run of 24 seeds and a factor 2 or
//! more below every gross failure. The last row is the limit of any NLL
//! threshold: with the LU maps' log-dets still in the loss, dropping the
//! couplings' costs 0.43 nats on this seed, less than the margin the
//! threshold needs over the seed-to-seed spread of correct runs. Such
//! partial mistakes are caught exactly by the Jacobian checks of
//! `flows.rs`, not here. The test also checks the floor: a held-out NLL below
//! entropy − 0.05 would mean an unnormalized density, a log-det bug of its
//! own.

use autograd::{clip_grad_norm, Activation, Adam, CosineSchedule, ParamStore, Tape, Tensor, Value};
use flows::data::ToyData;
use flows::model::standard_normal_log_density;
use flows::{
    Batch, Budget, Flow, FlowConfig, FlowKind, FlowModel, Layer, Mixing, Observer, Schedule, Stop,
    TrainConfig, Trainer,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The noise of the moons.
const NOISE: f64 = 0.05;

/// Training points, and held-out points.
const POINTS: usize = 2000;

/// Optimizer steps.
const STEPS: usize = 800;

/// Points `fit` selects the best model on (not the held-out points it is scored on).
const VALIDATION: usize = 500;

/// Points per step.
const BATCH: usize = 256;

/// Adam's peak learning rate, annealed to 0 by a cosine.
const LR: f64 = 3e-3;

/// The gradient norm is clipped to this.
const CLIP: f64 = 10.0;

/// The held-out NLL a correct run must beat (why: see the module docs).
const NLL_THRESHOLD: f64 = 1.0;

/// How far below the entropy the held-out NLL may go: 2.5 standard errors of
/// a 2000-point mean (−log q has a spread of 0.88 nats here, so one standard
/// error is 0.02).
const SAMPLING_SLACK: f64 = 0.05;

/// `n` moons as an f32 tensor.
fn moons(n: usize, rng: &mut StdRng) -> Tensor<f32> {
    let points = ToyData::Moons { noise: NOISE }.sample(n, rng);
    let flat: Vec<f64> = points.iter().flatten().copied().collect();
    Tensor::from_f64(&flat, &[n, 2])
}

/// 8 affine couplings, each after an LU map; networks with two hidden layers
/// of 64 tanh units; clamp 1.
fn config(seed: u64) -> FlowConfig {
    FlowConfig {
        kind: FlowKind::Affine,
        layers: 8,
        hidden: 64,
        depth: 2,
        activation: Activation::Tanh,
        actnorm: false,
        mixing: Mixing::Lu,
        shared_net: false,
        clamp: 1.0,
        bins: 4,
        bound: 3.0,
        seed,
        ..FlowConfig::new(2)
    }
}

/// Training data, held-out data, and a fitted model with its store.
struct Setup {
    train: Tensor<f32>,
    heldout: Tensor<f32>,
    model: FlowModel,
    store: ParamStore<f32>,
    /// Draws the batches.
    rng: StdRng,
}

fn setup(seed: u64) -> Setup {
    let mut rng = StdRng::seed_from_u64(seed);
    let train = moons(POINTS, &mut rng);
    let heldout = moons(POINTS, &mut rng);
    let mut store = ParamStore::new();
    let model = FlowModel::new(config(seed), &mut store).expect("a valid configuration");
    model
        .fit_initialization(&mut store, &train)
        .expect("moons have variance");
    Setup {
        train,
        heldout,
        model,
        store,
        rng,
    }
}

/// A batch of [`BATCH`] training points drawn with replacement.
fn batch(s: &mut Setup) -> Tensor<f32> {
    let idx: Vec<usize> = (0..BATCH).map(|_| s.rng.random_range(0..POINTS)).collect();
    s.train.select_rows(&idx)
}

/// The held-out NLL in nats per point, with the model's own (correct) log p.
fn heldout_nll(s: &Setup) -> f64 {
    s.model.nll(&s.store, &s.heldout).item() as f64
}

/// A held-out NLL below the threshold and not below the entropy of the data:
/// a flow trained by [`flows::fit`] (Adam, cosine schedule, clipping, the
/// best model kept on a validation split) learns the moons. It is scored on
/// fresh points that played no part in the selection. Thresholds and the
/// measurements behind them: module docs.
#[test]
fn a_flow_learns_the_moons() {
    let mut s = setup(1);
    let validation = moons(VALIDATION, &mut s.rng);
    let initial = heldout_nll(&s);
    let config = TrainConfig {
        budget: Budget::Steps(STEPS),
        batch: Batch::Points(BATCH),
        lr: LR,
        schedule: Schedule::Cosine,
        clip: CLIP,
        eval_every: 50,
        weight_decay: 0.0,
        averaging: 0.0,
        input_noise: vec![0.0],
        refit: false,
        seed: 1,
    };
    let fitted = flows::fit(
        &s.model,
        &mut s.store,
        &s.train,
        &validation,
        &config,
        &mut s.rng,
        &mut (),
    )
    .expect("moons have variance");
    assert_eq!(fitted.stop, Stop::Finished, "the loss diverged");
    assert_eq!(fitted.steps_taken(), STEPS, "some steps were skipped");
    assert_eq!(
        fitted.metrics.len(),
        STEPS + 1,
        "one row per step, and row 0"
    );
    s.store = fitted.best;
    let nll = heldout_nll(&s);
    let entropy = ToyData::Moons { noise: NOISE }
        .entropy()
        .expect("the moons' entropy is known");
    println!(
        "held-out NLL: {initial:.3} at the start, {nll:.3} for the model kept at step {} \
         (floor {entropy:.3})",
        fitted.best_step
    );
    assert!(
        nll < NLL_THRESHOLD,
        "held-out NLL {nll:.3} ≥ {NLL_THRESHOLD} (it started at {initial:.3})"
    );
    assert!(
        nll > entropy - SAMPLING_SLACK,
        "held-out NLL {nll:.3} below the entropy {entropy:.3}: the density is not normalized"
    );
}

/// `fit` keeps the best parameters it saw, not the last: the kept model's
/// held-out NLL, recomputed, is the minimum of the measured ones and is
/// recorded at the step `fit` names.
#[test]
fn fit_keeps_the_best_model_it_measured() {
    let mut s = setup(2);
    let validation = moons(VALIDATION, &mut s.rng);
    let config = TrainConfig {
        budget: Budget::Steps(200),
        batch: Batch::Points(BATCH),
        lr: 1e-2,
        schedule: Schedule::Constant,
        eval_every: 20,
        ..TrainConfig::default()
    };
    let fitted = flows::fit(
        &s.model,
        &mut s.store,
        &s.train,
        &validation,
        &config,
        &mut s.rng,
        &mut (),
    )
    .unwrap();
    let measured: Vec<(usize, f64)> = fitted
        .metrics
        .iter()
        .filter_map(|m| m.heldout_nll.map(|h| (m.step, h)))
        .collect();
    assert_eq!(measured.len(), 200 / 20 + 1, "step 0 and every 20th step");
    let (best_step, best) = measured
        .iter()
        .copied()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert_eq!(
        (fitted.best_step, fitted.best_heldout_nll),
        (best_step, best)
    );
    let recomputed = flows::evaluate::mean_nll(&s.model, &fitted.selected, &validation);
    assert_eq!(
        recomputed, best,
        "the selected parameters are the measured ones"
    );
}

/// An observer that asks to stop ends training before the step it is asked
/// at, and the result says so.
#[test]
fn an_observer_can_stop_training() {
    struct StopAt(usize, usize);
    impl Observer for StopAt {
        fn should_stop(&mut self) -> bool {
            self.1 += 1;
            self.1 > self.0
        }
    }
    let mut s = setup(3);
    let validation = moons(VALIDATION, &mut s.rng);
    let config = TrainConfig {
        budget: Budget::Steps(100),
        ..TrainConfig::default()
    };
    let fitted = flows::fit(
        &s.model,
        &mut s.store,
        &s.train,
        &validation,
        &config,
        &mut s.rng,
        &mut StopAt(7, 0),
    )
    .unwrap();
    assert_eq!(fitted.stop, Stop::Interrupted { at_step: 8 });
    assert_eq!(fitted.steps_taken(), 7);
}

/// An observer sees the judged parameters at step 0 and after every step,
/// and looking cannot change the training: the same seed with and without
/// it gives the same metrics and the same kept model, which is the copy
/// the observer saw at the kept step.
#[test]
fn an_observer_sees_the_judged_parameters_without_changing_training() {
    #[derive(Default)]
    struct Keep(Vec<(usize, ParamStore<f32>)>);
    impl Observer for Keep {
        fn on_params<F: autograd::Float>(&mut self, step: usize, params: &ParamStore<F>) {
            self.0.push((step, params.cast::<f32>()));
        }
    }
    // One noise level: one selection run, whose steps are 0..=40.
    let config = TrainConfig {
        budget: Budget::Steps(40),
        eval_every: 10,
        input_noise: vec![0.1],
        ..TrainConfig::default()
    };
    let fit = |observer: &mut Keep, watch: bool| {
        let mut s = setup(5);
        let validation = moons(VALIDATION, &mut s.rng);
        let (model, store, train, rng) = (&s.model, &mut s.store, &s.train, &mut s.rng);
        if watch {
            flows::fit(model, store, train, &validation, &config, rng, observer)
        } else {
            flows::fit(model, store, train, &validation, &config, rng, &mut ())
        }
        .unwrap()
    };
    let mut kept = Keep::default();
    let watched = fit(&mut kept, true);
    let plain = fit(&mut Keep::default(), false);
    assert_eq!(metrics_without_time(&watched), metrics_without_time(&plain));
    assert_eq!(watched.best_step, plain.best_step);
    let steps: Vec<usize> = kept.0.iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, (0..=40).collect::<Vec<_>>());
    let seen = &kept.0[watched.best_step].1;
    for ((_, a), (_, b)) in seen.iter().zip(watched.selected.iter()) {
        assert_eq!(a.value.data(), b.value.data(), "{}", a.name);
    }
}

/// What a training loss leaves out or gets wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Loss {
    /// −mean log p, as `FlowModel::nll`.
    Correct,
    /// The couplings' log-dets left out (the LU maps' and the
    /// standardization's kept).
    NoCouplingLogDet,
    /// Every log-det of the flow left out (the standardization's kept).
    NoFlowLogDet,
    /// The flow's log-det with the wrong sign.
    FlowLogDetNegated,
}

/// −mean of log N(f(x)) + the log-dets `loss` keeps, recorded layer by layer.
fn loss<V: Value<f32>>(model: &FlowModel, store: &ParamStore<f32>, x: &V, loss: Loss) -> V {
    let (mut h, mut logdet) = model.standardize.forward(store, x);
    for layer in &model.flow.layers {
        let (next, ld) = layer.forward(store, &h);
        h = next;
        logdet = match (loss, layer) {
            (Loss::NoCouplingLogDet, Layer::Coupling(_)) | (Loss::NoFlowLogDet, _) => logdet,
            (Loss::FlowLogDetNegated, _) => logdet.sub(&ld),
            _ => logdet.add(&ld),
        };
    }
    standard_normal_log_density(&h).add(&logdet).mean().neg()
}

/// The training loop of [`Trainer::step`], with the loss of `kind` and, if
/// `learn` is false, a zeroed gradient. Returns the held-out NLL.
fn train_with(kind: Loss, learn: bool, seed: u64) -> f64 {
    let mut s = setup(seed);
    let schedule = CosineSchedule::new(LR, 0.0, STEPS);
    let mut adam = Adam::new(LR);
    let mut tape = Tape::new();
    for step in 0..STEPS {
        let b = batch(&mut s);
        tape.reset();
        let x = tape.constant(&b);
        let l = loss(&s.model, &s.store, &x, kind);
        if learn {
            tape.backward_into(l, &mut s.store);
        } else {
            s.store.zero_grads();
        }
        clip_grad_norm(&mut s.store, CLIP);
        adam.lr = schedule.lr(step);
        adam.step(&mut s.store);
    }
    heldout_nll(&s)
}

/// Every grossly broken training misses [`NLL_THRESHOLD`], while the same loop
/// with the correct loss makes it and matches [`Trainer`] to 1e-4 nats (the
/// same arithmetic, the log-dets added in another order). About 30 s: run with
/// `--ignored --nocapture` to see the table of the module docs. The
/// couplings-only mistake is printed, not asserted (see the module docs).
#[test]
#[ignore]
fn broken_training_misses_the_threshold() {
    let correct = train_with(Loss::Correct, true, 1);
    println!("correct (manual loop): {correct:.3}");
    let mut reference = setup(1);
    let mut trainer = Trainer::new(CosineSchedule::new(LR, 0.0, STEPS), CLIP);
    for _ in 0..STEPS {
        let b = batch(&mut reference);
        trainer.step(&reference.model, &mut reference.store, &b);
    }
    let by_trainer = heldout_nll(&reference);
    println!("correct (Trainer): {by_trainer:.3}");
    assert!((correct - by_trainer).abs() < 1e-4);
    assert!(correct < NLL_THRESHOLD);

    let frozen = train_with(Loss::Correct, false, 1);
    println!("no gradient: {frozen:.3}");
    assert!(frozen > NLL_THRESHOLD);
    for kind in [Loss::NoFlowLogDet, Loss::FlowLogDetNegated] {
        let nll = train_with(kind, true, 1);
        println!("{kind:?}: {nll:.3}");
        assert!(nll > NLL_THRESHOLD, "{kind:?} reached {nll:.3}");
    }
    let partial = train_with(Loss::NoCouplingLogDet, true, 1);
    println!("{:?}: {partial:.3}", Loss::NoCouplingLogDet);
}

/// Correct training beats [`NLL_THRESHOLD`] whatever the seed of the data,
/// the initialization and the batches: seeds 1 to 24, about 2 minutes. The
/// reason the threshold is robust to changes that redraw the random numbers.
#[test]
#[ignore]
fn correct_training_across_seeds() {
    let mut results = Vec::new();
    for seed in 1..=24 {
        let nll = train_with(Loss::Correct, true, seed);
        println!("seed {seed}: {nll:.3}");
        results.push(nll);
    }
    let worst = results.iter().cloned().fold(0.0, f64::max);
    println!("worst {worst:.3}");
    assert!(worst < NLL_THRESHOLD);
}

/// A step on a batch cut into shares (one tape per share, each loss weighed
/// by its share of the rows, gradients added up) sees the loss and the
/// gradient of one tape over the whole batch, up to rounding: in f64, within
/// 1e-12 (relative to max(1, |g|)), for 2 and 3 shares of uneven sizes. A
/// share weighed wrongly (1/shares instead of nₖ/n) is off by about 1e-3
/// here. (Parameters after Adam's first step are not compared: Adam turns a
/// gradient that is 0 in exact arithmetic and ±1e-15 after rounding into
/// steps of ±lr·1e-7.)
#[test]
fn a_step_in_shares_sees_the_whole_batch_gradient() {
    let mut rng = StdRng::seed_from_u64(11);
    let flat: Vec<f64> = ToyData::Moons { noise: 0.05 }
        .sample(1001, &mut rng)
        .iter()
        .flatten()
        .copied()
        .collect();
    let x = Tensor::<f64>::from_f64(&flat, &[1001, 2]);
    let run = |shares: usize| {
        let mut store = ParamStore::<f64>::new();
        let model = FlowModel::new(config(3), &mut store).unwrap();
        model.fit_initialization(&mut store, &x).unwrap();
        // Random last layers, so that every gradient is non-trivial.
        let mut noise = StdRng::seed_from_u64(5);
        for p in store.iter_mut() {
            for v in p.value.data_mut().iter_mut().filter(|v| **v == 0.0) {
                *v = noise.random_range(-0.1..0.1);
            }
        }
        let mut trainer = Trainer::new(CosineSchedule::new(1e-2, 1e-2, 100), f64::INFINITY);
        let report = if shares == 1 {
            trainer.step_with(&mut store, |tape, store| {
                model.nll(store, &tape.constant(&x))
            })
        } else {
            trainer.step_in_shares(&model, &mut store, &x, shares)
        };
        let grads: Vec<f64> = store
            .iter()
            .flat_map(|(_, p)| p.grad.data().to_vec())
            .collect();
        (report.nll, grads)
    };
    let (whole_loss, whole) = run(1);
    for shares in [2, 3] {
        let (loss, grads) = run(shares);
        assert!(
            (loss - whole_loss).abs() < 1e-12,
            "{shares} shares: loss {loss} vs {whole_loss}"
        );
        let worst = grads
            .iter()
            .zip(&whole)
            .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-12,
            "{shares} shares: gradients differ by {worst}"
        );
    }
}

/// With `refit`, `fit` trains again from the same start on the training and
/// validation points together, for as many steps as the selected model took,
/// and keeps that model: its standardization is fitted on all the points,
/// and it is trained (far below its own start on them). Without `refit` the
/// kept model is the selected one.
#[test]
fn a_refit_trains_on_all_points_for_the_selected_steps() {
    let mut rng = StdRng::seed_from_u64(3);
    let train = moons(800, &mut rng);
    let validation = moons(200, &mut rng);
    let all = train.concat_rows(&validation);
    let config = FlowConfig {
        kind: FlowKind::Affine,
        layers: 4,
        hidden: 16,
        ..FlowConfig::new(2)
    };
    for refit in [true, false] {
        let training = TrainConfig {
            budget: Budget::Steps(300),
            batch: Batch::Points(200),
            eval_every: 20,
            refit,
            ..TrainConfig::default()
        };
        let mut store = ParamStore::new();
        let model = FlowModel::new(config.clone(), &mut store).unwrap();
        let fitted = flows::fit(
            &model,
            &mut store,
            &train,
            &validation,
            &training,
            &mut rng,
            &mut (),
        )
        .expect("moons have variance");
        assert!(fitted.best_step > 0, "nothing was learned");
        let nll = |store: &ParamStore<f32>| flows::evaluate::mean_nll(&model, store, &all);
        let mean = |store: &ParamStore<f32>| store.value(model.standardize.mean).to_f64_vec();
        let column_means = |x: &Tensor<f32>| flows::stats::column_moments(x).0;
        if refit {
            let done = fitted.refit.expect("a refit after a finished run");
            assert_eq!((done.points, done.steps), (1000, fitted.best_step));
            let mut start = ParamStore::new();
            FlowModel::new(config.clone(), &mut start).unwrap();
            model.fit_initialization(&mut start, &all).unwrap();
            let (kept, untrained) = (nll(&fitted.best), nll(&start));
            assert!(
                kept < untrained - 0.3,
                "refit {kept} vs its start {untrained}"
            );
            for (a, b) in mean(&fitted.best).iter().zip(column_means(&all)) {
                assert!(
                    (a - b).abs() < 1e-6,
                    "standardized on all points: {a} vs {b}"
                );
            }
        } else {
            assert!(fitted.refit.is_none());
            assert_eq!(nll(&fitted.best), nll(&fitted.selected));
        }
        for (a, b) in mean(&fitted.selected).iter().zip(column_means(&train)) {
            assert!(
                (a - b).abs() < 1e-6,
                "selected on the training points: {a} vs {b}"
            );
        }
    }
}

/// Counts the selection runs `fit` announces.
#[derive(Default)]
struct Runs {
    announced: Vec<(usize, usize, f64)>,
}

impl Observer for Runs {
    fn on_selection_run(&mut self, run: usize, runs: usize, noise: f64) {
        self.announced.push((run, runs, noise));
    }
}

/// With two input-noise levels `fit` trains once at each from the same
/// start and keeps the level whose best model the held-out points prefer:
/// noise of 3 standard deviations blurs the moons into a blob, so none must
/// win. The winning run is the one a fit at that level alone makes (the
/// same parameters, bit for bit), and its record is the one returned.
#[test]
fn the_heldout_points_choose_the_input_noise() {
    let config = |input_noise: Vec<f64>| TrainConfig {
        budget: Budget::Steps(150),
        batch: Batch::Points(BATCH),
        lr: 1e-2,
        eval_every: 25,
        input_noise,
        refit: false,
        ..TrainConfig::default()
    };
    let fit_with = |levels: Vec<f64>, observer: &mut Runs| {
        let mut s = setup(7);
        let validation = moons(VALIDATION, &mut s.rng);
        flows::fit(
            &s.model,
            &mut s.store,
            &s.train,
            &validation,
            &config(levels),
            &mut s.rng,
            observer,
        )
        .unwrap()
    };
    let mut runs = Runs::default();
    let both = fit_with(vec![0.0, 3.0], &mut runs);
    assert_eq!(runs.announced, [(0, 2, 0.0), (1, 2, 3.0)]);
    assert_eq!(both.input_noise, 0.0);
    let (clean, blurred) = (both.noise_trials[0], both.noise_trials[1]);
    assert_eq!(clean.0, 0.0);
    assert_eq!(clean.1, both.best_heldout_nll);
    assert!(blurred.1 > clean.1 + 0.2, "{:?}", both.noise_trials);
    assert_eq!(both.steps_run, 300);

    let alone = fit_with(vec![0.0], &mut Runs::default());
    assert_eq!(alone.noise_trials.len(), 1);
    assert_eq!(alone.best_step, both.best_step);
    assert_eq!(metrics_without_time(&alone), metrics_without_time(&both));
    for ((_, a), (_, b)) in alone.selected.iter().zip(both.selected.iter()) {
        assert_eq!(a.value.data(), b.value.data());
    }
}

/// A fit's per-step metrics without their wall times, which no two runs share.
fn metrics_without_time(f: &flows::Fitted<f32>) -> Vec<(usize, f64, Option<f64>)> {
    f.metrics
        .iter()
        .map(|m| (m.step, m.train_nll, m.heldout_nll))
        .collect()
}
