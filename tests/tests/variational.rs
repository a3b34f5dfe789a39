//! Variational inference (`flows::vi`): the sampling direction of the
//! inverse autoregressive flow, the diagnostics on a case with a known
//! answer, closures as targets, and a fit to a Gaussian whose mean and
//! covariance are known.

use autograd::{jacobian, ParamStore, Tensor, Value, Var};
use flows::model::standard_normal;
use flows::target::log_density_values;
use flows::{
    diagnose, fit_variational, ClosureTarget, Direction, Energy, FlowConfig, FlowKind, FlowModel,
    Layer, Mixing, Stop, ViConfig,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A model in the sampling direction of `kind`, `layers` deep, hidden width 16.
fn sampling_model(kind: FlowKind, dim: usize, layers: usize) -> (FlowModel, ParamStore<f64>) {
    let mut store = ParamStore::new();
    let config = FlowConfig {
        kind,
        layers,
        hidden: 16,
        mixing: Mixing::Alternate,
        ..FlowConfig::for_variational(dim)
    };
    let model = FlowModel::new(config, &mut store).expect("a valid configuration");
    (model, store)
}

/// The IAF is the MAF turned around: its sampling map x = g(z) is one MADE
/// pass over z, so ∂x/∂z is lower-triangular in the layer's order (entries
/// above the diagonal exactly 0, those on it not), and the log q it reports
/// is log N(z) − log|det ∂x/∂z| of the central-difference Jacobian.
#[test]
fn iaf_sampling_is_autoregressive_with_the_right_density() {
    let d = 4;
    let (model, mut store) = sampling_model(FlowKind::Maf, d, 1);
    let mut rng = StdRng::seed_from_u64(7);
    for param in store.iter_mut().filter(|p| p.trainable) {
        let noise = standard_normal::<f64, _>(1, param.value.len(), &mut rng);
        for (v, e) in param.value.data_mut().iter_mut().zip(noise.data()) {
            *v += 0.5 * e;
        }
    }
    let [Layer::Reversed(reversed)] = model.flow.layers.as_slice() else {
        panic!("one reversed layer: {:?}", model.flow.layers)
    };
    let Layer::Autoregressive(maf) = reversed.layer.as_ref() else {
        panic!("a MAF inside")
    };
    let order = maf.order();
    let z = standard_normal::<f64, _>(5, d, &mut rng);
    let (_, log_q) = model.sample_with_log_q(&store, &z);
    for i in 0..z.rows() {
        let zi = Tensor::new(z.row(i).to_vec(), &[1, d]);
        let jac = jacobian(|z| model.inverse(&store, z).0, &zi, 1e-5);
        for (a, &r) in order.iter().enumerate() {
            assert_ne!(jac.row(r)[r], 0.0, "diagonal entry {r}");
            for &c in &order[a + 1..] {
                assert_eq!(jac.row(r)[c], 0.0, "∂x_{r}/∂z_{c} above the diagonal");
            }
        }
        let log_det: f64 = order.iter().map(|&k| jac.row(k)[k].abs().ln()).sum();
        let log_n = -0.5 * zi.data().iter().map(|v| v * v).sum::<f64>()
            - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
        let expected = log_n - log_det;
        let got = log_q.data()[i];
        assert!(
            (got - expected).abs() < 1e-7,
            "sample {i}: log q {got} vs {expected}"
        );
    }
}

/// An untrained IAF is the identity (its MADE's output layer starts at 0),
/// so q = N(0, I) exactly; against p̃(x) = exp(−½‖x‖²), whose Z = (2π)^{D/2},
/// every weight p̃/q is Z: the ELBO and the IS estimate are log Z, the ESS
/// is all the samples, and KL = 0, all to rounding.
#[test]
fn diagnostics_are_exact_when_q_is_the_target() {
    let d = 3;
    let (model, store) = sampling_model(FlowKind::Maf, d, 2);
    let target = ClosureTarget::new(d, |x: &Var<f64>| x.square().sum_axis(1, false).scale(-0.5));
    let log_z = 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
    let mut rng = StdRng::seed_from_u64(1);
    let found = diagnose(&model, &store, &target, 10_000, &mut rng);
    assert!(found.kl(log_z).abs() < 1e-12, "{found:?}");
    assert!((found.log_z_is - log_z).abs() < 1e-12, "{found:?}");
    assert!((found.ess_fraction - 1.0).abs() < 1e-9, "{found:?}");
    assert!(found.elbo_se < 1e-12, "{found:?}");
}

/// A closure computing the same log-density as a built-in target trains the
/// same flow, step for step (the closure path and the built-in one record
/// the same numbers on the tape).
#[test]
fn a_closure_target_trains_like_the_built_in_one() {
    let energy = Energy::parse("banana:curvature=0.8,spread=0.6").expect("a valid spec");
    let closure = ClosureTarget::new(2, |x: &Var<f64>| {
        let (z1, z2) = (x.slice_cols(0, 1), x.slice_cols(1, 1));
        let ridge = z1.square().shift(-1.0).scale(0.8);
        let across = z2.sub(&ridge).scale(1.0 / 0.6).square().scale(-0.5);
        z1.square()
            .scale(-0.5)
            .add(&across)
            .reshape(&[x.shape()[0]])
    });
    let points = standard_normal::<f64, _>(50, 2, &mut StdRng::seed_from_u64(3));
    let (a, b) = (
        log_density_values(&energy, &points),
        log_density_values(&closure, &points),
    );
    assert_eq!(a, b, "the two targets differ");
    let config = ViConfig {
        steps: 40,
        eval_every: 20,
        eval_samples: 256,
        ..ViConfig::default()
    };
    let run = |target: &dyn Fn(&mut FlowModel, &mut ParamStore<f64>) -> Vec<f64>| {
        let (mut model, mut store) = sampling_model(FlowKind::Planar, 2, 4);
        target(&mut model, &mut store)
    };
    let with_energy = run(&|model, store| {
        let fitted = fit_variational(model, store, &energy, &config, &mut config.rng(), &mut ())
            .expect("a valid fit");
        fitted.metrics.iter().map(|r| r.loss).collect()
    });
    let with_closure = run(&|model, store| {
        let fitted = fit_variational(model, store, &closure, &config, &mut config.rng(), &mut ())
            .expect("a valid fit");
        fitted.metrics.iter().map(|r| r.loss).collect()
    });
    assert_eq!(with_energy.len(), 41);
    assert_eq!(
        with_energy[1..],
        with_closure[1..],
        "the losses of the two runs differ"
    );
}

/// A fit to a correlated 3-D Gaussian N(m·1, Σ), Σ = s²((1 − ρ)I + ρ11ᵀ),
/// reproduces its mean and covariance: the sample mean and covariance of
/// 40,000 draws of q against the target's, each entry within 5 Monte-Carlo
/// standard errors plus 0.02 for what the fit itself leaves (a fit that
/// missed the correlation would be off by s²ρ = 0.15 per off-diagonal entry).
#[test]
fn a_fit_to_a_gaussian_matches_its_mean_and_covariance() {
    let (d, m, s, rho) = (3, 1.0, 0.5, 0.6);
    let target = Energy::Gaussian {
        dim: d,
        mean: m,
        std: s,
        corr: rho,
    };
    let (model, mut store) = sampling_model(FlowKind::Affine, d, 4);
    let config = ViConfig {
        steps: 1500,
        lr: 5e-3,
        ..ViConfig::default()
    };
    let mut rng = config.rng();
    let fitted =
        fit_variational(&model, &mut store, &target, &config, &mut rng, &mut ()).expect("a fit");
    assert_eq!(fitted.stop, Stop::Finished);
    let n = 40_000;
    let x = model.sample(&store, n, &mut rng);
    let mean: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| x.row(i)[j]).sum::<f64>() / n as f64)
        .collect();
    let var = s * s;
    for (j, &mj) in mean.iter().enumerate() {
        let tol = 5.0 * (var / n as f64).sqrt() + 0.02;
        assert!((mj - m).abs() < tol, "mean {j}: {mj} vs {m} (tol {tol})");
        for k in 0..d {
            let cov = (0..n)
                .map(|i| (x.row(i)[j] - mean[j]) * (x.row(i)[k] - mean[k]))
                .sum::<f64>()
                / (n - 1) as f64;
            let expected = if j == k { var } else { var * rho };
            // Var of a sample covariance: (Σ_jk² + Σ_jj·Σ_kk)/n.
            let se = ((expected * expected + var * var) / n as f64).sqrt();
            let tol = 5.0 * se + 0.02;
            assert!(
                (cov - expected).abs() < tol,
                "cov[{j}][{k}]: {cov} vs {expected} (tol {tol})"
            );
        }
    }
    let found = diagnose(&model, &store, &target, 20_000, &mut rng);
    assert!(found.kl(target.log_z()) < 0.02, "{found:?}");
}

