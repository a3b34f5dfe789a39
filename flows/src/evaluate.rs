//! Evaluation and sampling in fixed-size chunks: the memory they need depends
//! on [`CHUNK`], never on the number of points. Every row is computed exactly
//! as it would be in one big batch (the layers treat rows independently), so
//! chunking changes no per-point result.
//!
//! The chunks are computed on one [`Tape`] that is rewound for each: the tape
//! keeps its buffers (see `tape.rs`), so after the first chunk nothing is
//! allocated, where plain tensors would allocate (and the system zero) a
//! fresh `[CHUNK, width]` buffer for every op of every chunk. Nothing is ever
//! differentiated: the tape is used only as a pool of buffers.

use crate::model::{standard_normal, FlowModel};
use autograd::{Float, ParamStore, Tape, Tensor};
use rand::Rng;

/// Rows per chunk: large enough that the matrix products stay efficient,
/// small enough that a chunk's intermediates stay in the megabytes.
pub const CHUNK: usize = 4096;

/// The rows of `x` in consecutive chunks of at most [`CHUNK`] (`x` itself,
/// uncopied, when it is one chunk).
pub fn row_chunks<F: Float>(x: &Tensor<F>) -> impl Iterator<Item = Tensor<F>> + '_ {
    (0..x.rows()).step_by(CHUNK).map(move |start| {
        let end = (start + CHUNK).min(x.rows());
        if start == 0 && end == x.rows() {
            x.clone()
        } else {
            x.select_rows(&(start..end).collect::<Vec<_>>())
        }
    })
}

/// log p(x) in nats for every row of `x`, [`CHUNK`] rows at a time.
pub fn log_prob<F: Float>(model: &FlowModel, store: &ParamStore<F>, x: &Tensor<F>) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.rows());
    let mut tape = Tape::new();
    for chunk in row_chunks(x) {
        tape.reset();
        let log_p = model.log_prob(store, &tape.constant(&chunk));
        log_p.with_value(|v| out.extend(v.data().iter().map(|v| v.to_f64())));
    }
    out
}

/// The mean NLL of the rows of `x` in nats per point, summed in f64.
pub fn mean_nll<F: Float>(model: &FlowModel, store: &ParamStore<F>, x: &Tensor<F>) -> f64 {
    let log_p = log_prob(model, store, x);
    -log_p.iter().sum::<f64>() / log_p.len().max(1) as f64
}

/// `n` samples in chunks of at most [`CHUNK`] rows, handed to `emit` as they
/// are made; the draws are the same as those of one call to
/// [`FlowModel::sample`] with the same generator. Stops at the first error
/// `emit` returns.
pub fn sample_chunks<F: Float, R: Rng + ?Sized, E>(
    model: &FlowModel,
    store: &ParamStore<F>,
    n: usize,
    rng: &mut R,
    mut emit: impl FnMut(Tensor<F>) -> Result<(), E>,
) -> Result<(), E> {
    let mut done = 0;
    let mut tape = Tape::new();
    while done < n {
        let size = CHUNK.min(n - done);
        // What FlowModel::sample does, on the rewound tape.
        let z = standard_normal(size, model.dim(), rng);
        tape.reset();
        emit(model.inverse(store, &tape.constant(&z)).0.value())?;
        done += size;
    }
    Ok(())
}
