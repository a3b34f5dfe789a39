//! # Example 05 — sample from a trained flow and score the samples
//!
//! `cargo run -p flows --example 05_sample_and_evaluate`
//!
//! **What it teaches.** What a trained flow is for, and how to tell that its
//! two directions agree. After training the model of example 04 (same data,
//! model and settings), the example:
//!
//! 1. casts the best parameters to f64 (train in f32 for speed, evaluate in
//!    f64, as `cli eval` does) — [`ParamStore::cast`];
//! 2. draws 6000 samples with [`flows::evaluate::sample_chunks`]: z ~ N(0, I)
//!    pushed through f⁻¹, in chunks of at most 4096 rows so memory does not
//!    grow with the number of samples, and checks the chunks are exactly the
//!    draws of one [`FlowModel::sample`] call;
//! 3. scores every sample with [`flows::evaluate::log_prob`] (the forward
//!    direction, log q(x) = log N(f(x)) + log|det ∂f/∂x|) and compares with
//!    the density the sampler itself implies by the change of variables,
//!    log N(z) − log|det ∂f⁻¹/∂z| (f⁻¹ spreads the base density over a
//!    volume |det ∂f⁻¹/∂z| times larger, so the density is that much lower):
//!    two routes through the model, one number;
//! 4. estimates the model's own entropy H(q) = −E_q[log q] as the mean NLL
//!    of its samples, next to the held-out NLL (the cross-entropy
//!    H(p, q) = H(p) + KL(p‖q), what training minimized) and the true
//!    entropy H(p);
//! 5. looks at the samples themselves: the share within 0.2 (4 noise sd) of
//!    a moon's arc, and their mean and spread, against the held-out data.
//!
//! The test at the bottom checks each of these; `cargo test` runs it.
//!
//! **Previous:** `04_train_a_flow.rs`. **Next:** `06_variational_inference.rs`,
//! the flow fitted to a density instead of data. `docs/REPORT.md` has the
//! math of the layers and figures of a full run, `docs/AUTODIFF.md` the
//! engine underneath.

use autograd::{ParamStore, Tensor, Value};
use flows::data::ToyData;
use flows::model::{standard_normal, standard_normal_log_density};
use flows::stats::column_moments;
use flows::{evaluate, fit, Batch, Budget, FlowConfig, FlowModel, TrainConfig};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::convert::Infallible;
use std::fmt;

const NOISE: f64 = 0.05;
const POINTS: usize = 3000;
const HELDOUT: usize = 600;
const SAMPLES: usize = 6000;
const SAMPLE_SEED: u64 = 5;
/// A sample counts as "on the moons" within this distance of an arc (4σ).
const NEAR: f64 = 4.0 * NOISE;

/// Example 04's model, data and training, in brief.
fn train() -> (FlowModel, ParamStore<f32>, Tensor<f32>) {
    let config = TrainConfig {
        budget: Budget::Steps(2000),
        batch: Batch::Points(256),
        // Plain maximum likelihood: no noise regularization, and the
        // held-out points stay held out (the numbers below are theirs).
        input_noise: vec![0.0],
        refit: false,
        ..TrainConfig::default()
    };
    let mut rng = config.rng();
    let points = ToyData::Moons { noise: NOISE }.sample(POINTS, &mut rng);
    let flat: Vec<f64> = points.iter().flatten().copied().collect();
    let all = Tensor::<f32>::from_f64(&flat, &[POINTS, 2]);
    let rows = |r: std::ops::Range<usize>| all.select_rows(&r.collect::<Vec<_>>());
    let (train, heldout) = (rows(0..POINTS - HELDOUT), rows(POINTS - HELDOUT..POINTS));
    let mut store = ParamStore::new();
    let small = FlowConfig {
        layers: 6,
        hidden: 32,
        ..FlowConfig::new(2)
    };
    let model = FlowModel::new(small, &mut store).expect("a valid configuration");
    let fitted = fit(
        &model,
        &mut store,
        &train,
        &heldout,
        &config,
        &mut rng,
        &mut (),
    )
    .expect("moons are valid training data");
    (model, fitted.best, heldout)
}