/// Settings no fit could use are refused by name before any step.
#[test]
fn bad_settings_and_mismatched_models_are_refused() {
    let (model, mut store) = sampling_model(FlowKind::Planar, 2, 2);
    let target = Energy::U1;
    let mut rng = StdRng::seed_from_u64(0);
    for (config, field) in [
        (
            ViConfig {
                steps: 0,
                ..ViConfig::default()
            },
            "steps",
        ),
        (
            ViConfig {
                lr: f64::NAN,
                ..ViConfig::default()
            },
            "lr",
        ),
        (
            ViConfig {
                beta_start: 0.0,
                ..ViConfig::default()
            },
            "beta_start",
        ),
        (
            ViConfig {
                anneal: 1.5,
                ..ViConfig::default()
            },
            "anneal",
        ),
    ] {
        let error = fit_variational(&model, &mut store, &target, &config, &mut rng, &mut ())
            .expect_err("refused");
        assert!(error.starts_with(field), "{field}: {error}");
    }
    let three_d = Energy::parse("gaussian:dim=3").expect("a spec");
    let error = fit_variational(
        &model,
        &mut store,
        &three_d,
        &ViConfig::default(),
        &mut rng,
        &mut (),
    )
    .expect_err("refused");
    assert!(error.contains("2 dimensions but the target 3"), "{error}");
    let mut density_store = ParamStore::<f64>::new();
    let density = FlowModel::new(
        FlowConfig {
            direction: Direction::Density,
            ..FlowConfig::for_variational(2)
        },
        &mut density_store,
    )
    .expect("a model");
    let error = fit_variational(
        &density,
        &mut density_store,
        &target,
        &ViConfig::default(),
        &mut rng,
        &mut (),
    )
    .expect_err("refused");
    assert!(error.contains("sampling direction"), "{error}");
}
