//! A flow with LU mixing starts as the full-covariance Gaussian of its
//! training data: the first LU map whitens what the standardization and
//! ActNorm hand it, and every layer after it starts at the identity on
//! white data. So its untrained log-density is log N(x; μ, S), with μ the
//! data's mean and S its sample covariance: the maximum-likelihood Gaussian.

use autograd::{ParamStore, Tensor};
use flows::stats::{column_moments, covariance};
use flows::{FlowConfig, FlowKind, FlowModel, Mixing};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// `n` points of a correlated 2-D Gaussian (correlation about 0.8, unequal
/// scales, off-centre).
fn correlated(n: usize, rng: &mut StdRng) -> Tensor<f64> {
    let rows: Vec<[f64; 2]> = (0..n)
        .map(|_| {
            let mut normal = || flows::model::standard_normal::<f64, _>(1, 1, rng).item();
            let (a, b) = (normal(), normal());
            [3.0 + 2.0 * a, -1.0 + 0.5 * (0.8 * a + 0.6 * b)]
        })
        .collect();
    Tensor::from_rows(&rows)
}

/// log N(x; μ, Σ) in 2-D, written out: −log 2π − ½ log det Σ − ½ (x−μ)ᵀΣ⁻¹(x−μ).
fn gaussian_log_density(x: &[f64], mean: &[f64], cov: &[f64]) -> f64 {
    let det = cov[0] * cov[3] - cov[1] * cov[2];
    let (u, v) = (x[0] - mean[0], x[1] - mean[1]);
    let quad = (cov[3] * u * u - 2.0 * cov[1] * u * v + cov[0] * v * v) / det;
    -(2.0 * std::f64::consts::PI).ln() - 0.5 * det.ln() - 0.5 * quad
}

#[test]
fn an_untrained_flow_with_lu_mixing_is_the_data_gaussian() {
    let mut rng = StdRng::seed_from_u64(7);
    let train = correlated(2000, &mut rng);
    let fresh = correlated(50, &mut rng);
    let kinds = [FlowKind::Affine, FlowKind::Spline, FlowKind::Maf];
    for (kind, layers, actnorm) in kinds
        .into_iter()
        .flat_map(|k| [(k, 1, true), (k, 3, true), (k, 3, false)])
    {
        let config = FlowConfig {
            kind,
            mixing: Mixing::Lu,
            layers,
            actnorm,
            ..FlowConfig::new(2)
        };
        let mut store = ParamStore::<f64>::new();
        let model = FlowModel::new(config, &mut store).unwrap();
        model.fit_initialization(&mut store, &train).unwrap();
        let (mean, std) = column_moments(&train);
        let cov = covariance(&train);
        let log_p = model.log_prob(&store, &fresh);
        for r in 0..fresh.rows() {
            let expected = gaussian_log_density(fresh.row(r), &mean, &cov);
            let got = log_p.data()[r];
            assert!(
                (got - expected).abs() < 1e-9,
                "{kind:?}, {layers} layers, actnorm {actnorm}, row {r}: {got} vs {expected}"
            );
        }
        // Without the whitening the start is the diagonal Gaussian, which
        // this correlated data tells apart.
        let diagonal = [std[0] * std[0], 0.0, 0.0, std[1] * std[1]];
        let gap = (0..fresh.rows())
            .map(|r| {
                gaussian_log_density(fresh.row(r), &mean, &cov)
                    - gaussian_log_density(fresh.row(r), &mean, &diagonal)
            })
            .sum::<f64>()
            / fresh.rows() as f64;
        assert!(
            gap > 0.3,
            "the full covariance should fit better by far: {gap}"
        );
    }
}
