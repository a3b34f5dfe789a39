//! How many threads the matrix products may use.
//!
//! The only parallel code in the engine is `matrixmultiply`'s gemm (its
//! `threading` feature). It reads the `MATMUL_NUM_THREADS` environment variable
//! once, at the first product of the process, and uses one thread per physical
//! core when the variable is unset. This module is the one place that knows.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the first matrix product has run: after that the thread count is fixed.
static FIRST_PRODUCT_DONE: AtomicBool = AtomicBool::new(false);

/// Uses `threads` (≥ 1) threads for every matrix product of this process.
/// Call it before the first product; afterwards the count cannot change, and
/// the call says so with an error.
pub fn set_threads(threads: usize) -> Result<(), String> {
    if threads == 0 {
        return Err("the number of threads must be at least 1".into());
    }
    if FIRST_PRODUCT_DONE.load(Ordering::SeqCst) {
        return Err("set_threads must be called before the first matrix product".into());
    }
    // Sound: called before any product, so before matrixmultiply's pool starts
    // (the only reader), from the thread that sets the program up.
    std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    Ok(())
}

/// Marks that a product has run (called by the matmul kernel).
pub(crate) fn note_product() {
    if !FIRST_PRODUCT_DONE.load(Ordering::Relaxed) {
        FIRST_PRODUCT_DONE.store(true, Ordering::Relaxed);
    }
}