/// Distance from p to the nearer of the two moons' arcs (the noise-free
/// curves the data are drawn around): the outer arc is the upper half of the
/// unit circle, the inner one the lower half of the unit circle around
/// (1, 0.5).
fn distance_to_moons(p: &[f64]) -> f64 {
    let to_half_circle = |centre: [f64; 2], upper: bool| {
        let d = [p[0] - centre[0], p[1] - centre[1]];
        if (d[1] >= 0.0) == upper {
            (d[0].hypot(d[1]) - 1.0).abs()
        } else {
            // Beyond the arc's ends: the nearer end point (±1, 0) from the centre.
            (d[0] - 1.0).hypot(d[1]).min((d[0] + 1.0).hypot(d[1]))
        }
    };
    to_half_circle([0.0, 0.0], true).min(to_half_circle([1.0, 0.5], false))
}

fn share_near_moons(x: &Tensor<f64>) -> f64 {
    let near = (0..x.rows())
        .filter(|&i| distance_to_moons(x.row(i)) < NEAR)
        .count();
    near as f64 / x.rows() as f64
}

pub struct Report {
    pub chunk_sizes: Vec<usize>,
    /// The chunks, joined, equal the draws of one `FlowModel::sample` call.
    pub chunks_match_one_call: bool,
    pub all_finite: bool,
    /// max |log q(x) by the forward pass − log q(x) by the sampler's z|.
    pub two_routes_difference: f64,
    /// −mean log q over the model's own samples, and its standard error.
    pub model_entropy: f64,
    pub model_entropy_se: f64,
    /// Mean NLL of the held-out points, in f64.
    pub heldout_nll: f64,
    pub true_entropy: f64,
    pub samples_near_moons: f64,
    pub heldout_near_moons: f64,
    /// (mean, sd) per coordinate, of the samples and of the held-out points.
    pub sample_moments: (Vec<f64>, Vec<f64>),
    pub heldout_moments: (Vec<f64>, Vec<f64>),
}

pub fn run() -> Report {
    let (model, best, heldout) = train();
    let store: ParamStore<f64> = best.cast();
    let heldout: Tensor<f64> = heldout.cast();

    // Sampling, in chunks.
    let mut rng = StdRng::seed_from_u64(SAMPLE_SEED);
    let mut chunks = Vec::new();
    evaluate::sample_chunks(&model, &store, SAMPLES, &mut rng, |chunk| {
        chunks.push(chunk);
        Ok::<(), Infallible>(())
    })
    .unwrap_or_else(|never| match never {});
    let chunk_sizes = chunks.iter().map(|c| c.rows()).collect();
    let joined: Vec<f64> = chunks.iter().flat_map(|c| c.data().to_vec()).collect();
    let samples = Tensor::new(joined, &[SAMPLES, 2]);
    let one_call = model.sample(&store, SAMPLES, &mut StdRng::seed_from_u64(SAMPLE_SEED));

    // Scoring, forwards: log q(x) = log N(f(x)) + log|det ∂f/∂x|.
    let log_q = evaluate::log_prob(&model, &store, &samples);
    // The same density from the sampler's side: x = f⁻¹(z) has
    // log q(x) = log N(z) − log|det ∂f⁻¹/∂z|.  (A `+` here is the classic
    // sign slip; this check catches it with an error of 2·|log-det|.)
    let z: Tensor<f64> = standard_normal(SAMPLES, 2, &mut StdRng::seed_from_u64(SAMPLE_SEED));
    let (x, inverse_log_det) = model.inverse(&store, &z);
    let by_sampler = standard_normal_log_density(&z).sub(&inverse_log_det);
    let two_routes_difference = log_q
        .iter()
        .zip(by_sampler.data())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert_eq!(x, samples, "the same z gives the same samples");

    let n = SAMPLES as f64;
    let mean_log_q = log_q.iter().sum::<f64>() / n;
    let var = log_q.iter().map(|l| (l - mean_log_q).powi(2)).sum::<f64>() / (n - 1.0);
    Report {
        chunk_sizes,
        chunks_match_one_call: one_call == samples,
        all_finite: samples.data().iter().all(|v| v.is_finite())
            && log_q.iter().all(|v| v.is_finite()),
        two_routes_difference,
        model_entropy: -mean_log_q,
        model_entropy_se: (var / n).sqrt(),
        heldout_nll: evaluate::mean_nll(&model, &store, &heldout),
        true_entropy: ToyData::Moons { noise: NOISE }
            .entropy()
            .expect("the moons' entropy is known"),
        samples_near_moons: share_near_moons(&samples),
        heldout_near_moons: share_near_moons(&heldout),
        sample_moments: column_moments(&samples),
        heldout_moments: column_moments(&heldout),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "The flow of example 04 (6 affine coupling layers, trained in f32), evaluated in f64\n"
        )?;
        writeln!(
            f,
            "  {SAMPLES} samples in chunks of {:?}; same draws as one sample() call: {}",
            self.chunk_sizes, self.chunks_match_one_call
        )?;
        writeln!(
            f,
            "  every sample and log-density finite: {}",
            self.all_finite
        )?;
        writeln!(
            f,
            "  log q(x) forwards vs log N(z) − log|det ∂f⁻¹/∂z|: largest difference {:.1e}\n",
            self.two_routes_difference
        )?;
        writeln!(
            f,
            "  H(q)     {:.4} ± {:.4} nats/point  mean NLL of the model's own samples",
            self.model_entropy, self.model_entropy_se
        )?;
        writeln!(
            f,
            "  H(p, q)  {:.4}          nats/point  held-out NLL = H(p) + KL(p‖q)",
            self.heldout_nll
        )?;
        writeln!(
            f,
            "  H(p)     {:.4}          nats/point  entropy of the true moons density\n",
            self.true_entropy
        )?;
        writeln!(
            f,
            "  within {NEAR} of a moon's arc: {:.1} % of samples, {:.1} % of held-out points",
            100.0 * self.samples_near_moons,
            100.0 * self.heldout_near_moons
        )?;
        let ((sm, ss), (hm, hs)) = (&self.sample_moments, &self.heldout_moments);
        writeln!(
            f,
            "  mean     samples ({:+.3}, {:+.3})   held-out ({:+.3}, {:+.3})",
            sm[0], sm[1], hm[0], hm[1]
        )?;
        writeln!(
            f,
            "  sd       samples ({:.3}, {:.3})     held-out ({:.3}, {:.3})",
            ss[0], ss[1], hs[0], hs[1]
        )
    }
}

