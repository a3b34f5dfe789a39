//! How the engine uses more than one core: the one place that knows.
//!
//! The big ops (matrix products, the dense layer's passes) cut their output
//! into blocks of whole rows and compute the blocks on different threads
//! ([`for_row_blocks`], on `rayon`'s pool). Each output row is computed by the
//! same arithmetic whichever block it lands in, so a result does not depend on
//! the number of threads, to the last bit. gemm itself runs single-threaded
//! inside each block (`matrixmultiply` without its `threading` feature): one
//! pool, one policy.
//!
//! Coarser work can be shared out whole instead: [`map_parts`] runs a few
//! big parts (evaluation chunks; the shares of a training batch in `flows`'
//! `Trainer::step`) on the threads at once, and the ops inside a part then
//! stay on its thread. Each share's result is the same whatever thread runs
//! it; a batch gradient summed over shares rounds differently from one summed
//! in a single pass, so there the number of shares (one per thread) shows in
//! the last bits.
//!
//! Small ops stay on the calling thread: handing work to another core costs a
//! few microseconds, so an op is split only when each block gets at least
//! [`MIN_WORK`] multiply-adds (or element operations) of work.

use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

thread_local! {
    /// Set while this thread runs one part of [`map_parts`]: the work is
    /// already spread over the threads, so its ops do not split again.
    static IN_PART: Cell<bool> = const { Cell::new(false) };
}

/// What [`set_threads`] asked for (0: nothing, use one thread per core).
static REQUESTED: AtomicUsize = AtomicUsize::new(0);

/// The thread count, fixed by the first op that asks for it.
static CHOSEN: OnceLock<usize> = OnceLock::new();

/// The least work worth a block of its own, in multiply-adds: about 100 µs of
/// one core. Waking a sleeping pool thread can take tens of microseconds on a
/// shared machine, so smaller blocks made 2 threads slower than 1 at hidden
/// widths 32 and 64 (BENCHMARKS.md, scaling).
pub const MIN_WORK: usize = 1 << 23;

/// What one element of an element-wise pass costs, in multiply-adds of gemm
/// (gemm keeps its operands in registers; a pass goes through memory).
pub const ELEMENT_COST: usize = 16;

/// The most threads [`set_threads`] accepts: far more than any machine this
/// runs on has cores, and few enough that the OS can always start them.
pub const MAX_THREADS: usize = 1024;

/// Uses `threads` (≥ 1) threads for the ops of this process. Call it before
/// the first op that could run in parallel; afterwards the count cannot change
/// (asking for the same count again is fine), and the call says so with an
/// error.
pub fn set_threads(threads: usize) -> Result<(), String> {
    if threads == 0 {
        return Err("the number of threads must be at least 1".into());
    }
    if threads > MAX_THREADS {
        return Err(format!(
            "at most {MAX_THREADS} threads (each one is an OS thread with its own stack)"
        ));
    }
    match CHOSEN.get() {
        Some(&chosen) if chosen == threads => return Ok(()),
        Some(&chosen) => {
            return Err(format!(
                "set_threads must be called before the first matrix product (this process already uses {chosen})"
            ))
        }
        None => {}
    }
    REQUESTED.store(threads, Ordering::SeqCst);
    Ok(())
}

/// The number of threads ops may use (deciding it on first use).
pub fn thread_count() -> usize {
    *CHOSEN.get_or_init(|| {
        let chosen = match REQUESTED.load(Ordering::SeqCst) {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        if chosen > 1 {
            // Fails only if the program built rayon's global pool itself; its
            // pool is then used, which is still correct.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(chosen - 1)
                .build_global();
        }
        chosen
    })
}

/// Calls `f(first_row, block)` on consecutive blocks of whole rows of `out`
/// (rows of `width` numbers), together covering every row once; the blocks
/// run on different threads when each row costs `work_per_row` and there is
/// enough work to share (see [`MIN_WORK`]).
pub(crate) fn for_row_blocks<F: Send>(
    out: &mut [F],
    width: usize,
    work_per_row: usize,
    f: impl Fn(usize, &mut [F]) + Sync,
) {
    let rows = out.len().checked_div(width).unwrap_or(0);
    let worth = rows.saturating_mul(work_per_row) / MIN_WORK;
    let threads = if IN_PART.get() { 1 } else { thread_count() };
    let blocks = worth.min(rows).min(threads).max(1);
    split(out, 0, rows, width, blocks, &f);
}

/// Cuts `0..rows` into up to one consecutive range per thread, each of at
/// least `min_rows` rows, and returns `f(part, range)` for each, in order.
/// The parts run at the same time, and the ops inside them on their own
/// thread only: coarse parallelism (say, chunks of points to evaluate) with
/// one hand-off per part instead of one per op.
pub fn map_row_ranges<T: Send>(
    rows: usize,
    min_rows: usize,
    f: impl Fn(usize, Range<usize>) -> T + Sync,
) -> Vec<T> {
    let parts = (rows / min_rows.max(1)).min(thread_count()).max(1);
    if parts == 1 {
        // One part: its ops may still split their rows across the threads.
        return vec![f(0, 0..rows)];
    }
    map_parts(parts, |p| f(p, rows * p / parts..rows * (p + 1) / parts))
}

/// `f(0), …, f(parts − 1)`, in order, the parts on different threads when
/// there are several (else one after the other); inside a part, ops stay on
/// its thread.
pub fn map_parts<T: Send>(parts: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let run = |p: usize| {
        let outer = IN_PART.replace(true);
        let result = f(p);
        IN_PART.set(outer);
        result
    };
    if parts <= 1 || thread_count() == 1 {
        return (0..parts).map(run).collect();
    }
    let mut results: Vec<Option<T>> = (0..parts).map(|_| None).collect();
    let (first, others) = results.split_at_mut(1);
    rayon::in_place_scope(|scope| {
        for (i, slot) in others.iter_mut().enumerate() {
            let run = &run;
            scope.spawn(move |_| *slot = Some(run(i + 1)));
        }
        first[0] = Some(run(0));
    });
    results
        .into_iter()
        .map(|r| r.expect("every part ran"))
        .collect()
}

/// Halves `out` (rows `first..first + rows`) until each part is one of `blocks`.
fn split<F: Send>(
    out: &mut [F],
    first: usize,
    rows: usize,
    width: usize,
    blocks: usize,
    f: &(impl Fn(usize, &mut [F]) + Sync),
) {
    if blocks <= 1 {
        return f(first, out);
    }
    let left_blocks = blocks / 2;
    let mid = rows * left_blocks / blocks;
    let (top, bottom) = out.split_at_mut(mid * width);
    // The calling thread computes the top part itself while the pool takes
    // the bottom: no thread sits idle waiting.
    rayon::in_place_scope(|scope| {
        scope.spawn(|_| {
            split(
                bottom,
                first + mid,
                rows - mid,
                width,
                blocks - left_blocks,
                f,
            )
        });
        split(top, first, mid, width, left_blocks, f);
    });
}
