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
//!
//! With several threads, each takes a share of the chunks on a tape of its
//! own ([`autograd::map_row_ranges`]): one hand-off per share instead of one
//! per op. Rows are independent, so the numbers do not depend on the number
//! of threads.

use crate::model::{standard_normal, FlowModel};
use autograd::{map_row_ranges, thread_count, Float, ParamStore, Tape, Tensor};
use rand::Rng;
use std::ops::Range;
use std::sync::Mutex;

/// Rows per chunk: large enough that the matrix products stay efficient,
/// small enough that a chunk's intermediates stay in the megabytes.
pub const CHUNK: usize = 4096;

/// Rows `rows` of `x` in consecutive chunks of at most [`CHUNK`] (`x` itself,
/// uncopied, when it is one chunk).
pub fn row_chunks<F: Float>(
    x: &Tensor<F>,
    rows: Range<usize>,
) -> impl Iterator<Item = Tensor<F>> + '_ {
    let end = rows.end;
    rows.clone().step_by(CHUNK).map(move |start| {
        let stop = (start + CHUNK).min(end);
        if start == 0 && stop == x.rows() {
            x.clone()
        } else {
            x.select_rows(&(start..stop).collect::<Vec<_>>())
        }
    })
}

/// log p(x) in nats for every row of `x`, [`CHUNK`] rows at a time.
pub fn log_prob<F: Float>(model: &FlowModel, store: &ParamStore<F>, x: &Tensor<F>) -> Vec<f64> {
    let shares = map_row_ranges(x.rows(), CHUNK, |_, rows| {
        let mut out = Vec::with_capacity(rows.len());
        let mut tape = Tape::new();
        for chunk in row_chunks(x, rows) {
            tape.reset();
            let log_p = model.log_prob(store, &tape.constant(&chunk));
            log_p.with_value(|v| out.extend(v.data().iter().map(|v| v.to_f64())));
        }
        out
    });
    shares.concat()
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
    // One round draws a chunk per thread, in order from `rng`, pushes them
    // through f⁻¹ at the same time, then hands them out in order.
    let tapes: Vec<Mutex<Tape<F>>> = (0..thread_count()).map(|_| Mutex::default()).collect();
    let mut done = 0;
    while done < n {
        let size = (CHUNK * tapes.len()).min(n - done);
        let z = standard_normal(size, model.dim(), rng);
        // Parts are chunk numbers: at most one chunk per thread.
        let chunks = map_row_ranges(size.div_ceil(CHUNK), 1, |part, numbers| {
            let mut tape = tapes[part].lock().unwrap_or_else(|e| e.into_inner());
            tape.reset();
            let rows = numbers.start * CHUNK..(numbers.end * CHUNK).min(size);
            let z = z.select_rows(&rows.collect::<Vec<_>>());
            model.inverse(store, &tape.constant(&z)).0.value()
        });
        for chunk in chunks {
            emit(chunk)?;
        }
        done += size;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FlowConfig;
    use rand::SeedableRng;

    /// Chunked (and, with several threads, shared-out) evaluation and sampling
    /// give exactly the numbers of one big batch, in order; no chunk is
    /// larger than CHUNK.
    #[test]
    fn chunks_and_threads_change_no_number() {
        let mut store = ParamStore::<f64>::new();
        let model = FlowModel::new(FlowConfig::new(2), &mut store).unwrap();
        let n = 2 * CHUNK + 1234;
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let x = standard_normal::<f64, _>(n, 2, &mut rng);
        let whole = model.log_prob(&store, &x);
        let chunked = log_prob(&model, &store, &x);
        let expected: Vec<f64> = whole.data().to_vec();
        assert_eq!(chunked, expected);

        let mut sizes = Vec::new();
        let mut joined = Vec::new();
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        sample_chunks(&model, &store, n, &mut rng, |c| {
            sizes.push(c.rows());
            joined.extend_from_slice(c.data());
            Ok::<(), ()>(())
        })
        .unwrap();
        let one_call = model.sample(&store, n, &mut rand::rngs::StdRng::seed_from_u64(9));
        assert_eq!(joined, one_call.data());
        assert!(sizes.iter().all(|&s| s <= CHUNK) && sizes.iter().sum::<usize>() == n);
    }
}
