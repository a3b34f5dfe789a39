//! What the cross-crate property tests in `tests/tests/` share: random
//! choices of a layer's settings and the checks every layer must pass. The
//! tests themselves live in `tests/tests/`.

use autograd::{Activation, Float, ParamStore, Tape, Tensor};
use flows::Flow;
use rand::Rng;

/// Activations of the coupling networks. The Jacobian checks use only smooth
/// ones: a ReLU kink within h of a point would spoil the central difference.
pub fn activation<R: Rng>(rng: &mut R, smooth: bool) -> Activation {
    let all = [
        Activation::Tanh,
        Activation::Softplus,
        Activation::Sigmoid,
        Activation::Relu,
    ];
    let choices = if smooth { &all[..3] } else { &all[..] };
    choices[rng.random_range(0..choices.len())]
}

/// A mask with at least one dimension on each side.
pub fn random_mask<R: Rng>(d: usize, rng: &mut R) -> Vec<bool> {
    loop {
        let mask: Vec<bool> = (0..d).map(|_| rng.random_bool(0.5)).collect();
        if mask.iter().any(|&b| b) && mask.iter().any(|&b| !b) {
            return mask;
        }
    }
}

/// A log-det as one number per sample: shape `[n]` as it is, shape `[]` (a
/// constant Jacobian) broadcast to all `n`. Any other shape is an error.
pub fn per_sample<F: Float>(logdet: &Tensor<F>, n: usize) -> Result<Vec<f64>, String> {
    match logdet.shape() {
        [] => Ok(vec![logdet.item().to_f64(); n]),
        [m] if *m == n => Ok(logdet.to_f64_vec()),
        shape => Err(format!("log-det of shape {shape:?} for {n} samples")),
    }
}

/// `error ≤ tol`, and false for NaN: a NaN is never within tolerance.
pub fn within(error: f64, tol: f64) -> bool {
    error <= tol
}

/// Forward and inverse recorded on a tape give the same outputs and log-dets,
/// bit for bit, as on plain tensors.
pub fn check_tape_matches_tensor<F: Float, L: Flow<F>>(
    flow: &L,
    store: &ParamStore<F>,
    x: &Tensor<F>,
) -> Result<(), String> {
    let tape = Tape::new();
    let xv = tape.constant(x);
    let directions = [
        ("forward", flow.forward(store, x), {
            let (z, ld) = flow.forward(store, &xv);
            (z.value(), ld.value())
        }),
        ("inverse", flow.inverse(store, x), {
            let (z, ld) = flow.inverse(store, &xv);
            (z.value(), ld.value())
        }),
    ];
    for (direction, (plain_out, plain_ld), (taped_out, taped_ld)) in directions {
        if plain_out != taped_out || plain_ld != taped_ld {
            return Err(format!(
                "{}: {direction}: tensor path gives {plain_out:?}, {plain_ld:?}; \
                 tape gives {taped_out:?}, {taped_ld:?}",
                flow.name()
            ));
        }
    }
    Ok(())
}
