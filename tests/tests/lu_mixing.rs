//! LU mixing must not make a flow worse: the same small flow, trained on the
//! same data with the same budget, once with alternating masks and once with
//! a trained LU map before every coupling (`Mixing::Lu`), must end with held-out
//! NLLs within [`MARGIN`] of each other or LU ahead.
//!
//! **Why this can fail.** In 2-D, LU mixing adds to a coupling flow only what
//! a linear map can: a rotation, a shear, a scale. Started where alternating
//! masks start (see `lu_start` in `flows/src/model.rs`), the flow with LU maps
//! is at step 0 the same model as the one without, the same networks
//! included, and its maps only add to what that model can express. Started from a random
//! rotation, as Glow starts, each coupling conditions on a random mix of the
//! coordinates: a gamble, which on some draws ends far ahead of alternating
//! masks and on others clearly behind. The seed of this test is one of the
//! latter (the old initialization fails it, by more than twice [`MARGIN`]);
//! [`lu_against_alternate_across_seeds`] shows the starting point at the
//! masks' model doing no worse on any seed of either data set.
//!
//! **The setup.** Two moons (noise 0.05); f32; 4 affine couplings with
//! networks of two hidden layers of 32 tanh units, ActNorm; 1000 training
//! points, 500 for model selection, 2000 fresh held-out points; 500 steps of
//! Adam (lr 3e-3, cosine, batches of 256) through `flows::fit`. A short
//! training, so the test takes a few seconds in the dev profile.

use autograd::{Activation, ParamStore, Tensor};
use flows::data::ToyData;
use flows::{Batch, Budget, FlowConfig, FlowKind, FlowModel, Mixing, Schedule, TrainConfig};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// How much worse (nats per point) LU mixing may end than alternating masks:
/// room for two correct trainings to differ, well below what the
/// random-rotation start lost on this seed.
const MARGIN: f64 = 0.05;

const TRAIN: usize = 1000;
const VALIDATION: usize = 500;
const HELDOUT: usize = 2000;
const STEPS: usize = 500;

fn points(data: ToyData, n: usize, rng: &mut StdRng) -> Tensor<f32> {
    let flat: Vec<f64> = data.sample(n, rng).iter().flatten().copied().collect();
    Tensor::from_f64(&flat, &[n, 2])
}

/// The held-out NLL of the flow with `mixing` after training on data drawn
/// with `seed` (the same data, initial networks and batches for every mixing).
fn heldout_nll(data: ToyData, mixing: Mixing, seed: u64) -> f64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let train = points(data, TRAIN, &mut rng);
    let validation = points(data, VALIDATION, &mut rng);
    let heldout = points(data, HELDOUT, &mut rng);
    let config = FlowConfig {
        kind: FlowKind::Affine,
        layers: 4,
        hidden: 32,
        depth: 2,
        activation: Activation::Tanh,
        actnorm: true,
        mixing,
        seed,
        ..FlowConfig::new(2)
    };
    let mut store = ParamStore::new();
    let model = FlowModel::new(config, &mut store).expect("a valid configuration");
    let training = TrainConfig {
        budget: Budget::Steps(STEPS),
        batch: Batch::Points(256),
        lr: 3e-3,
        schedule: Schedule::Cosine,
        eval_every: 25,
        averaging: 0.0,
        seed,
        ..TrainConfig::default()
    };
    let fitted = flows::fit(
        &model,
        &mut store,
        &train,
        &validation,
        &training,
        &mut rng,
        &mut (),
    )
    .expect("the data has variance");
    flows::evaluate::mean_nll(&model, &fitted.best, &heldout)
}

/// The seed of the data, the networks and the batches.
const SEED: u64 = 4;

#[test]
fn lu_mixing_is_not_worse_than_alternating_masks() {
    let data = ToyData::Moons { noise: 0.05 };
    let alternate = heldout_nll(data, Mixing::Alternate, SEED);
    let lu = heldout_nll(data, Mixing::Lu, SEED);
    println!("held-out NLL: alternating masks {alternate:.4}, LU mixing {lu:.4}");
    assert!(
        lu < alternate + MARGIN,
        "LU mixing ended at {lu:.4} nats, more than {MARGIN} above alternating masks' {alternate:.4}"
    );
}

/// The comparison over seeds and data sets (run with `--ignored --nocapture`):
/// the evidence behind [`MARGIN`] and the seed of the test.
#[test]
#[ignore]
fn lu_against_alternate_across_seeds() {
    for data in [ToyData::Sine, ToyData::Moons { noise: 0.05 }] {
        for seed in 1..=4 {
            let alternate = heldout_nll(data, Mixing::Alternate, seed);
            let lu = heldout_nll(data, Mixing::Lu, seed);
            println!(
                "{} seed {seed}: alternate {alternate:.4}, LU {lu:.4}, LU − alternate {:+.4}",
                data.name(),
                lu - alternate
            );
        }
    }
}