fn main() {
    print!("{}", run());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One training run shared by the tests (it takes a few seconds).
    fn report() -> &'static Report {
        static REPORT: OnceLock<Report> = OnceLock::new();
        REPORT.get_or_init(run)
    }

    #[test]
    fn samples_and_densities_agree() {
        let r = report();
        // Chunks of at most 4096 rows, and the chunking changes no draw.
        assert_eq!(r.chunk_sizes, vec![4096, SAMPLES - 4096]);
        assert!(r.chunks_match_one_call);
        assert!(r.all_finite, "{r}");
        // Both routes compute the same log-density up to the round trip
        // f(f⁻¹(z)) ≈ z, which in f64 is exact to ~1e-13 here.
        assert!(r.two_routes_difference < 1e-9, "{r}");
    }

    #[test]
    fn the_samples_look_like_the_moons() {
        let r = report();
        // The model's entropy near the true one. Measured: 0.09 above it (a
        // small flow spreads a little too wide); its standard error is
        // ~0.01, so the bound of 0.25 is about fit quality, not noise.
        assert!((r.model_entropy - r.true_entropy).abs() < 0.25, "{r}");
        assert!(r.model_entropy_se < 0.05, "{r}");
        // Almost every data point lies within 4σ of an arc; most samples
        // should too (measured: 97.7 %).
        assert!(r.heldout_near_moons > 0.99, "{r}");
        assert!(r.samples_near_moons > 0.85, "{r}");
        // Mean and spread of the samples against 600 held-out points, whose
        // own moments carry a standard error of ~0.03 (measured differences:
        // at most 0.034).
        let ((sm, ss), (hm, hs)) = (&r.sample_moments, &r.heldout_moments);
        for d in 0..2 {
            assert!((sm[d] - hm[d]).abs() < 0.1, "mean {d}: {r}");
            assert!((ss[d] - hs[d]).abs() < 0.1, "sd {d}: {r}");
        }
    }
}
